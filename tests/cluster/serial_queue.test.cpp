// serial_queue (cluster/src/serial_inbox.hpp): the one-at-a-time, in-order hand-off from a
// transport's thread to handlers on a multi-worker port. Stress; run under TSan too.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cluster_test_support.hpp"
#include "quay/runtime/io_port.hpp"
#include "serial_inbox.hpp"
#include "stress_scale.hpp"

namespace qd = quay::cluster::detail;
using namespace std::chrono_literals;

TEST(serial_queue, items_pushed_by_one_thread_reach_the_handler_in_order_and_never_overlapping) {
  quay::test::signal_board board;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::uint64_t expected = 0;  // touched only by the handler (serialised by the queue)
  std::atomic<bool> in_order{true};
  std::atomic<std::uint64_t> handled{0};
  const std::uint64_t n = quay::test::scaled(200'000);
  {
    quay::io_port port({.workers = 3});
    auto q = std::make_shared<qd::serial_queue<std::uint64_t>>(
        port,
        [&](std::uint64_t&& v) {
          if (inside.fetch_add(1) != 0) overlapped = true;
          if (v != expected) in_order = false;
          expected = v + 1;
          inside.fetch_sub(1);
          if (handled.fetch_add(1) + 1 == n) board.update([] {});
        },
        n);
    std::thread producer([&] {
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_TRUE(q->push(std::uint64_t{i}));
    });
    producer.join();
    ASSERT_TRUE(board.poll([&] { return handled.load() == n; }, 20s)) << handled.load();
    q->close();
  }
  EXPECT_FALSE(overlapped.load());
  EXPECT_TRUE(in_order.load());
}

TEST(serial_queue, a_full_queue_refuses_and_a_closed_one_refuses_and_runs_nothing_more) {
  quay::test::signal_board board;
  std::atomic<int> ran{0};
  quay::io_port port({.workers = 2});
  std::atomic<bool> gate{false}, entered{false};
  auto q = std::make_shared<qd::serial_queue<int>>(
      port,
      [&](int&&) {
        entered = true;
        board.poll([&] { return gate.load(); }, 5s);  // hold the first item until told
        ++ran;
      },
      3);
  EXPECT_TRUE(q->push(1));
  ASSERT_TRUE(board.poll([&] { return entered.load(); }, 5s));
  // The first is in the handler: exactly 3 more fit behind it.
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += q->push(2) ? 1 : 0;
  EXPECT_EQ(accepted, 3);
  q->close();
  EXPECT_FALSE(q->push(3));
  gate = true;
  ASSERT_TRUE(board.poll([&] { return ran.load() >= 1; }, 5s));
  board.poll([] { return false; }, 50ms);
  EXPECT_LE(ran.load(), 1);  // nothing queued behind the running one ran after close
  port.stop();
}
