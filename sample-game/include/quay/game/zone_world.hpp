#pragma once
// The state of one zone (map) and the rules that step it: the pure heart of a zone actor.
//
// Requests from players are applied when they arrive (move, attack, portal) with the arrival
// time as `now`; tick(now) then advances NPCs and respawns and collects everything that changed
// since the previous tick into per-observer update batches (tick_output). The zone actor only
// forwards requests, encodes the batches and sends them; it holds no game logic of its own.
//
// Thread contract: owner only. A zone_world belongs to one zone actor; nothing here locks.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "quay/game/aoi_grid.hpp"
#include "quay/game/chat_rules.hpp"
#include "quay/game/combat.hpp"
#include "quay/game/game_error.hpp"
#include "quay/game/movement.hpp"
#include "quay/game/npc_ai.hpp"
#include "quay/game/rng.hpp"
#include "quay/game/zone_definition.hpp"

namespace quay::game {

/// Rules shared by every zone of a server.
struct world_rules {
  movement_rules movement;
  chat_rules chat;
  int aoi_radius_cells = 1;
};

/// What kind of entity an id names.
enum class entity_kind : std::uint8_t { player = 0, npc = 1 };

/// The saved and transferred part of a player: what survives logout and zone changes.
struct player_record {
  std::uint64_t character_id = 0;
  std::string name;
  std::uint32_t zone_id = 0;
  vec2 pos;
  bool has_pos = false;   ///< false: place at the zone's default spawn point
  std::int32_t level = 1;
  std::int64_t xp = 0;
  std::int32_t hp = 0;    ///< 0 or less: full hp on entry (a dead player comes back healed)
};

/// A read-only view of one entity, for encoding snapshots and updates.
struct entity_view {
  entity_id id = no_entity;
  entity_kind kind = entity_kind::player;
  const std::string* name = nullptr;  ///< valid until the entity leaves the world
  vec2 pos;
  std::int32_t hp = 0;
  std::int32_t max_hp = 0;
  std::int32_t level = 1;
  bool alive() const { return hp > 0; }
};

/// One hit, for the attacker's and the target's clients.
struct combat_event {
  entity_id attacker = no_entity;
  entity_id target = no_entity;
  std::int32_t damage = 0;
  bool killed = false;
};

/// Experience and levels a player gained.
struct progress_event {
  entity_id player = no_entity;
  std::int64_t xp_gained = 0;
  std::int32_t level = 1;
  std::int32_t levels_gained = 0;
  std::int64_t xp = 0;  ///< experience towards the next level after the gain
};

/// An entity came back to life (its new state also arrives through the AOI batches).
struct respawn_event {
  entity_id id = no_entity;
  vec2 pos;
};

/// Everything one tick produced. Valid until the next call to tick().
struct tick_output {
  aoi_events view;                       ///< per-observer batches of enter / leave / update
  std::vector<combat_event> combat;      ///< hits since the previous tick, in order
  std::vector<progress_event> progress;
  std::vector<respawn_event> respawns;
};

/// Where a portal sends a player.
struct portal_exit {
  std::uint32_t zone_id = 0;
  std::string spawn;
};

/// One zone's world. Owner only (see the file comment).
class zone_world {
public:
  /// Builds the world of `zone` and spawns its NPCs; `seed` fixes every random choice.
  zone_world(zone_definition zone, const world_rules& rules, std::uint64_t seed, time_ms now);

  /// The zone this world plays.
  const zone_definition& definition() const { return zone_; }

  /// Adds a player (at its saved position when it has one inside the zone, else at the default
  /// spawn point). Its first batch (everything in view) comes with the next tick.
  entity_id add_player(const player_record& record, time_ms now);

  /// Removes a player and returns its record (for saving or a zone transfer); nullopt when the
  /// id is not a player of this zone.
  std::optional<player_record> remove_player(entity_id id);

  /// The player's current record (for periodic saves), nullopt when not a player here.
  std::optional<player_record> record_of(entity_id id) const;

  /// Applies a reported move at `now`. A result that needs_correction() must be sent back.
  move_result submit_move(entity_id id, vec2 target, time_ms now);

  /// Resolves an attack at `now`; ok or why it was refused. Hits appear in the next tick.
  game_errc submit_attack(entity_id attacker, entity_id target, time_ms now);

  /// The exit of the portal the player stands in, or not_on_portal / unknown_target.
  game_errc use_portal(entity_id id, portal_exit& exit) const;

  /// Players within `radius` metres of the entity (itself included), for "say".
  std::vector<entity_id> players_near(entity_id id, float radius) const;

  /// Where a player arriving at the named spawn point appears (a random point of its disc when
  /// it has a radius), nullopt when the zone has no spawn point by that name.
  std::optional<vec2> spawn_position(std::string_view name);

  /// Advances NPCs and respawns to `now` and collects the tick's updates.
  const tick_output& tick(time_ms now);

  /// The entity's current state, nullopt when unknown.
  std::optional<entity_view> view(entity_id id) const;

  /// Every entity (players and NPCs, dead ones included), in no particular order: the admin
  /// map's snapshot. Appends to `out`.
  void all_entities(std::vector<entity_view>& out) const;

  /// Number of players and NPCs in the world.
  std::size_t player_count() const { return player_count_; }
  std::size_t npc_count() const { return npcs_.size(); }

  /// The ids of the entities an observer currently sees (for tests and diagnostics).
  std::vector<entity_id> visible_to(entity_id observer) const { return grid_.visible_to(observer); }

private:
  struct entity {
    entity_id id = no_entity;
    entity_kind kind = entity_kind::player;
    std::string name;
    movement_state motion;
    combatant fight;
    std::uint64_t character_id = 0;
    const npc_type* type = nullptr;  // NPCs only; points into zone_.npc_types
    npc_brain brain;                 // NPCs only
  };

  entity* find(entity_id id);
  const entity* find(entity_id id) const;
  void spawn_npcs(time_ms now);
  void step_npc(entity& npc, time_ms now, time_ms dt);
  entity_id nearest_enemy(const entity& npc) const;
  void apply_hit(entity& attacker, entity& target, const attack_outcome& hit);
  void respawn_due(time_ms now);
  vec2 place_at(const spawn_point& s);

  zone_definition zone_;
  world_rules rules_;
  rng random_;
  aoi_grid grid_;
  std::unordered_map<entity_id, entity> entities_;
  std::vector<entity_id> npcs_;
  std::vector<entity_id> dead_;
  std::size_t player_count_ = 0;
  entity_id next_id_ = 1;
  time_ms last_tick_ms_ = 0;
  tick_output out_;
  tick_output pending_;  // events between ticks; moved into out_ by tick()
};

}  // namespace quay::game
