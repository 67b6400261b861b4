#pragma once
// Server-authoritative movement. The client reports where it moved to; the server accepts the
// move if the distance fits the player's movement budget and the zone's bounds, and otherwise
// answers with a correction (the authoritative position the client must snap to).
//
// The budget is a token bucket of metres: it refills at max_speed per second up to `burst_ms`
// worth of movement, and each accepted move spends its length. So two moves that arrive in the
// same tick after network jitter still pass, while a client that is steadily too fast is
// clamped, and a jump far beyond any budget is treated as a teleport attempt.

#include <cstdint>

#include "quay/game/types.hpp"

namespace quay::game {

/// Tuning of the movement rules.
struct movement_rules {
  float max_speed = 7.0f;          ///< metres per second
  float tolerance = 0.10f;         ///< extra fraction of budget granted for clock drift
  time_ms burst_ms = 1000;         ///< how much unused movement time can be saved up
  float teleport_distance = 40.0f; ///< a single report farther than this is refused outright
};

/// Per-entity movement state, owned by the zone world.
struct movement_state {
  vec2 pos;
  float budget_m = 0.0f;
  time_ms last_ms = 0;
  std::uint32_t corrections = 0;  ///< how many corrections this entity needed (for kicking cheats)
};

/// What happened to one reported move.
enum class move_verdict : std::uint8_t {
  accepted,        ///< the position is the client's
  speed_clamped,   ///< too far for the budget: moved as far as allowed towards the target
  out_of_bounds,   ///< outside the zone: clamped to the edge
  teleport,        ///< an impossible jump: refused, the entity stays where it was
  invalid,         ///< not a finite number: refused
  not_alive,       ///< the dead do not walk: refused
};

/// The result of validating one move.
struct move_result {
  vec2 pos;  ///< the authoritative position after the move
  move_verdict verdict = move_verdict::accepted;

  /// True when the client must be told its authoritative position.
  bool needs_correction() const { return verdict != move_verdict::accepted; }
};

/// Starts the movement state at `pos` at time `now` with an empty budget.
movement_state start_movement(vec2 pos, time_ms now);

/// Validates a reported move to `target` at time `now` and updates `state`. Pure.
move_result validate_move(movement_state& state, vec2 target, time_ms now,
                          const movement_rules& rules, const zone_bounds& bounds);

/// Fills the budget (`burst_ms` worth of movement), as if the entity had stood still that long:
/// a player entering a zone or respawning can walk at full speed at once. Pure.
void fill_budget(movement_state& state, const movement_rules& rules);

/// Places the entity at `pos` without validation (spawn, respawn, portal). Resets the budget.
void teleport_to(movement_state& state, vec2 pos, time_ms now);

}  // namespace quay::game
