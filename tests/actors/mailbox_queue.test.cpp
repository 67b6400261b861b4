// The intrusive MPSC mailbox queue, single-threaded behaviour (the concurrent behaviour is in
// tests/stress/mailbox_queue.stress.test.cpp).

#include <gtest/gtest.h>

#include <vector>

#include "mailbox_queue.hpp"

namespace {

struct item : quay::detail::mpsc_node {
  int v = 0;
};

TEST(mailbox_queue, an_empty_queue_pops_nothing) {
  quay::detail::mailbox_queue q;
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(mailbox_queue, nodes_come_out_in_the_order_pushed) {
  quay::detail::mailbox_queue q;
  std::vector<item> items(10);
  for (int i = 0; i < 10; ++i) {
    items[static_cast<std::size_t>(i)].v = i;
    q.push(&items[static_cast<std::size_t>(i)]);
  }
  for (int i = 0; i < 10; ++i) {
    auto* n = static_cast<item*>(q.pop());
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->v, i);
  }
  EXPECT_EQ(q.pop(), nullptr);
}

TEST(mailbox_queue, the_queue_can_be_emptied_and_refilled_many_times) {
  quay::detail::mailbox_queue q;
  std::vector<item> items(3);
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) {
      items[static_cast<std::size_t>(i)].v = round * 3 + i;
      q.push(&items[static_cast<std::size_t>(i)]);
    }
    for (int i = 0; i < 3; ++i) {
      auto* n = static_cast<item*>(q.pop());
      ASSERT_NE(n, nullptr);
      EXPECT_EQ(n->v, round * 3 + i);
    }
    EXPECT_EQ(q.pop(), nullptr);
  }
}

TEST(mailbox_queue, interleaved_pushes_and_pops_keep_fifo_order) {
  quay::detail::mailbox_queue q;
  std::vector<item> items(1000);
  int pushed = 0;
  int popped = 0;
  while (popped < 1000) {
    for (int k = 0; k < 3 && pushed < 1000; ++k) {
      items[static_cast<std::size_t>(pushed)].v = pushed;
      q.push(&items[static_cast<std::size_t>(pushed)]);
      ++pushed;
    }
    auto* n = static_cast<item*>(q.pop());
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->v, popped);
    ++popped;
  }
}

}  // namespace
