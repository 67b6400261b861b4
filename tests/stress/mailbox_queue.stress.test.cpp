// The mailbox queue under contention: many producer threads, one consumer; every node arrives
// exactly once and each producer's nodes arrive in the order pushed.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "mailbox_queue.hpp"
#include "stress_scale.hpp"

namespace {

struct item : quay::detail::mpsc_node {
  std::uint32_t producer = 0;
  std::uint64_t seq = 0;
};

TEST(mailbox_queue_stress, many_producers_one_consumer_keep_per_producer_fifo) {
  constexpr std::uint32_t producers = 6;
  const std::uint64_t per_producer = quay::test::scaled(200'000);
  std::vector<std::unique_ptr<item[]>> items;
  for (std::uint32_t p = 0; p < producers; ++p) {
    items.push_back(std::make_unique<item[]>(per_producer));
  }
  quay::detail::mailbox_queue q;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load()) {
      }
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        items[p][i].producer = p;
        items[p][i].seq = i;
        q.push(&items[p][i]);
      }
    });
  }
  go.store(true);
  std::vector<std::uint64_t> next(producers, 0);
  std::uint64_t got = 0;
  std::uint64_t violations = 0;
  std::uint64_t not_ready = 0;
  const std::uint64_t total = per_producer * producers;
  while (got < total) {
    auto* n = static_cast<item*>(q.pop());
    if (n == nullptr) {
      ++not_ready;  // empty, or a producer between its exchange and its link
      continue;
    }
    violations += n->seq != next[n->producer] ? 1 : 0;
    next[n->producer] = n->seq + 1;
    ++got;
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(violations, 0u);
  EXPECT_EQ(q.pop(), nullptr);
  for (std::uint32_t p = 0; p < producers; ++p) {
    EXPECT_EQ(next[p], per_producer);
  }
}

}  // namespace
