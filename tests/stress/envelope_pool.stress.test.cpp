// The envelope pool under contention: envelopes of both classes are allocated on one thread and
// freed on another, in bursts large enough to carve fresh page blocks, by threads that exit and
// hand their caches back. An envelope handed out twice while in use would be written by two
// threads at once (a ThreadSanitizer report), corrupt a payload, or break a mailbox chain (a
// lost or repeated sequence number).

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "mailbox_queue.hpp"
#include "quay/actors/detail/envelope.hpp"
#include "stress_scale.hpp"

namespace {

using quay::detail::envelope;

// Small class: the source thread and the sequence number packed in 8 bytes.
struct small_msg {
  std::uint64_t word = 0;
};
// Large class: the same, plus a pattern derived from them.
struct large_msg {
  std::uint32_t from = 0;
  std::uint64_t seq = 0;
  std::array<std::uint64_t, 5> pattern{};
};
static_assert(envelope::fits_small<small_msg> && envelope::needs_large<large_msg>);

std::uint64_t pattern_word(std::uint32_t from, std::uint64_t seq, std::size_t i) {
  return (seq * 0x9e3779b97f4a7c15ull) ^ (std::uint64_t{from} << 40) ^ i;
}

envelope* make(std::uint32_t from, std::uint64_t seq) {
  if (seq % 3 == 0) {
    large_msg m;
    m.from = from;
    m.seq = seq;
    for (std::size_t i = 0; i < m.pattern.size(); ++i) m.pattern[i] = pattern_word(from, seq, i);
    return quay::detail::make_envelope(m);
  }
  return quay::detail::make_envelope(small_msg{(std::uint64_t{from} << 48) | seq});
}

// Checks `e` is message `seq` from `from`, then frees it. Returns false on any mismatch.
bool check_and_free(envelope* e, std::uint32_t from, std::uint64_t seq) {
  bool ok = true;
  if (seq % 3 == 0) {
    ok = e->ops->type_id == quay::detail::message_type_id<large_msg>() &&
         (e->flags & quay::detail::flag_large) != 0;
    if (ok) {
      const large_msg& m = e->get<large_msg>();
      ok = m.from == from && m.seq == seq;
      for (std::size_t i = 0; ok && i < m.pattern.size(); ++i) {
        ok = m.pattern[i] == pattern_word(from, seq, i);
      }
    }
  } else {
    ok = e->ops->type_id == quay::detail::message_type_id<small_msg>() &&
         (e->flags & quay::detail::flag_large) == 0 &&
         e->get<small_msg>().word == ((std::uint64_t{from} << 48) | seq);
  }
  quay::detail::free_envelope(e);
  return ok;
}

// One round: `threads` threads in a ring; each sends `per_thread` envelopes to the next one in
// bursts, draining its own inbox between bursts. Returns the number of mismatches.
std::uint64_t run_ring(std::uint32_t threads, std::uint64_t per_thread) {
  std::vector<std::unique_ptr<quay::detail::mailbox_queue>> inbox;
  for (std::uint32_t t = 0; t < threads; ++t) {
    inbox.push_back(std::make_unique<quay::detail::mailbox_queue>());
  }
  std::atomic<std::uint64_t> bad{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (std::uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!go.load()) {
      }
      const std::uint32_t from = (t + threads - 1) % threads;
      quay::detail::mailbox_queue& out = *inbox[(t + 1) % threads];
      quay::detail::mailbox_queue& in = *inbox[t];
      std::uint64_t sent = 0;
      std::uint64_t expect = 0;
      std::uint64_t burst = 1 + t * 97;
      auto drain = [&] {
        while (auto* n = in.pop()) {
          if (!check_and_free(static_cast<envelope*>(n), from, expect)) bad.fetch_add(1);
          ++expect;
        }
      };
      while (sent < per_thread) {
        // Bursts from 1 to ~20,000: long ones outrun the caches and the depot and carve blocks.
        burst = (burst * 7919 + 13) % 20011 + 1;
        for (std::uint64_t i = 0; i < burst && sent < per_thread; ++i) out.push(make(t, sent++));
        drain();
      }
      // The sender of our inbox may still be sending: wait for all of it, with a deadline (an
      // envelope handed out twice can break the chain and lose the rest).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (expect < per_thread) {
        drain();
        if (std::chrono::steady_clock::now() > deadline) {
          bad.fetch_add(per_thread - expect);
          break;
        }
        std::this_thread::yield();
      }
    });
  }
  go.store(true);
  for (auto& th : pool) th.join();
  return bad.load();
}

TEST(envelope_pool_stress,
     envelopes_freed_on_other_threads_are_never_handed_out_twice_while_in_use) {
  const std::uint64_t per_thread = quay::test::scaled(300'000);
  // Several rounds of fresh threads: the caches of exited threads go back to the depot and the
  // next round's threads take them from there.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(run_ring(4, per_thread), 0u) << "round " << round;
  }
}

}  // namespace
