// Combat: range, cooldown, damage, death and respawn timer, experience and levels.
#include "quay/game/combat.hpp"

#include <gtest/gtest.h>

namespace quay::game {
namespace {

combatant fighter() {
  combatant c;
  c.stats = player_stats(1);
  c.hp = c.stats.max_hp;
  return c;
}

TEST(combat, an_attack_in_range_deals_damage_within_the_stats_and_starts_the_cooldown) {
  rng random(1);
  auto a = fighter();
  auto t = fighter();
  const auto out = resolve_attack(a, {0, 0}, t, {2, 0}, 1000, random);
  ASSERT_EQ(out.error, game_errc::ok);
  EXPECT_GE(out.damage, a.stats.damage_min);
  EXPECT_LE(out.damage, a.stats.damage_max);
  EXPECT_EQ(t.hp, t.stats.max_hp - out.damage);
  EXPECT_EQ(a.next_attack_ms, 1000 + a.stats.cooldown_ms);
}

TEST(combat, an_attack_out_of_range_is_refused_without_cooldown) {
  rng random(1);
  auto a = fighter();
  auto t = fighter();
  EXPECT_EQ(resolve_attack(a, {0, 0}, t, {3.1f, 0}, 0, random).error, game_errc::out_of_range);
  EXPECT_EQ(a.next_attack_ms, 0);
  EXPECT_EQ(t.hp, t.stats.max_hp);
}

TEST(combat, a_second_attack_before_the_cooldown_ends_is_refused) {
  rng random(1);
  auto a = fighter();
  auto t = fighter();
  ASSERT_EQ(resolve_attack(a, {0, 0}, t, {1, 0}, 0, random).error, game_errc::ok);
  EXPECT_EQ(resolve_attack(a, {0, 0}, t, {1, 0}, a.stats.cooldown_ms - 1, random).error,
            game_errc::on_cooldown);
  EXPECT_EQ(resolve_attack(a, {0, 0}, t, {1, 0}, a.stats.cooldown_ms, random).error,
            game_errc::ok);
}

TEST(combat, a_killing_blow_sets_the_respawn_time_and_the_dead_respawn_when_due) {
  rng random(1);
  auto a = fighter();
  auto t = fighter();
  t.hp = 1;
  const auto out = resolve_attack(a, {0, 0}, t, {1, 0}, 10'000, random);
  ASSERT_TRUE(out.killed);
  EXPECT_EQ(t.hp, 0);
  EXPECT_FALSE(t.alive());
  EXPECT_FALSE(respawn_due(t, 10'000 + t.stats.respawn_delay_ms - 1));
  EXPECT_TRUE(respawn_due(t, 10'000 + t.stats.respawn_delay_ms));
  revive(t);
  EXPECT_EQ(t.hp, t.stats.max_hp);
}

TEST(combat, the_dead_neither_attack_nor_take_hits) {
  rng random(1);
  auto a = fighter();
  auto t = fighter();
  t.hp = 0;
  EXPECT_EQ(resolve_attack(a, {0, 0}, t, {1, 0}, 0, random).error, game_errc::target_dead);
  EXPECT_EQ(resolve_attack(t, {1, 0}, a, {0, 0}, 0, random).error, game_errc::self_dead);
  EXPECT_EQ(resolve_attack(a, {0, 0}, a, {0, 0}, 0, random).error, game_errc::invalid_target);
}

TEST(combat, experience_raises_levels_and_restores_hp_with_the_new_stats) {
  auto c = fighter();
  c.hp = 10;
  EXPECT_EQ(award_xp(c, xp_to_next_level(1) - 1), 0);
  EXPECT_EQ(c.level, 1);
  EXPECT_EQ(award_xp(c, 1 + xp_to_next_level(2)), 2);
  EXPECT_EQ(c.level, 3);
  EXPECT_EQ(c.xp, 0);
  EXPECT_EQ(c.stats.max_hp, player_stats(3).max_hp);
  EXPECT_EQ(c.hp, c.stats.max_hp);
}

TEST(combat, the_level_cap_stops_experience) {
  auto c = fighter();
  c.level = max_level;
  EXPECT_EQ(award_xp(c, 1'000'000), 0);
  EXPECT_EQ(c.level, max_level);
}

TEST(combat, kills_of_much_weaker_victims_give_no_experience_and_stronger_ones_give_more) {
  EXPECT_EQ(xp_for_kill(10, 5), 0);
  EXPECT_GT(xp_for_kill(10, 6), 0);
  EXPECT_GT(xp_for_kill(5, 8), xp_for_kill(5, 5));
  EXPECT_GT(xp_for_kill(5, 5), xp_for_kill(5, 3));
}

}  // namespace
}  // namespace quay::game
