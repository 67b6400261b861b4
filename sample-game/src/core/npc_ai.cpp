// The NPC state machine (see npc_ai.hpp for the transition diagram).
#include "quay/game/npc_ai.hpp"

#include <cmath>

namespace quay::game {

namespace {

constexpr float arrive_epsilon = 0.05f;

void go_idle(npc_brain& brain, const npc_params& params, time_ms now, rng& random) {
  brain.state = npc_state::idle;
  brain.target = no_entity;
  brain.idle_until_ms = now + random.uniform_int(params.idle_min_ms, params.idle_max_ms);
}

vec2 random_wander_target(const npc_brain& brain, const npc_params& params, rng& random) {
  // Uniform over the disc: the square root keeps points from bunching at the centre.
  const float angle = random.uniform_float(0.0f, 6.2831853f);
  const float r = params.wander_radius * std::sqrt(random.uniform_float(0.0f, 1.0f));
  return {brain.home.x + r * std::cos(angle), brain.home.y + r * std::sin(angle)};
}

float step_length(float speed, time_ms dt) {
  return speed * static_cast<float>(dt) / 1000.0f;
}

}  // namespace

npc_brain make_npc_brain(vec2 home, const npc_params& params, time_ms now, rng& random) {
  npc_brain brain;
  brain.home = home;
  brain.wander_target = home;
  go_idle(brain, params, now, random);
  return brain;
}

void respawn_npc(npc_brain& brain, const npc_params& params, time_ms now, rng& random) {
  brain.wander_target = brain.home;
  go_idle(brain, params, now, random);
}

npc_decision update_npc(npc_brain& brain, const npc_params& params, const npc_perception& seen,
                        time_ms now, time_ms dt, rng& random) {
  npc_decision out;
  if (!seen.alive) {
    brain.state = npc_state::dead;
    brain.target = no_entity;
    return out;
  }
  if (brain.state == npc_state::dead) {
    go_idle(brain, params, now, random);
  }

  // Noticing an enemy interrupts idling and wandering.
  if (needs_enemy_scan(brain) && seen.nearest_enemy != no_entity) {
    brain.state = npc_state::chase;
    brain.target = seen.nearest_enemy;
    return out;  // the target's position is perceived from the next tick on
  }

  switch (brain.state) {
    case npc_state::idle:
      if (now >= brain.idle_until_ms) {
        brain.state = npc_state::wander;
        brain.wander_target = random_wander_target(brain, params, random);
      }
      break;

    case npc_state::wander: {
      out.moves = true;
      out.move_to = step_towards(seen.pos, brain.wander_target, step_length(params.speed, dt));
      if (distance(out.move_to, brain.wander_target) <= arrive_epsilon) {
        go_idle(brain, params, now, random);
      }
      break;
    }

    case npc_state::chase:
    case npc_state::attack: {
      const bool lost = !seen.target_present || !seen.target_alive ||
                        distance(seen.pos, brain.home) > params.leash_radius;
      if (lost) {
        brain.state = npc_state::returning;
        brain.target = no_entity;
        break;
      }
      const float gap = distance(seen.pos, seen.target_pos);
      if (gap <= params.attack_range) {
        brain.state = npc_state::attack;
        out.attack = brain.target;
      } else {
        brain.state = npc_state::chase;
        // Stop just inside attack range rather than on top of the target.
        const float wanted = gap - params.attack_range * 0.8f;
        const vec2 aim = step_towards(seen.pos, seen.target_pos, wanted);
        out.moves = true;
        out.move_to = step_towards(seen.pos, aim, step_length(params.speed, dt));
      }
      break;
    }

    case npc_state::returning: {
      out.moves = true;
      out.move_to = step_towards(seen.pos, brain.home, step_length(params.return_speed, dt));
      if (distance(out.move_to, brain.home) <= arrive_epsilon) {
        out.restore_hp = true;
        go_idle(brain, params, now, random);
      }
      break;
    }

    case npc_state::dead:
      break;
  }
  return out;
}

}  // namespace quay::game
