// The name registry: register, look up, refuse duplicates, unregister on death.

#include <gtest/gtest.h>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

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

}  // namespace
