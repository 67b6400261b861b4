// Overload handling: bounded mailboxes (reject, drop oldest), the control lane that bounds never
// evict, the doubling mailbox warning, and the drain notification for backpressure.

#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>

#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/detail/drain_notification.hpp"
#include "quay/actors/testing.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_errc;
using quay::actor_ref;
using quay::overflow_policy;
using quay::testing::actor_fixture;

struct item {
  int n;
};
struct tick {};
struct question {
  using reply_type = int;
};

class bounded final : public quay::actor {
 public:
  bounded(std::vector<int>* got, std::uint32_t cap, overflow_policy p) : got_(got) {
    set_mailbox_bound(cap, p);
  }
  static void define(quay::handlers<bounded>& h) {
    h.on<&bounded::on_item>().on<&bounded::on_tick>().on<&bounded::on_question>();
  }

 private:
  void on_item(item& i) { got_->push_back(i.n); }
  void on_tick(tick&) { got_->push_back(-1); }
  int on_question(question&) { return 99; }
  std::vector<int>* got_;
};

TEST(overload, a_reject_bound_refuses_sends_beyond_its_capacity) {
  actor_fixture f;
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 3, overflow_policy::reject);
  f.run();
  for (int i = 1; i <= 3; ++i) {
    EXPECT_FALSE(f.send(b, item{i}));
  }
  EXPECT_EQ(f.send(b, item{4}), actor_errc::mailbox_full);
  EXPECT_EQ(f.send(b, item{5}), actor_errc::mailbox_full);
  f.run();
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(f.sys.counters(b)->rejected, 2u);
  EXPECT_FALSE(f.send(b, item{6}));  // room again once drained
  f.run();
  EXPECT_EQ(got.back(), 6);
}

TEST(overload, a_drop_oldest_bound_keeps_the_newest_messages) {
  actor_fixture f;
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 3, overflow_policy::drop_oldest);
  f.run();
  for (int i = 1; i <= 5; ++i) {
    EXPECT_FALSE(f.send(b, item{i}));
  }
  f.run();
  EXPECT_EQ(got, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(f.sys.counters(b)->dropped, 2u);
}

TEST(overload, a_stop_gets_through_a_full_mailbox_ahead_of_ordinary_messages) {
  actor_fixture f;
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 1, overflow_policy::reject);
  f.run();
  ASSERT_FALSE(f.send(b, item{1}));
  ASSERT_EQ(f.send(b, item{2}), actor_errc::mailbox_full);
  f.sys.stop(b);  // control lane: accepted although full, and served before the queued item
  f.run();
  EXPECT_FALSE(f.sys.alive(b));
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(f.sys.dead_letters(), 1u);  // the item left behind
}

// Asks while its own (bounded, full) mailbox overflows: the reply still arrives.
class full_asker final : public quay::actor {
 public:
  full_asker(std::vector<int>* got, actor_ref target) : got_(got), target_(target) {
    set_mailbox_bound(1, overflow_policy::drop_oldest);
  }
  static void define(quay::handlers<full_asker>& h) {
    h.on<&full_asker::on_item>().on<&full_asker::on_tick>();
  }

 private:
  void on_start() override {
    ask(target_, question{}, 1000ms, [this](quay::result<int> r) { got_->push_back(r ? *r : -2); });
    every(10ms, tick{});
  }
  void on_item(item& i) { got_->push_back(i.n); }
  void on_tick(tick&) { got_->push_back(-1); }
  std::vector<int>* got_;
  actor_ref target_;
};

TEST(overload, replies_and_timer_messages_are_never_evicted_by_a_bound) {
  actor_fixture f;
  std::vector<int> sink;
  std::vector<int> got;
  const actor_ref t = f.spawn<bounded>(&sink, 0, overflow_policy::reject);
  const actor_ref a = f.spawn<full_asker>(&got, t);
  ASSERT_TRUE(f.step());  // t starts
  ASSERT_TRUE(f.step());  // a starts: asks t, arms the timer
  for (int i = 0; i < 50; ++i) {
    f.send(a, item{i});  // overflow a's ordinary lane while the reply is on its way
  }
  f.port.advance(10ms);
  f.run();
  ASSERT_FALSE(got.empty());
  EXPECT_NE(std::find(got.begin(), got.end(), 99), got.end());  // the reply
  EXPECT_NE(std::find(got.begin(), got.end(), -1), got.end());  // the tick
  EXPECT_EQ(std::count_if(got.begin(), got.end(), [](int v) { return v >= 0 && v < 50; }), 1);
  EXPECT_EQ(f.sys.counters(a)->dropped, 49u);
}

struct sink_guard {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  std::shared_ptr<spdlog::logger> logger = quay::log::get("actors");
  spdlog::level::level_enum saved = logger->level();
  sink_guard() {
    logger->sinks().push_back(sink);
    logger->set_level(spdlog::level::warn);
  }
  ~sink_guard() {
    logger->sinks().pop_back();
    logger->set_level(saved);
  }
  std::size_t count(const std::string& needle) const {
    std::size_t n = 0;
    for (const auto& line : sink->last_formatted()) {
      n += line.find(needle) != std::string::npos ? 1 : 0;
    }
    return n;
  }
};

TEST(overload, the_mailbox_warning_threshold_doubles_instead_of_warning_every_message) {
  sink_guard logs;
  auto o = quay::testing::deterministic_options();
  o.mailbox_warn_threshold = 4;
  actor_fixture f(o);
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 0, overflow_policy::reject);
  f.run();
  for (int i = 0; i < 100; ++i) {
    f.send(b, item{i});
  }
  f.run();
  EXPECT_EQ(logs.count("mailbox holds"), 1u);
  for (int i = 0; i < 100; ++i) {
    f.send(b, item{i});  // drained in between: the threshold was reset, so it warns again
  }
  f.run();
  EXPECT_EQ(logs.count("mailbox holds"), 2u);
  EXPECT_EQ(got.size(), 200u);
}

// A completion standing in for a network session waiting to resume reading.
struct resume_reading final : quay::completion {
  resume_reading() : completion(&run) {}
  static void run(completion* self, std::error_code ec, std::size_t depth) {
    auto* me = static_cast<resume_reading*>(self);
    me->fired++;
    me->ec = ec;
    me->depth = depth;
  }
  int fired = 0;
  std::error_code ec;
  std::size_t depth = 0;
};

TEST(overload, a_drain_notification_fires_once_when_the_depth_falls_to_the_low_water_mark) {
  actor_fixture f;
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 0, overflow_policy::reject);
  f.run();
  for (int i = 0; i < 10; ++i) {
    f.send(b, item{i});
  }
  EXPECT_EQ(f.sys.mailbox_depth(b), 10u);
  resume_reading r;
  quay::detail::notify_when_drained(f.sys, b, 3, &r);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(f.step());
  }
  EXPECT_EQ(r.fired, 0);  // depth 4: still above the mark
  ASSERT_TRUE(f.step());  // depth 3: the notification is posted
  EXPECT_EQ(r.fired, 0);
  f.run();
  EXPECT_EQ(r.fired, 1);
  EXPECT_FALSE(r.ec);
  EXPECT_LE(r.depth, 3u);
  for (int i = 0; i < 10; ++i) {
    f.send(b, item{i});
  }
  f.run();
  EXPECT_EQ(r.fired, 1);  // one-shot
}

TEST(overload, a_drain_notification_is_released_with_aborted_when_the_port_stops_first) {
  // A session paused for backpressure waits on this notification: if the port stops while the
  // owner is still behind, the owner never runs again, so the stop's cleanup must release it.
  actor_fixture f;
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 0, overflow_policy::reject);
  f.run();
  for (int i = 0; i < 10; ++i) {
    f.send(b, item{i});
  }
  resume_reading r;
  quay::detail::notify_when_drained(f.sys, b, 3, &r);
  ASSERT_TRUE(f.step());
  EXPECT_EQ(r.fired, 0);  // depth 9: still registered
  f.port.shutdown();      // the owner's queued turn is aborted
  EXPECT_EQ(r.fired, 1);
  EXPECT_EQ(r.ec, quay::errc::aborted);
  EXPECT_FALSE(quay::detail::cancel_drain_notification(f.sys, b, &r));  // no longer registered
}

TEST(overload, a_drain_notification_fires_at_once_if_already_drained_and_fails_on_death) {
  actor_fixture f;
  std::vector<int> got;
  const actor_ref b = f.spawn<bounded>(&got, 0, overflow_policy::reject);
  f.run();
  resume_reading now;
  quay::detail::notify_when_drained(f.sys, b, 0, &now);
  f.run();
  EXPECT_EQ(now.fired, 1);
  for (int i = 0; i < 10; ++i) {
    f.send(b, item{i});
  }
  resume_reading later;
  quay::detail::notify_when_drained(f.sys, b, 0, &later);
  f.sys.stop(b);
  f.run();
  EXPECT_EQ(later.fired, 1);
  EXPECT_EQ(later.ec, actor_errc::dead_target);
  resume_reading cancelled;
  const actor_ref c = f.spawn<bounded>(&got, 0, overflow_policy::reject);
  f.send(c, item{1});
  f.send(c, item{2});
  quay::detail::notify_when_drained(f.sys, c, 0, &cancelled);
  EXPECT_TRUE(quay::detail::cancel_drain_notification(f.sys, c, &cancelled));
  f.run();
  EXPECT_EQ(cancelled.fired, 0);
}

}  // namespace
