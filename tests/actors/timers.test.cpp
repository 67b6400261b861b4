// Timers on the manual port: after (once), every, cancel, and timers dying with their actor.

#include <gtest/gtest.h>

#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_ref;
using quay::testing::actor_fixture;

struct tick {
  int n;
};
struct arm_once {
  quay::millis delay;
  int n;
};
struct arm_every {
  quay::millis period;
  int n;
};
struct cancel_all {};
struct arm_cancel {
  quay::millis delay;
};

class clock_user final : public quay::actor {
 public:
  explicit clock_user(std::vector<int>* ticks) : ticks_(ticks) {}
  static void define(quay::handlers<clock_user>& h) {
    h.on<&clock_user::on_tick>()
        .on<&clock_user::on_once>()
        .on<&clock_user::on_every>()
        .on<&clock_user::on_cancel>()
        .on<&clock_user::on_arm_cancel>();
  }

 private:
  void on_tick(tick& t) {
    EXPECT_FALSE(sender());  // timer messages have no sender
    ticks_->push_back(t.n);
  }
  void on_once(arm_once& a) { handles_.push_back(after(a.delay, tick{a.n})); }
  void on_every(arm_every& a) { handles_.push_back(every(a.period, tick{a.n})); }
  void on_arm_cancel(arm_cancel& a) { after(a.delay, cancel_all{}); }
  void on_cancel(cancel_all&) {
    for (auto h : handles_) {
      cancel_timer(h);
    }
    handles_.clear();
  }
  std::vector<int>* ticks_;
  std::vector<quay::timer_handle> handles_;
};

TEST(timers, an_after_timer_delivers_its_message_once_when_due) {
  actor_fixture f;
  std::vector<int> ticks;
  const actor_ref a = f.spawn<clock_user>(&ticks);
  f.send(a, arm_once{100ms, 1});
  f.run();
  f.advance(99ms);
  EXPECT_TRUE(ticks.empty());
  f.advance(1ms);
  EXPECT_EQ(ticks, std::vector<int>{1});
  f.advance(1000ms);
  EXPECT_EQ(ticks, std::vector<int>{1});
  EXPECT_EQ(f.port.pending_timers(), 0u);
}

TEST(timers, an_every_timer_delivers_each_period_until_cancelled) {
  actor_fixture f;
  std::vector<int> ticks;
  const actor_ref a = f.spawn<clock_user>(&ticks);
  f.send(a, arm_every{10ms, 7});
  f.run();
  for (int i = 0; i < 5; ++i) {
    f.advance(10ms);
  }
  EXPECT_EQ(ticks, std::vector<int>(5, 7));
  f.send(a, cancel_all{});
  f.run();
  f.advance(100ms);
  EXPECT_EQ(ticks.size(), 5u);
  EXPECT_EQ(f.port.pending_timers(), 0u);
}

TEST(timers, one_fixture_advance_over_several_periods_coalesces_a_repeating_timer) {
  actor_fixture f;
  std::vector<int> ticks;
  const actor_ref a = f.spawn<clock_user>(&ticks);
  f.send(a, arm_every{100ms, 3});
  f.run();
  // Documented in testing.hpp: a jump over three periods delivers twice (the first deadline,
  // then once more at the new time, where the re-arm is clamped), never three times...
  f.advance(350ms);
  EXPECT_EQ(ticks.size(), 2u);
  f.advance(99ms);  // ...and the next one is one period after the jump (t = 450 ms)
  EXPECT_EQ(ticks.size(), 2u);
  f.advance(1ms);
  EXPECT_EQ(ticks.size(), 3u);
  f.advance_by(100ms, 4);  // one period at a time: one delivery each
  EXPECT_EQ(ticks.size(), 7u);
}

TEST(timers, a_cancelled_timer_whose_message_is_already_queued_is_not_delivered) {
  actor_fixture f;
  std::vector<int> ticks;
  const actor_ref a = f.spawn<clock_user>(&ticks);
  f.send(a, arm_cancel{9ms});  // a timer message that cancels the tick...
  f.send(a, arm_once{10ms, 1});
  f.run();
  // ...both expire in one advance: the tick is queued behind cancel_all in the mailbox.
  f.port.advance(10ms);
  f.run();
  EXPECT_TRUE(ticks.empty());
  EXPECT_EQ(f.port.pending_timers(), 0u);
}

TEST(timers, timers_die_with_their_actor) {
  actor_fixture f;
  std::vector<int> ticks;
  const actor_ref a = f.spawn<clock_user>(&ticks);
  f.send(a, arm_every{10ms, 1});
  f.send(a, arm_once{50ms, 2});
  f.run();
  EXPECT_EQ(f.port.pending_timers(), 2u);
  f.sys.stop(a);
  f.run();
  EXPECT_EQ(f.port.pending_timers(), 0u);
  f.advance(100ms);
  EXPECT_TRUE(ticks.empty());
  EXPECT_EQ(f.sys.dead_letters(), 0u);  // an own timer is not a dead letter
}

TEST(timers, several_timers_fire_in_deadline_order) {
  actor_fixture f;
  std::vector<int> ticks;
  const actor_ref a = f.spawn<clock_user>(&ticks);
  f.send(a, arm_once{30ms, 3});
  f.send(a, arm_once{10ms, 1});
  f.send(a, arm_once{20ms, 2});
  f.run();
  f.advance(30ms);
  EXPECT_EQ(ticks, (std::vector<int>{1, 2, 3}));
}

}  // namespace
