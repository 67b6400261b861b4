// The name registry: register, look up, refuse duplicates, unregister on death, watch a name.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "actor_test_support.hpp"
#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"
#include "quay/runtime/io_port.hpp"

namespace {

// Built by appending: g++ 12 -O3 reports a false -Wrestrict on "n" + std::to_string(i).
std::string name_of(int i) {
  std::string n = "n";
  n += std::to_string(i);
  return n;
}

using quay::actor_ref;
using quay::testing::actor_fixture;

class idle final : public quay::actor {};

TEST(registry, a_registered_name_resolves_to_its_actor) {
  actor_fixture f;
  const actor_ref a = f.spawn<idle>();
  EXPECT_TRUE(f.sys.register_name("zone-1", a));
  EXPECT_EQ(f.sys.whereis("zone-1"), a);
  EXPECT_FALSE(f.sys.whereis("zone-2"));
}

TEST(registry, a_name_held_by_a_live_actor_cannot_be_taken) {
  actor_fixture f;
  const actor_ref a = f.spawn<idle>();
  const actor_ref b = f.spawn<idle>();
  EXPECT_TRUE(f.sys.register_name("chat", a));
  EXPECT_FALSE(f.sys.register_name("chat", b));
  EXPECT_EQ(f.sys.whereis("chat"), a);
}

TEST(registry, a_name_is_removed_when_its_actor_stops) {
  actor_fixture f;
  const actor_ref a = f.spawn<idle>();
  f.run();
  ASSERT_TRUE(f.sys.register_name("gateway", a));
  f.sys.stop(a);
  f.run();
  EXPECT_FALSE(f.sys.whereis("gateway"));
  const actor_ref b = f.spawn<idle>();
  EXPECT_TRUE(f.sys.register_name("gateway", b));
  EXPECT_EQ(f.sys.whereis("gateway"), b);
}

TEST(registry, a_dead_actor_cannot_be_registered) {
  actor_fixture f;
  const actor_ref a = f.spawn<idle>();
  f.sys.stop(a);
  f.run();
  EXPECT_FALSE(f.sys.register_name("ghost", a));
  EXPECT_FALSE(f.sys.whereis("ghost"));
}

TEST(registry, unregister_removes_a_name) {
  actor_fixture f;
  const actor_ref a = f.spawn<idle>();
  ASSERT_TRUE(f.sys.register_name("db", a));
  EXPECT_TRUE(f.sys.unregister_name("db"));
  EXPECT_FALSE(f.sys.whereis("db"));
  EXPECT_FALSE(f.sys.unregister_name("db"));
}

TEST(registry, a_reused_slot_does_not_inherit_the_old_actors_name) {
  actor_fixture f;
  const actor_ref a = f.spawn<idle>();
  ASSERT_TRUE(f.sys.register_name("old", a));
  f.sys.stop(a);
  f.run();
  const actor_ref b = f.spawn<idle>();
  EXPECT_EQ(b.slot, a.slot);  // the slot is reused...
  EXPECT_NE(b.generation, a.generation);  // ...with a new generation
  EXPECT_FALSE(f.sys.whereis("old"));
}

// ---- watching a name ---------------------------------------------------------------------------

struct watch {
  std::string name;
};
struct unwatch {
  std::string name;
};

class watcher final : public quay::actor {
 public:
  explicit watcher(std::vector<quay::name_bound>* seen) : seen_(seen) {}
  static void define(quay::handlers<watcher>& h) {
    h.on<&watcher::on_watch>().on<&watcher::on_unwatch>().on<&watcher::on_bound>();
  }

 private:
  void on_watch(const watch& w) { watch_name(w.name); }
  void on_unwatch(const unwatch& w) { unwatch_name(w.name); }
  void on_bound(const quay::name_bound& b) { seen_->push_back(b); }
  std::vector<quay::name_bound>* seen_;
};

TEST(registry, watching_a_bound_name_tells_the_current_binding_at_once) {
  actor_fixture f;
  std::vector<quay::name_bound> seen;
  const actor_ref a = f.spawn<idle>();
  ASSERT_TRUE(f.sys.register_name("zone-1", a));
  f.send(f.spawn<watcher>(&seen), watch{"zone-1"});
  f.run();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].name, "zone-1");
  EXPECT_EQ(seen[0].ref, a);
}

TEST(registry, a_watcher_is_told_each_time_the_name_is_bound_again) {
  actor_fixture f;
  std::vector<quay::name_bound> seen;
  const actor_ref w = f.spawn<watcher>(&seen);
  f.send(w, watch{"zone-2"});
  f.run();
  EXPECT_TRUE(seen.empty());  // not bound yet
  const actor_ref a = f.spawn<idle>();
  ASSERT_TRUE(f.sys.register_name("zone-2", a));
  ASSERT_TRUE(f.sys.register_name("zone-2", a));  // the same binding again: no notice
  f.run();
  f.sys.stop(a);
  f.run();
  const actor_ref b = f.spawn<idle>();
  ASSERT_TRUE(f.sys.register_name("zone-2", b));
  f.run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].ref, a);
  EXPECT_EQ(seen[1].ref, b);
  f.send(w, unwatch{"zone-2"});
  f.run();
  f.sys.stop(b);
  f.run();
  ASSERT_TRUE(f.sys.register_name("zone-2", f.spawn<idle>()));
  f.run();
  EXPECT_EQ(seen.size(), 2u);  // unwatched: no more notices
}

struct crash {};
class fragile final : public quay::actor {
 public:
  static void define(quay::handlers<fragile>& h) { h.on<&fragile::on_crash>(); }

 private:
  void on_crash(const crash&) { throw std::runtime_error("boom"); }
};
class zone_supervisor final : public quay::actor {
 protected:
  void on_start() override { supervise<fragile>(quay::restart_policy::permanent, "zone-3"); }
};

TEST(registry, a_watcher_learns_the_new_handle_of_a_restarted_supervised_child) {
  actor_fixture f;
  std::vector<quay::name_bound> seen;
  f.spawn<zone_supervisor>();
  f.send(f.spawn<watcher>(&seen), watch{"zone-3"});
  f.run();
  ASSERT_EQ(seen.size(), 1u);
  const actor_ref first = seen[0].ref;
  f.send(first, crash{});
  f.run();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[1].ref, first);
  EXPECT_EQ(f.sys.whereis("zone-3"), seen[1].ref);
  EXPECT_TRUE(f.sys.alive(seen[1].ref));
}

// Watch and bind race from different threads: no bind is missed, and the last notice each
// watcher got names the final binding (binds of one name come from one thread here).
TEST(registry, a_watch_racing_binds_on_other_threads_misses_none) {
  quay::io_port port(quay::io_port_options{.workers = 4});
  {
    quay::actor_system sys(port);
    constexpr int names = 8;
    constexpr int rebinds = 50;
    std::vector<std::vector<quay::name_bound>> seen(names);
    std::vector<actor_ref> watchers;
    for (int i = 0; i < names; ++i) {
      watchers.push_back(sys.spawn<watcher>(&seen[i]));
      sys.send(watchers.back(), watch{name_of(i)});
    }
    std::vector<actor_ref> last(names);
    for (int round = 0; round < rebinds; ++round) {
      for (int i = 0; i < names; ++i) {
        const std::string name = name_of(i);
        if (last[i]) {
          sys.kill(last[i]);
          ASSERT_TRUE(quay::actor_test::wait_until([&] { return !sys.alive(last[i]); }));
        }
        last[i] = sys.spawn<idle>();
        ASSERT_TRUE(sys.register_name(name, last[i]));
      }
    }
    // Each watcher's last notice names the final binding. (Its vector is written in its
    // turns only; read it through a message round trip.)
    std::atomic<int> checked{0};
    for (int i = 0; i < names; ++i) {
      EXPECT_TRUE(quay::actor_test::wait_until([&] {
        return sys.mailbox_depth(watchers[i]).value_or(1) == 0;
      }));
    }
    port.stop();
    for (int i = 0; i < names; ++i) {
      ASSERT_FALSE(seen[i].empty());
      EXPECT_EQ(seen[i].back().ref, last[i]);
      EXPECT_LE(seen[i].size(), static_cast<std::size_t>(rebinds) + 1);
      ++checked;
    }
    EXPECT_EQ(checked.load(), names);
  }
}

}  // namespace
