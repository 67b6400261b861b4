// The envelope pool gives memory back: after a burst (a broadcast storm) is freed, the page
// blocks it needed are returned to the OS, except a small reserve kept for the next burst.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "envelope_pool.hpp"
#include "quay/actors/detail/envelope.hpp"

namespace {

using quay::detail::envelope;
using quay::detail::envelope_pool_blocks;
using quay::detail::envelope_pool_idle_reserve;
using quay::detail::free_envelope;
using quay::detail::make_envelope;

struct small_msg {
  std::uint64_t v = 0;
};
struct large_msg {
  std::array<std::uint64_t, 6> v{};
};

// Envelopes per 2 MiB block are about 32k (small) and 16k (large): a storm of this size needs
// a dozen blocks of each class.
constexpr std::size_t storm = 200'000;

TEST(envelope_pool, a_storm_allocated_on_one_thread_and_freed_on_another_returns_its_blocks) {
  const std::size_t before = envelope_pool_blocks();
  std::vector<envelope*> small(storm);
  std::vector<envelope*> large(storm);
  std::thread([&] {
    for (std::size_t i = 0; i < storm; ++i) {
      small[i] = make_envelope(small_msg{i});
      large[i] = make_envelope(large_msg{});
    }
  }).join();
  const std::size_t peak = envelope_pool_blocks();
  EXPECT_GE(peak, before + 12);
  std::thread([&] {
    for (std::size_t i = 0; i < storm; ++i) {
      free_envelope(small[i]);
      free_envelope(large[i]);
    }
  }).join();
  // Both threads have exited, so their caches went back to the depots too: every block of the
  // storm is idle, and all but the reserve and the block being carved (per class) are gone.
  EXPECT_LE(envelope_pool_blocks(), before + 2 * (envelope_pool_idle_reserve + 1));
}

TEST(envelope_pool, every_storm_on_a_running_thread_gives_back_what_it_grew_by) {
  for (int round = 0; round < 3; ++round) {
    std::vector<envelope*> v(storm);
    for (auto& e : v) {
      e = make_envelope(small_msg{});
    }
    const std::size_t peak = envelope_pool_blocks();
    for (auto* e : v) {
      free_envelope(e);
    }
    // The storm filled at least storm / 32768 blocks. Freed on this (still running) thread, whose
    // cache keeps the last few hundred freed (from the block being carved): all the others but
    // the reserve go back.
    const std::size_t filled = storm / 32'768;
    EXPECT_GE(peak - envelope_pool_blocks(), filled - envelope_pool_idle_reserve - 1)
        << "round " << round;
  }
}

}  // namespace
