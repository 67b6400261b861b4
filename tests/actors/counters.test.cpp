// Per-actor counters readable at runtime: handled, depth, time in mailbox, time in handlers.

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_ref;
using quay::testing::actor_fixture;

struct spin {
  std::chrono::microseconds for_how_long;
};

class spinner final : public quay::actor {
 public:
  static void define(quay::handlers<spinner>& h) { h.on<&spinner::on_spin>(); }

 private:
  void on_spin(spin& s) {
    const auto until = std::chrono::steady_clock::now() + s.for_how_long;
    while (std::chrono::steady_clock::now() < until) {
    }
  }
};

TEST(counters, depth_counts_waiting_messages_and_handled_counts_finished_ones) {
  actor_fixture f;
  const actor_ref a = f.spawn<spinner>();
  f.run();
  EXPECT_EQ(f.sys.counters(a)->handled, 1u);  // the start turn
  for (int i = 0; i < 5; ++i) {
    f.send(a, spin{0us});
  }
  EXPECT_EQ(f.sys.counters(a)->depth, 5u);
  EXPECT_EQ(f.sys.mailbox_depth(a), 5u);
  ASSERT_TRUE(f.step());
  ASSERT_TRUE(f.step());
  EXPECT_EQ(f.sys.counters(a)->depth, 3u);
  f.run();
  const auto c = *f.sys.counters(a);
  EXPECT_EQ(c.depth, 0u);
  EXPECT_EQ(c.handled, 6u);
}

TEST(counters, time_in_handlers_and_in_the_mailbox_are_measured) {
  actor_fixture f;  // deterministic options time every message
  const actor_ref a = f.spawn<spinner>();
  f.run();
  f.send(a, spin{2000us});
  f.send(a, spin{2000us});  // waits in the mailbox while the first one spins
  f.run();
  const auto c = *f.sys.counters(a);
  EXPECT_EQ(c.sampled, 3u);
  EXPECT_GE(c.handler_time, 4ms);
  EXPECT_GE(c.mailbox_wait, 2ms);
  EXPECT_GE(c.mean_handler_time(), 1ms);
}

TEST(counters, counters_of_a_dead_actor_are_not_available) {
  actor_fixture f;
  const actor_ref a = f.spawn<spinner>();
  f.sys.stop(a);
  f.run();
  EXPECT_FALSE(f.sys.counters(a));
  EXPECT_FALSE(f.sys.mailbox_depth(a));
}

}  // namespace
