#pragma once
// NPC behaviour as a state machine stepped with time as a parameter:
//
//   idle --(timer)--> wander --(arrived)--> idle
//   idle/wander --(enemy within aggro radius)--> chase --(in attack range)--> attack
//   attack --(target out of range)--> chase
//   chase/attack --(target gone or dead, or farther than leash radius from home)--> returning
//   returning --(home reached; hp restored)--> idle           (enemies are ignored meanwhile)
//   any --(killed)--> dead --(respawned by the world)--> idle
//
// The world gathers what the NPC perceives (its position, the nearest enemy when it looks for
// one, its target's position) and applies the decision (move, attack); the brain itself does
// no lookup, so it is tested with hand-made perceptions.

#include <cstdint>

#include "quay/game/rng.hpp"
#include "quay/game/types.hpp"

namespace quay::game {

/// Behaviour tuning of one NPC type.
struct npc_params {
  float aggro_radius = 10.0f;   ///< enemies closer than this are attacked
  float leash_radius = 30.0f;   ///< farther than this from home, the NPC gives up and returns
  float wander_radius = 8.0f;   ///< wander targets lie within this distance of home
  float speed = 4.0f;           ///< metres per second while wandering or chasing
  float return_speed = 8.0f;    ///< metres per second while returning home
  float attack_range = 2.5f;    ///< must match the NPC's combat range
  time_ms idle_min_ms = 2000;
  time_ms idle_max_ms = 6000;
};

/// The NPC's current behaviour.
enum class npc_state : std::uint8_t { idle, wander, chase, attack, returning, dead };

/// Per-NPC behaviour state, owned by the zone world.
struct npc_brain {
  npc_state state = npc_state::idle;
  vec2 home;
  vec2 wander_target;
  time_ms idle_until_ms = 0;
  entity_id target = no_entity;
};

/// What the NPC knows this tick.
struct npc_perception {
  vec2 pos;
  bool alive = true;
  /// Nearest living enemy within aggro radius (only filled when needs_enemy_scan()).
  entity_id nearest_enemy = no_entity;
  /// The current target's state (only meaningful when brain.target != no_entity).
  bool target_present = false;
  bool target_alive = false;
  vec2 target_pos;
};

/// What the NPC wants to do this tick.
struct npc_decision {
  bool moves = false;
  vec2 move_to;                      ///< new position when `moves`
  entity_id attack = no_entity;      ///< attack this entity (cooldown and range checked by combat)
  bool restore_hp = false;           ///< arrived home after giving up: heal to full
};

/// Starts a brain at `home`, idle until a random time after `now`.
npc_brain make_npc_brain(vec2 home, const npc_params& params, time_ms now, rng& random);

/// True in the states where the NPC looks for enemies (idle and wander), so the world only
/// pays for the neighbourhood query when it matters.
inline bool needs_enemy_scan(const npc_brain& brain) {
  return brain.state == npc_state::idle || brain.state == npc_state::wander;
}

/// Steps the brain by `dt` milliseconds ending at `now`. Pure apart from `random`.
npc_decision update_npc(npc_brain& brain, const npc_params& params,
                        const npc_perception& seen, time_ms now, time_ms dt, rng& random);

/// Resets a brain after a respawn: idle at home, no target.
void respawn_npc(npc_brain& brain, const npc_params& params, time_ms now, rng& random);

}  // namespace quay::game
