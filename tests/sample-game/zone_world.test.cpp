// zone_world: the zone tick driven by hand — players, views, movement, NPC fights, respawns,
// portals and determinism.
#include "quay/game/zone_world.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace quay::game {
namespace {

// A 200 x 200 zone of 20 m cells: one wolf pack corner, one harmless rabbit, one portal.
constexpr const char* zone_text = R"(
id = 1
name = "Test"
width = 200
height = 200
cell_size = 20
default_spawn = "start"
[[spawn]]
name = "start"
x = 20
y = 20
[npc_types.wolf]
name = "Wolf"
level = 2
hp = 40
damage_min = 5
damage_max = 5
attack_range = 2.5
cooldown_ms = 1000
respawn_ms = 3000
aggro_radius = 8
leash_radius = 30
wander_radius = 0
speed = 5
[npc_types.rabbit]
name = "Rabbit"
hp = 10
aggro_radius = 0
wander_radius = 0
respawn_ms = 2000
[[npc]]
type = "wolf"
x = 150
y = 150
[[npc]]
type = "rabbit"
x = 30
y = 20
[[portal]]
x = 190
y = 20
radius = 5
target_zone = 2
target_spawn = "gate"
)";

zone_definition test_zone() {
  auto r = parse_zone(zone_text, "test.toml");
  EXPECT_TRUE(r.zone);
  return *r.zone;
}

player_record hero(const char* name, vec2 at) {
  player_record p;
  p.character_id = 100;
  p.name = name;
  p.pos = at;
  p.has_pos = true;
  return p;
}

entity_id npc_named(const zone_world& w, std::string_view name) {
  for (entity_id id = 1; id < 10; ++id) {
    const auto v = w.view(id);
    if (v && v->kind == entity_kind::npc && *v->name == name) {
      return id;
    }
  }
  return no_entity;
}

const aoi_batch* personal_for(const tick_output& out, entity_id observer) {
  for (const auto& p : out.view.personal) {
    if (p.observer == observer) {
      return &p.batch;
    }
  }
  return nullptr;
}

const aoi_batch* shared_for(const tick_output& out, entity_id observer) {
  for (const auto& s : out.view.shared) {
    if (std::find(s.observers.begin(), s.observers.end(), observer) != s.observers.end()) {
      return &s.batch;
    }
  }
  return nullptr;
}

bool has(const std::vector<entity_id>& v, entity_id id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

TEST(zone_world, npcs_spawn_from_the_zone_file_and_a_new_player_first_sees_what_is_near) {
  zone_world w(test_zone(), {}, 1, 0);
  EXPECT_EQ(w.npc_count(), 2u);
  const entity_id rabbit = npc_named(w, "Rabbit");
  const entity_id wolf = npc_named(w, "Wolf");
  const entity_id a = w.add_player(hero("ann", {25, 25}), 0);
  const auto& out = w.tick(100);
  const aoi_batch* first = personal_for(out, a);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(has(first->enters, rabbit));
  EXPECT_FALSE(has(first->enters, wolf));
  EXPECT_EQ(w.player_count(), 1u);
}

TEST(zone_world, two_players_near_each_other_see_each_other_and_each_others_moves) {
  zone_world w(test_zone(), {}, 1, 0);
  const entity_id a = w.add_player(hero("ann", {25, 25}), 0);
  w.tick(100);
  const entity_id b = w.add_player(hero("bob", {30, 25}), 100);
  const auto& out = w.tick(200);
  ASSERT_NE(shared_for(out, a), nullptr);
  EXPECT_TRUE(has(shared_for(out, a)->enters, b));
  ASSERT_NE(personal_for(out, b), nullptr);
  EXPECT_TRUE(has(personal_for(out, b)->enters, a));

  EXPECT_FALSE(w.submit_move(b, {30.5f, 25}, 300).needs_correction());
  const auto& next = w.tick(300);
  ASSERT_NE(shared_for(next, a), nullptr);
  EXPECT_TRUE(has(shared_for(next, a)->updates, b));
  EXPECT_EQ(w.view(b)->pos, (vec2{30.5f, 25}));
}

TEST(zone_world, a_player_moving_too_fast_is_corrected_and_stays_where_the_server_says) {
  zone_world w(test_zone(), {}, 1, 0);
  const entity_id a = w.add_player(hero("ann", {25, 25}), 0);
  // A new player starts with a full budget (7.7 m: a second at 7 m/s plus 10 %).
  const auto r = w.submit_move(a, {35, 25}, 100);  // 10 m in 100 ms
  EXPECT_TRUE(r.needs_correction());
  EXPECT_EQ(r.verdict, move_verdict::speed_clamped);
  EXPECT_EQ(w.view(a)->pos, r.pos);
  EXPECT_NEAR(r.pos.x, 25.0f + 7.7f, 0.01f);  // the budget never passes its cap
}

TEST(zone_world, killing_an_npc_gives_experience_and_it_respawns_after_its_delay) {
  zone_world w(test_zone(), {}, 1, 0);
  const entity_id rabbit = npc_named(w, "Rabbit");
  const entity_id a = w.add_player(hero("ann", {28, 20}), 0);
  time_ms now = 0;
  game_errc e = game_errc::ok;
  int swings = 0;
  while (w.view(rabbit)->alive() && swings < 20) {
    now += 1500;  // the player's cooldown
    e = w.submit_attack(a, rabbit, now);
    ASSERT_EQ(e, game_errc::ok) << to_string(e);
    ++swings;
  }
  ASSERT_FALSE(w.view(rabbit)->alive());
  EXPECT_EQ(w.submit_attack(a, rabbit, now + 5000), game_errc::target_dead);
  const auto& out = w.tick(now);
  ASSERT_FALSE(out.combat.empty());
  EXPECT_TRUE(out.combat.back().killed);
  ASSERT_EQ(out.progress.size(), 1u);
  EXPECT_EQ(out.progress[0].xp_gained, xp_for_kill(1, 1));
  EXPECT_EQ(w.record_of(a)->xp, xp_for_kill(1, 1));

  w.tick(now + 1999);
  EXPECT_FALSE(w.view(rabbit)->alive());
  const auto& back = w.tick(now + 2000);
  ASSERT_EQ(back.respawns.size(), 1u);
  EXPECT_EQ(back.respawns[0].id, rabbit);
  EXPECT_EQ(w.view(rabbit)->hp, 10);
}

TEST(zone_world, a_wolf_aggroes_chases_and_kills_a_player_who_respawns_at_the_default_spawn) {
  zone_world w(test_zone(), {}, 1, 0);
  const entity_id wolf = npc_named(w, "Wolf");
  const entity_id a = w.add_player(hero("ann", {157, 150}), 0);  // 7 m: inside aggro radius
  time_ms now = 0;
  bool was_hit = false;
  for (int i = 0; i < 400 && w.view(a)->alive(); ++i) {
    now += 100;
    const auto& out = w.tick(now);
    for (const auto& hit : out.combat) {
      was_hit = was_hit || (hit.attacker == wolf && hit.target == a);
    }
  }
  EXPECT_TRUE(was_hit);
  ASSERT_FALSE(w.view(a)->alive());
  EXPECT_TRUE(w.submit_move(a, {150, 150}, now).needs_correction());
  bool respawned = false;
  for (int i = 0; i < 60 && !respawned; ++i) {
    now += 100;
    respawned = !w.tick(now).respawns.empty();
  }
  ASSERT_TRUE(respawned);
  EXPECT_EQ(w.view(a)->pos, (vec2{20, 20}));
  EXPECT_EQ(w.view(a)->hp, w.view(a)->max_hp);
}

TEST(zone_world, a_player_on_a_portal_gets_its_exit_and_leaves_with_its_state_intact) {
  zone_world w(test_zone(), {}, 1, 0);
  player_record r = hero("ann", {100, 100});
  r.level = 4;
  r.xp = 123;
  r.hp = 50;
  const entity_id a = w.add_player(r, 0);
  portal_exit exit;
  EXPECT_EQ(w.use_portal(a, exit), game_errc::not_on_portal);
  const entity_id b = w.add_player(hero("bob", {188, 22}), 0);
  ASSERT_EQ(w.use_portal(b, exit), game_errc::ok);
  EXPECT_EQ(exit.zone_id, 2u);
  EXPECT_EQ(exit.spawn, "gate");

  const auto saved = w.remove_player(a);
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->level, 4);
  EXPECT_EQ(saved->xp, 123);
  EXPECT_EQ(saved->hp, 50);
  EXPECT_EQ(saved->zone_id, 1u);
  EXPECT_EQ(saved->pos, (vec2{100, 100}));
  EXPECT_FALSE(w.remove_player(a));
  EXPECT_FALSE(w.view(a));
}

TEST(zone_world, a_player_without_a_valid_saved_position_enters_at_the_default_spawn) {
  zone_world w(test_zone(), {}, 1, 0);
  player_record r = hero("ann", {5000, 5000});
  const entity_id a = w.add_player(r, 0);
  EXPECT_EQ(w.view(a)->pos, (vec2{20, 20}));
}

TEST(zone_world, a_spawn_point_with_a_radius_scatters_arrivals_over_its_disc_inside_the_zone) {
  // Around (20, 20): part of the disc is outside the zone.
  std::string text = zone_text;
  text.replace(text.find("y = 20\n[npc_types"), 6, "y = 20\nradius = 30");
  auto parsed = parse_zone(text, "test.toml");
  ASSERT_TRUE(parsed.zone);
  ASSERT_EQ(parsed.zone->spawns.front().radius, 30.0f);
  zone_world w(std::move(*parsed.zone), {}, 1, 0);
  std::vector<vec2> seen;
  for (int i = 0; i < 200; ++i) {
    player_record r = hero(std::string("p").append(std::to_string(i)).c_str(), {});
    r.has_pos = false;
    const vec2 at = w.view(w.add_player(r, 0))->pos;
    const float dx = at.x - 20.0f;
    const float dy = at.y - 20.0f;
    EXPECT_LE(std::sqrt(dx * dx + dy * dy), 30.0f + 1e-3f) << at.x << "," << at.y;
    EXPECT_TRUE(w.definition().bounds.contains(at)) << at.x << "," << at.y;
    seen.push_back(at);
  }
  // Spread out, not stacked: most arrivals stand on a spot of their own, and both sides of
  // the centre are used.
  std::sort(seen.begin(), seen.end(), [](vec2 a, vec2 b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
  const auto distinct = std::unique(seen.begin(), seen.end()) - seen.begin();
  EXPECT_GT(distinct, 150);
  EXPECT_LT(seen.front().x, 10.0f);
  EXPECT_GT(seen.back().x, 30.0f);
  // The portal arrival at that spawn point scatters the same way.
  const auto a = w.spawn_position("start");
  const auto b = w.spawn_position("start");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(w.spawn_position("nowhere"));
}

TEST(zone_world, say_reaches_the_players_within_the_radius_only) {
  zone_world w(test_zone(), {}, 1, 0);
  const entity_id a = w.add_player(hero("ann", {50, 50}), 0);
  const entity_id b = w.add_player(hero("bob", {60, 50}), 0);
  const entity_id c = w.add_player(hero("cid", {95, 50}), 0);
  auto near = w.players_near(a, 30.0f);
  std::sort(near.begin(), near.end());
  EXPECT_EQ(near, (std::vector<entity_id>{a, b}));
  EXPECT_FALSE(has(near, c));
}

TEST(zone_world, the_same_seed_and_inputs_replay_the_same_game) {
  const auto run = [](std::uint64_t seed) {
    zone_world w(test_zone(), {}, seed, 0);
    const entity_id a = w.add_player(hero("ann", {157, 150}), 0);
    std::vector<std::int32_t> trace;
    for (time_ms now = 100; now <= 3000; now += 100) {
      for (const auto& hit : w.tick(now).combat) {
        trace.push_back(hit.damage);
      }
      trace.push_back(w.view(a)->hp);
    }
    return trace;
  };
  EXPECT_EQ(run(9), run(9));
}

}  // namespace
}  // namespace quay::game
