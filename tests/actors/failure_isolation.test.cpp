// A handler that throws fails only its actor: the worker survives and other actors carry on.

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "actor_test_support.hpp"
#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"
#include "quay/runtime/io_port.hpp"

namespace {

using quay::actor_ref;
using quay::actor_test::wait_until;

struct work {
  int n;
};
struct boom {};

class bystander final : public quay::actor {
 public:
  explicit bystander(std::atomic<int>* done) : done_(done) {}
  static void define(quay::handlers<bystander>& h) {
    h.on<&bystander::on_work>().on<&bystander::on_boom>();
  }

 private:
  void on_work(work&) { done_->fetch_add(1); }
  void on_boom(boom&) { throw std::runtime_error("bystander blew up"); }
  std::atomic<int>* done_;
};

class thrower_of_ints final : public quay::actor {
 public:
  static void define(quay::handlers<thrower_of_ints>& h) { h.on<&thrower_of_ints::on_boom>(); }

 private:
  void on_boom(boom&) { throw 42; }  // not even a std::exception
};

TEST(failure_isolation, a_throwing_handler_stops_only_its_actor_on_the_native_port) {
  quay::io_port port(quay::io_port_options{.workers = 2});
  std::atomic<int> done{0};
  {
    quay::actor_system sys(port);
    constexpr int actors = 8;
    actor_ref refs[actors];
    for (auto& r : refs) {
      r = sys.spawn<bystander>(&done);
    }
    // Fail half of them, many times over, while the others keep working.
    for (int i = 0; i < actors; i += 2) {
      sys.send(refs[i], boom{});
    }
    ASSERT_TRUE(wait_until([&] { return sys.live_actors() == actors / 2; }));
    for (int round = 0; round < 1000; ++round) {
      for (int i = 1; i < actors; i += 2) {
        sys.send(refs[i], work{round});
      }
    }
    ASSERT_TRUE(wait_until([&] { return done.load() == 1000 * actors / 2; }));
    for (int i = 0; i < actors; ++i) {
      EXPECT_EQ(sys.alive(refs[i]), i % 2 == 1);
    }
    // Both workers are still alive: more failures and more work still go through.
    const actor_ref t = sys.spawn<thrower_of_ints>();
    sys.send(t, boom{});
    ASSERT_TRUE(wait_until([&] { return !sys.alive(t); }));
    for (int i = 1; i < actors; i += 2) {
      sys.send(refs[i], work{0});
    }
    ASSERT_TRUE(wait_until([&] { return done.load() == 1000 * actors / 2 + actors / 2; }));
    port.stop();
  }
}

TEST(failure_isolation, a_throwing_handler_leaves_other_actors_on_the_fixture_untouched) {
  quay::testing::actor_fixture f;
  std::atomic<int> done{0};
  const actor_ref a = f.spawn<bystander>(&done);
  const actor_ref b = f.spawn<bystander>(&done);
  f.send(a, boom{});
  f.send(b, work{1});
  f.send(a, work{2});  // to a dead actor by the time it is handled
  f.run();
  EXPECT_FALSE(f.sys.alive(a));
  EXPECT_TRUE(f.sys.alive(b));
  EXPECT_EQ(done.load(), 1);
  EXPECT_EQ(f.sys.dead_letters(), 1u);
}

}  // namespace
