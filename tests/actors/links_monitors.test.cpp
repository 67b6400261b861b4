// Monitors (one-way `down` notices) and links (two-way failure propagation).

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using quay::actor_ref;
using quay::exit_reason;
using quay::testing::actor_fixture;

struct crash {};
struct quit {};
struct watch {
  actor_ref who;
};
struct unwatch {
  actor_ref who;
};
struct tie {
  actor_ref who;
};
struct untie {
  actor_ref who;
};

class subject final : public quay::actor {
 public:
  static void define(quay::handlers<subject>& h) {
    h.on<&subject::on_crash>().on<&subject::on_quit>();
  }

 private:
  void on_crash(crash&) { throw std::logic_error("subject broke"); }
  void on_quit(quit&) { stop(); }
};

class watcher final : public quay::actor {
 public:
  watcher(std::vector<quay::down>* downs, bool trap) : downs_(downs), trap_(trap) {}
  static void define(quay::handlers<watcher>& h) {
    h.on<&watcher::on_watch>()
        .on<&watcher::on_unwatch>()
        .on<&watcher::on_tie>()
        .on<&watcher::on_untie>()
        .on<&watcher::on_down>()
        .on<&watcher::on_crash>();
  }

 private:
  void on_start() override { trap_exits(trap_); }
  void on_watch(watch& w) { monitor(w.who); }
  void on_unwatch(unwatch& w) { demonitor(w.who); }
  void on_tie(tie& t) { link(t.who); }
  void on_untie(untie& t) { unlink(t.who); }
  void on_down(quay::down& d) { downs_->push_back(d); }
  void on_crash(crash&) { throw std::runtime_error("watcher broke"); }
  std::vector<quay::down>* downs_;
  bool trap_;
};

TEST(links_monitors, a_monitor_receives_down_with_reason_normal_when_the_target_stops) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, watch{s});
  f.run();
  f.send(s, quit{});
  f.run();
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].who, s);
  EXPECT_EQ(downs[0].reason, exit_reason::normal);
}

TEST(links_monitors, a_monitor_receives_the_exception_text_when_the_target_fails) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, watch{s});
  f.run();
  f.send(s, crash{});
  f.run();
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].reason, exit_reason::failure);
  EXPECT_EQ(downs[0].detail, "subject broke");
  EXPECT_TRUE(f.sys.alive(w));
}

TEST(links_monitors, monitoring_a_dead_actor_gives_down_with_no_actor) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  f.sys.stop(s);
  f.run();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, watch{s});
  f.run();
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].who, s);
  EXPECT_EQ(downs[0].reason, exit_reason::no_actor);
}

TEST(links_monitors, after_demonitor_no_down_arrives) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, watch{s});
  f.run();
  f.send(w, unwatch{s});
  f.run();
  f.send(s, quit{});
  f.run();
  EXPECT_TRUE(downs.empty());
}

TEST(links_monitors, a_linked_actors_failure_kills_the_other_side) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  const actor_ref m = f.spawn<watcher>(&downs, false);
  f.send(w, tie{s});
  f.send(m, watch{w});
  f.run();
  f.send(s, crash{});
  f.run();
  EXPECT_FALSE(f.sys.alive(s));
  EXPECT_FALSE(f.sys.alive(w));
  ASSERT_EQ(downs.size(), 1u);  // m saw w die, killed by the link
  EXPECT_EQ(downs[0].who, w);
  EXPECT_EQ(downs[0].reason, exit_reason::killed);
}

TEST(links_monitors, links_work_both_ways) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, tie{s});
  f.run();
  f.send(w, crash{});
  f.run();
  EXPECT_FALSE(f.sys.alive(w));
  EXPECT_FALSE(f.sys.alive(s));
}

TEST(links_monitors, a_normal_stop_does_not_kill_linked_actors) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, tie{s});
  f.run();
  f.send(s, quit{});
  f.run();
  EXPECT_TRUE(f.sys.alive(w));
}

TEST(links_monitors, an_actor_that_traps_exits_gets_down_instead_of_dying) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, true);
  f.send(w, tie{s});
  f.run();
  f.send(s, crash{});
  f.run();
  EXPECT_TRUE(f.sys.alive(w));
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].reason, exit_reason::failure);
}

TEST(links_monitors, after_unlink_a_failure_no_longer_propagates) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, tie{s});
  f.run();
  f.send(w, untie{s});
  f.run();
  f.send(s, crash{});
  f.run();
  EXPECT_TRUE(f.sys.alive(w));
}

TEST(links_monitors, killing_an_actor_by_ref_reports_reason_killed) {
  actor_fixture f;
  std::vector<quay::down> downs;
  const actor_ref s = f.spawn<subject>();
  const actor_ref w = f.spawn<watcher>(&downs, false);
  f.send(w, watch{s});
  f.run();
  f.sys.kill(s);
  f.run();
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].reason, exit_reason::killed);
}

}  // namespace
