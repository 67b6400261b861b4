#pragma once
// Zone definitions, loaded from TOML data files (sample-game/data/zones/*.toml). Loading never
// throws: every problem found is returned as a zone_error naming where it is, and a file with
// any error yields no definition.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quay/game/combat.hpp"
#include "quay/game/npc_ai.hpp"
#include "quay/game/types.hpp"

namespace quay::game {

/// A named place where players appear: at `pos`, or, with a `radius`, at a uniformly random
/// point of the disc of that radius around it (inside the zone), so that a crowd arriving at
/// once does not stand on one spot.
struct spawn_point {
  std::string name;
  vec2 pos;
  float radius = 0.0f;
};

/// A kind of NPC: its name, level, fighting stats and behaviour.
struct npc_type {
  std::string key;           ///< the table key in the file ("wolf")
  std::string display_name;  ///< shown to players ("Grey Wolf")
  std::int32_t level = 1;
  std::int64_t xp_reward_bonus = 0;
  combat_stats combat;
  npc_params behaviour;
};

/// `count` NPCs of one type placed around `pos` within `spread` metres.
struct npc_spawn {
  std::string type;
  vec2 pos;
  std::int32_t count = 1;
  float spread = 0.0f;
};

/// A circle that moves a player who asks to use it to a spawn point of another zone.
struct portal {
  std::string name;
  vec2 pos;
  float radius = 3.0f;
  std::uint32_t target_zone = 0;
  std::string target_spawn;
};

/// One map.
struct zone_definition {
  std::uint32_t id = 0;
  std::string name;
  zone_bounds bounds;
  float cell_size = 50.0f;
  std::string default_spawn;
  std::vector<spawn_point> spawns;
  std::map<std::string, npc_type, std::less<>> npc_types;
  std::vector<npc_spawn> npcs;
  std::vector<portal> portals;

  /// The spawn point named `name`, or nullptr.
  const spawn_point* find_spawn(std::string_view name) const;
};

/// One problem in a zone file: `where` is "file: key path" (e.g. "meadow.toml: npc[2].x").
struct zone_error {
  std::string where;
  std::string message;
};

/// The definition when the file had no error, else the errors (all of them, in file order).
struct zone_load_result {
  std::optional<zone_definition> zone;
  std::vector<zone_error> errors;
};

/// Parses a zone from TOML text; `source` names it in errors. Pure: no I/O.
zone_load_result parse_zone(std::string_view toml_text, std::string_view source);

/// Reads and parses one zone file. Reports an unreadable file as an error.
zone_load_result load_zone_file(const std::filesystem::path& file);

/// All zones of a directory (every *.toml, sorted by file name) and the errors found.
struct world_load_result {
  std::vector<zone_definition> zones;
  std::vector<zone_error> errors;
};

/// Loads every zone file of `dir`, then checks the zones together (validate_world).
world_load_result load_zone_directory(const std::filesystem::path& dir);

/// Cross-zone checks: unique ids, and every portal leads to an existing zone and spawn point.
std::vector<zone_error> validate_world(const std::vector<zone_definition>& zones);

}  // namespace quay::game
