// One-for-one supervision: restart, restart policies, intensity limit and escalation.

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_ref;
using quay::exit_reason;
using quay::restart_policy;
using quay::testing::actor_fixture;

struct crash {};
struct quit {};
struct count_q {
  using reply_type = int;
};

struct journal {
  int constructed = 0;
  std::vector<quay::child_restarted> restarts;
  std::vector<quay::down> downs;
  actor_ref child;
};

class child final : public quay::actor {
 public:
  child(journal* j, int seed) : j_(j), count_(seed) { ++j_->constructed; }
  static void define(quay::handlers<child>& h) {
    h.on<&child::on_crash>().on<&child::on_quit>().on<&child::on_count>();
  }

 private:
  void on_crash(crash&) {
    ++count_;
    throw std::runtime_error("child crashed");
  }
  void on_quit(quit&) { stop(); }
  int on_count(count_q&) { return count_; }
  journal* j_;
  int count_;
};

struct start_child {
  restart_policy policy;
};

class supervisor final : public quay::actor {
 public:
  explicit supervisor(journal* j) : j_(j) { set_restart_intensity(2, 1000ms); }
  static void define(quay::handlers<supervisor>& h) {
    h.on<&supervisor::on_start_child>().on<&supervisor::on_restarted>();
  }

 private:
  void on_start_child(start_child& s) { j_->child = supervise<child>(s.policy, "kid", j_, 5); }
  void on_restarted(quay::child_restarted& r) {
    j_->restarts.push_back(r);
    j_->child = r.new_ref;
  }
  journal* j_;
};

// Watches the supervisor, to see escalation.
class overseer final : public quay::actor {
 public:
  overseer(journal* j, actor_ref watched) : j_(j), watched_(watched) {}
  static void define(quay::handlers<overseer>& h) { h.on<&overseer::on_down>(); }

 private:
  void on_start() override { monitor(watched_); }
  void on_down(quay::down& d) { j_->downs.push_back(d); }
  journal* j_;
  actor_ref watched_;
};

TEST(supervision, a_failed_child_is_restarted_with_its_original_arguments) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  f.send(sup, start_child{restart_policy::transient});
  f.run();
  const actor_ref first = j.child;
  ASSERT_TRUE(f.sys.alive(first));
  EXPECT_EQ(f.sys.whereis("kid"), first);
  f.send(first, crash{});
  f.run();
  EXPECT_FALSE(f.sys.alive(first));
  ASSERT_EQ(j.restarts.size(), 1u);
  EXPECT_EQ(j.restarts[0].old_ref, first);
  EXPECT_EQ(j.restarts[0].reason, exit_reason::failure);
  EXPECT_EQ(j.restarts[0].detail, "child crashed");
  EXPECT_EQ(j.constructed, 2);
  EXPECT_TRUE(f.sys.alive(j.child));
  EXPECT_EQ(f.sys.whereis("kid"), j.child);  // the name follows the restart
}

TEST(supervision, a_transient_child_that_stops_normally_is_not_restarted) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  f.send(sup, start_child{restart_policy::transient});
  f.run();
  f.send(j.child, quit{});
  f.run();
  EXPECT_TRUE(j.restarts.empty());
  EXPECT_EQ(j.constructed, 1);
  EXPECT_EQ(f.sys.live_actors(), 1u);
}

TEST(supervision, a_permanent_child_is_restarted_even_after_a_normal_stop) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  f.send(sup, start_child{restart_policy::permanent});
  f.run();
  f.send(j.child, quit{});
  f.run();
  ASSERT_EQ(j.restarts.size(), 1u);
  EXPECT_EQ(j.restarts[0].reason, exit_reason::normal);
}

TEST(supervision, a_temporary_child_is_never_restarted) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  f.send(sup, start_child{restart_policy::temporary});
  f.run();
  f.send(j.child, crash{});
  f.run();
  EXPECT_TRUE(j.restarts.empty());
  EXPECT_TRUE(f.sys.alive(sup));
}

TEST(supervision, too_many_restarts_in_the_window_make_the_supervisor_fail) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  const actor_ref boss = f.spawn<overseer>(&j, sup);
  f.send(sup, start_child{restart_policy::transient});
  f.run();
  f.send(j.child, crash{});
  f.run();
  f.send(j.child, crash{});
  f.run();
  EXPECT_EQ(j.restarts.size(), 2u);
  EXPECT_TRUE(f.sys.alive(sup));
  f.send(j.child, crash{});  // third within 1 s: over the limit of 2
  f.run();
  EXPECT_EQ(j.restarts.size(), 2u);
  EXPECT_FALSE(f.sys.alive(sup));
  ASSERT_EQ(j.downs.size(), 1u);
  EXPECT_EQ(j.downs[0].who, sup);
  EXPECT_EQ(j.downs[0].reason, exit_reason::failure);
  EXPECT_EQ(j.downs[0].detail, "restart intensity exceeded");
  EXPECT_TRUE(f.sys.alive(boss));
}

TEST(supervision, restarts_spread_beyond_the_window_do_not_escalate) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  f.send(sup, start_child{restart_policy::transient});
  f.run();
  for (int i = 0; i < 5; ++i) {
    f.send(j.child, crash{});
    f.run();
    f.advance(600ms);
  }
  EXPECT_EQ(j.restarts.size(), 5u);
  EXPECT_TRUE(f.sys.alive(sup));
}

TEST(supervision, stopping_a_supervisor_stops_its_children) {
  actor_fixture f;
  journal j;
  const actor_ref sup = f.spawn<supervisor>(&j);
  f.send(sup, start_child{restart_policy::permanent});
  f.run();
  const actor_ref kid = j.child;
  f.sys.stop(sup);
  f.run();
  EXPECT_FALSE(f.sys.alive(sup));
  EXPECT_FALSE(f.sys.alive(kid));
  EXPECT_EQ(f.sys.live_actors(), 0u);
  EXPECT_FALSE(f.sys.whereis("kid"));
}

}  // namespace
