// NPC state machine: idle, wander, aggro, chase, attack, leash and return, death and respawn.
#include "quay/game/npc_ai.hpp"

#include <gtest/gtest.h>

namespace quay::game {
namespace {

npc_params params() {
  npc_params p;
  p.aggro_radius = 10;
  p.leash_radius = 30;
  p.wander_radius = 5;
  p.speed = 4;          // 0.4 m per 100 ms tick
  p.return_speed = 10;  // 1 m per tick
  p.attack_range = 2;
  p.idle_min_ms = 1000;
  p.idle_max_ms = 1000;
  return p;
}

struct fixture {
  rng random{7};
  npc_params p = params();
  npc_brain brain = make_npc_brain({50, 50}, p, 0, random);
  vec2 pos{50, 50};
  time_ms now = 0;

  npc_decision step(npc_perception seen) {
    now += 100;
    seen.pos = pos;
    const npc_decision d = update_npc(brain, p, seen, now, 100, random);
    if (d.moves) {
      pos = d.move_to;
    }
    return d;
  }
};

TEST(npc_ai, an_idle_npc_starts_wandering_when_its_idle_time_ends_and_stays_near_home) {
  fixture f;
  for (int i = 0; i < 9; ++i) {
    f.step({});
    EXPECT_EQ(f.brain.state, npc_state::idle);
  }
  f.step({});
  EXPECT_EQ(f.brain.state, npc_state::wander);
  for (int i = 0; i < 200; ++i) {
    f.step({});
    ASSERT_LE(distance(f.pos, f.brain.home), f.p.wander_radius + 0.01f);
  }
}

TEST(npc_ai, a_wandering_npc_returns_to_idle_when_it_reaches_its_target) {
  fixture f;
  while (f.brain.state != npc_state::wander) {
    f.step({});
  }
  int steps = 0;
  while (f.brain.state == npc_state::wander && steps < 100) {
    f.step({});
    ++steps;
  }
  EXPECT_EQ(f.brain.state, npc_state::idle);
  EXPECT_LT(steps, 100);
}

TEST(npc_ai, an_enemy_in_aggro_radius_is_chased_then_attacked_in_range) {
  fixture f;
  npc_perception seen;
  seen.nearest_enemy = 9;
  f.step(seen);
  EXPECT_EQ(f.brain.state, npc_state::chase);
  EXPECT_EQ(f.brain.target, 9u);

  npc_perception chase;
  chase.target_present = true;
  chase.target_alive = true;
  chase.target_pos = {55, 50};
  int steps = 0;
  npc_decision d;
  do {
    d = f.step(chase);
    ++steps;
  } while (d.attack == no_entity && steps < 50);
  EXPECT_EQ(d.attack, 9u);
  EXPECT_EQ(f.brain.state, npc_state::attack);
  EXPECT_LE(distance(f.pos, chase.target_pos), f.p.attack_range);

  chase.target_pos = {60, 50};  // the target steps back
  d = f.step(chase);
  EXPECT_EQ(f.brain.state, npc_state::chase);
  EXPECT_EQ(d.attack, no_entity);
}

TEST(npc_ai, a_chase_beyond_the_leash_gives_up_and_returns_home_healing) {
  fixture f;
  f.brain.state = npc_state::chase;
  f.brain.target = 9;
  f.pos = {50 + f.p.leash_radius + 1, 50};
  npc_perception seen;
  seen.target_present = true;
  seen.target_alive = true;
  seen.target_pos = {100, 50};
  f.step(seen);
  EXPECT_EQ(f.brain.state, npc_state::returning);
  EXPECT_EQ(f.brain.target, no_entity);

  // While returning, enemies are ignored.
  npc_perception enemy;
  enemy.nearest_enemy = 4;
  bool healed = false;
  for (int i = 0; i < 100 && f.brain.state == npc_state::returning; ++i) {
    healed = f.step(enemy).restore_hp || healed;
    ASSERT_NE(f.brain.state, npc_state::chase);
  }
  EXPECT_EQ(f.brain.state, npc_state::idle);
  EXPECT_TRUE(healed);
  EXPECT_EQ(f.pos, f.brain.home);
}

TEST(npc_ai, a_dead_or_vanished_target_sends_the_npc_home) {
  fixture f;
  f.brain.state = npc_state::attack;
  f.brain.target = 9;
  npc_perception seen;
  seen.target_present = true;
  seen.target_alive = false;
  f.step(seen);
  EXPECT_EQ(f.brain.state, npc_state::returning);

  f.brain.state = npc_state::chase;
  f.brain.target = 9;
  f.step({});  // target_present = false
  EXPECT_EQ(f.brain.state, npc_state::returning);
}

TEST(npc_ai, a_killed_npc_is_dead_until_respawned_then_idle_at_home) {
  fixture f;
  npc_perception dead;
  dead.alive = false;
  const auto d = f.step(dead);
  EXPECT_EQ(f.brain.state, npc_state::dead);
  EXPECT_FALSE(d.moves);
  respawn_npc(f.brain, f.p, f.now, f.random);
  EXPECT_EQ(f.brain.state, npc_state::idle);
  EXPECT_EQ(f.brain.target, no_entity);
}

}  // namespace
}  // namespace quay::game
