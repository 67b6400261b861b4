// Stress of quay::small_mutex (quay/runtime/small_mutex.hpp): mutual exclusion and no lost
// wake-ups. Threads outnumber the cores, so holders are preempted while others wait and the
// contended path (sleep, wake one) is taken constantly. A broken exclusion shows as a lost
// increment or an overlap seen by the holder check (and as a data race under TSan); a lost
// wake-up as a thread that never finishes, caught by the deadline instead of a hang.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "quay/runtime/small_mutex.hpp"
#include "stress_scale.hpp"

namespace quay {
namespace {

TEST(small_mutex, excludes_and_never_loses_a_wake_up_under_contention) {
  constexpr int threads = 8;
  // Not scaled below 50,000 under Wine: the lock makes no port calls, and a lost wake-up
  // needs many contended hand-overs to show.
  const auto per_thread =
      static_cast<std::uint64_t>(std::max<std::size_t>(test::scaled(200'000), 50'000));
  small_mutex mu;
  std::uint64_t counter = 0;  // plain: only the mutex protects it
  int inside = 0;             // holders at once; must never exceed one
  std::atomic<int> overlaps{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        std::lock_guard lock(mu);
        if (++inside != 1) overlaps.fetch_add(1, std::memory_order_relaxed);
        ++counter;
        // Now and then hold the lock across a yield, so waiters go to sleep in the kernel.
        if ((i + static_cast<std::uint64_t>(t)) % 1024 == 0) std::this_thread::yield();
        --inside;
      }
      finished.fetch_add(1, std::memory_order_release);
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (finished.load(std::memory_order_acquire) < threads &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(finished.load(), threads) << "a waiter was never woken (lost wake-up)";
  for (auto& th : pool) th.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(counter, per_thread * threads);
}

TEST(small_mutex, try_lock_fails_while_held_and_succeeds_once_free) {
  small_mutex mu;
  ASSERT_TRUE(mu.try_lock());
  std::thread other([&] { EXPECT_FALSE(mu.try_lock()); });
  other.join();
  mu.unlock();
  std::thread again([&] {
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
  });
  again.join();
}

}  // namespace
}  // namespace quay
