#pragma once
// Combat rules: attacks in range with a cooldown, damage, death with a respawn timer, and
// experience with levels. Pure functions over plain state; time and randomness are parameters.

#include <cstdint>

#include "quay/game/game_error.hpp"
#include "quay/game/rng.hpp"
#include "quay/game/types.hpp"

namespace quay::game {

/// What an entity can do in a fight.
struct combat_stats {
  std::int32_t max_hp = 100;
  std::int32_t damage_min = 8;
  std::int32_t damage_max = 12;
  float attack_range = 3.0f;       ///< metres, centre to centre
  time_ms cooldown_ms = 1500;      ///< between two attacks
  time_ms respawn_delay_ms = 5000; ///< dead time before coming back
};

/// The fighting state of one entity, owned by the zone world.
struct combatant {
  combat_stats stats;
  std::int32_t hp = 100;
  std::int32_t level = 1;
  std::int64_t xp = 0;            ///< experience towards the next level
  time_ms next_attack_ms = 0;     ///< earliest time of the next attack
  time_ms respawn_at_ms = 0;      ///< when dead: the time it comes back

  bool alive() const { return hp > 0; }
};

/// The outcome of one attack attempt.
struct attack_outcome {
  game_errc error = game_errc::ok;  ///< ok, or why nothing happened
  std::int32_t damage = 0;
  bool killed = false;
};

/// Highest level a player can reach.
inline constexpr std::int32_t max_level = 60;

/// Stats of a player of `level`: hp and damage grow with the level.
combat_stats player_stats(std::int32_t level);

/// Experience needed to go from `level` to `level + 1`.
std::int64_t xp_to_next_level(std::int32_t level);

/// Experience a killer of `killer_level` earns for a victim of `victim_level`: more for
/// stronger victims, nothing for victims five or more levels below.
std::int64_t xp_for_kill(std::int32_t killer_level, std::int32_t victim_level);

/// Resolves an attack at time `now`. On success the attacker's cooldown restarts, the target
/// loses hp, and a killed target gets its respawn time. Pure apart from `random`.
attack_outcome resolve_attack(combatant& attacker, vec2 attacker_pos, combatant& target,
                              vec2 target_pos, time_ms now, rng& random);

/// Adds experience; returns how many levels were gained. A level-up restores full hp with the
/// new level's stats (for players, whose stats follow player_stats).
std::int32_t award_xp(combatant& c, std::int64_t xp);

/// True when `c` is dead and its respawn time has come.
inline bool respawn_due(const combatant& c, time_ms now) {
  return !c.alive() && now >= c.respawn_at_ms;
}

/// Brings `c` back with full hp and no pending cooldown.
inline void revive(combatant& c) {
  c.hp = c.stats.max_hp;
  c.next_attack_ms = 0;
  c.respawn_at_ms = 0;
}

}  // namespace quay::game
