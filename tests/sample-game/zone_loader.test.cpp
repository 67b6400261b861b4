// Zone files: the shipped data loads, and every kind of mistake comes back as an error value.
#include <gtest/gtest.h>

#include <algorithm>

#include "quay/game/zone_definition.hpp"

#ifndef QUAY_GAME_DATA_DIR
#error "the build passes QUAY_GAME_DATA_DIR"
#endif

namespace quay::game {
namespace {

constexpr const char* minimal = R"(
id = 7
name = "Test"
width = 100.0
height = 80
[[spawn]]
name = "start"
x = 10
y = 10
)";

bool mentions(const std::vector<zone_error>& errors, std::string_view where,
              std::string_view what) {
  return std::any_of(errors.begin(), errors.end(), [&](const zone_error& e) {
    return e.where.find(where) != std::string::npos && e.message.find(what) != std::string::npos;
  });
}

std::string dump(const std::vector<zone_error>& errors) {
  std::string s;
  for (const auto& e : errors) {
    s += e.where + ": " + e.message + "\n";
  }
  return s;
}

TEST(zone_loader, a_minimal_zone_loads_with_defaults) {
  const auto r = parse_zone(minimal, "test.toml");
  ASSERT_TRUE(r.zone) << dump(r.errors);
  EXPECT_EQ(r.zone->id, 7u);
  EXPECT_EQ(r.zone->bounds.height, 80.0f);
  EXPECT_EQ(r.zone->cell_size, 50.0f);
  EXPECT_EQ(r.zone->default_spawn, "start");
  EXPECT_TRUE(r.zone->npcs.empty());
}

TEST(zone_loader, the_shipped_zone_files_load_and_link_up) {
  const auto w = load_zone_directory(std::filesystem::path(QUAY_GAME_DATA_DIR) / "zones");
  ASSERT_TRUE(w.errors.empty()) << dump(w.errors);
  ASSERT_EQ(w.zones.size(), 2u);
  const auto& darkwood = w.zones[0];
  const auto& meadow = w.zones[1];
  EXPECT_EQ(meadow.name, "Greenmeadow");
  EXPECT_EQ(darkwood.name, "Darkwood");
  EXPECT_EQ(meadow.npc_types.at("wolf").level, 3);
  EXPECT_EQ(meadow.npc_types.at("wolf").combat.respawn_delay_ms, 15000);
  ASSERT_EQ(meadow.portals.size(), 1u);
  EXPECT_EQ(meadow.portals[0].target_zone, 2u);
}

TEST(zone_loader, a_toml_syntax_error_is_reported_with_its_line) {
  const auto r = parse_zone("id = 1\nname = \"x\n", "broken.toml");
  EXPECT_FALSE(r.zone);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].where.find("broken.toml: line 2"), std::string::npos)
      << r.errors[0].where;
}

TEST(zone_loader, missing_mistyped_out_of_range_and_unknown_keys_are_all_reported) {
  const auto r = parse_zone(R"(
id = "one"
width = -5
height = 100
colour = "green"
[[spawn]]
name = "a"
x = 500
y = 1
[[spawn]]
name = "b"
x = 1
y = 1
radius = -2
)",
                            "bad.toml");
  EXPECT_FALSE(r.zone);
  EXPECT_TRUE(mentions(r.errors, "bad.toml: id", "must be an integer")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "name", "missing")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "width", "between")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "colour", "unknown key")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "spawn[0]", "outside the zone")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "spawn[1].radius", "between")) << dump(r.errors);
}

TEST(zone_loader, npc_spawns_must_name_a_defined_type_and_types_must_be_consistent) {
  const auto r = parse_zone(std::string(minimal) + R"(
[npc_types.bat]
name = "Bat"
hp = 10
damage_min = 5
damage_max = 2
aggro_radius = 50
leash_radius = 20
[[npc]]
type = "ghost"
x = 5
y = 5
)",
                            "npc.toml");
  EXPECT_FALSE(r.zone);
  EXPECT_TRUE(mentions(r.errors, "npc[0].type", "ghost")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "npc_types.bat.damage_max", "below")) << dump(r.errors);
  EXPECT_TRUE(mentions(r.errors, "npc_types.bat.aggro_radius", "leash")) << dump(r.errors);
}

TEST(zone_loader, a_zone_without_spawn_points_or_with_a_wrong_default_is_refused) {
  const auto none = parse_zone("id = 1\nname = \"x\"\nwidth = 50\nheight = 50\n", "a.toml");
  EXPECT_TRUE(mentions(none.errors, "spawn", "at least one")) << dump(none.errors);
  const auto wrong = parse_zone("default_spawn = \"nowhere\"\n" + std::string(minimal), "b.toml");
  EXPECT_TRUE(mentions(wrong.errors, "default_spawn", "nowhere")) << dump(wrong.errors);
}

TEST(zone_loader, portals_to_unknown_zones_or_spawn_points_fail_world_validation) {
  auto a = parse_zone(std::string(minimal) + R"(
[[portal]]
x = 1
y = 1
target_zone = 9
target_spawn = "start"
[[portal]]
x = 2
y = 2
target_zone = 7
target_spawn = "elsewhere"
)",
                      "a.toml");
  ASSERT_TRUE(a.zone) << dump(a.errors);
  auto twin = *a.zone;
  const auto errors = validate_world({*a.zone, twin});
  EXPECT_TRUE(mentions(errors, "portal[0]", "unknown zone 9")) << dump(errors);
  EXPECT_TRUE(mentions(errors, "portal[1]", "elsewhere")) << dump(errors);
  EXPECT_TRUE(mentions(errors, "Test", "zone id 7 is also used")) << dump(errors);
}

TEST(zone_loader, an_unreadable_file_or_empty_directory_is_an_error_not_an_exception) {
  const auto f = load_zone_file("/nonexistent/zone.toml");
  EXPECT_FALSE(f.zone);
  EXPECT_TRUE(mentions(f.errors, "zone.toml", "cannot be read"));
  const auto d = load_zone_directory("/nonexistent-dir");
  EXPECT_FALSE(d.errors.empty());
}

}  // namespace
}  // namespace quay::game
