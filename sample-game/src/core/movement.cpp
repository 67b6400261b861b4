// Movement validation: a token bucket of metres, bounds and teleport detection.
#include "quay/game/movement.hpp"

#include <algorithm>
#include <cmath>

namespace quay::game {

namespace {

void refill(movement_state& state, time_ms now, const movement_rules& rules) {
  // Time never runs backwards for the budget, so a stale or reordered timestamp earns nothing.
  const time_ms elapsed = std::max<time_ms>(now - state.last_ms, 0);
  state.last_ms = std::max(state.last_ms, now);
  const float per_ms = rules.max_speed * (1.0f + rules.tolerance) / 1000.0f;
  const float cap = per_ms * static_cast<float>(rules.burst_ms);
  state.budget_m = std::min(state.budget_m + per_ms * static_cast<float>(elapsed), cap);
}

}  // namespace

movement_state start_movement(vec2 pos, time_ms now) {
  movement_state state;
  state.pos = pos;
  state.last_ms = now;
  return state;
}

void fill_budget(movement_state& state, const movement_rules& rules) {
  state.budget_m = rules.max_speed * (1.0f + rules.tolerance) / 1000.0f *
                   static_cast<float>(rules.burst_ms);
}

void teleport_to(movement_state& state, vec2 pos, time_ms now) {
  state.pos = pos;
  state.budget_m = 0.0f;
  state.last_ms = now;
}

move_result validate_move(movement_state& state, vec2 target, time_ms now,
                          const movement_rules& rules, const zone_bounds& bounds) {
  refill(state, now, rules);
  if (!std::isfinite(target.x) || !std::isfinite(target.y)) {
    ++state.corrections;
    return {state.pos, move_verdict::invalid};
  }
  const float wanted = distance(state.pos, target);
  if (wanted > rules.teleport_distance) {
    ++state.corrections;
    return {state.pos, move_verdict::teleport};
  }
  move_verdict verdict = move_verdict::accepted;
  vec2 next = target;
  if (wanted > state.budget_m) {
    next = step_towards(state.pos, target, state.budget_m);
    verdict = move_verdict::speed_clamped;
  }
  if (!bounds.contains(next)) {
    next = bounds.clamp(next);
    verdict = move_verdict::out_of_bounds;
  }
  state.budget_m = std::max(state.budget_m - distance(state.pos, next), 0.0f);
  state.pos = next;
  if (verdict != move_verdict::accepted) {
    ++state.corrections;
  }
  return {next, verdict};
}

}  // namespace quay::game
