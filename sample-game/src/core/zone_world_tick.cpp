// zone_world::tick: NPC behaviour, respawns, and the tick's update batches.
#include <algorithm>
#include <limits>

#include "quay/game/zone_world.hpp"

namespace quay::game {

entity_id zone_world::nearest_enemy(const entity& npc) const {
  const float radius = npc.type->behaviour.aggro_radius;
  if (radius <= 0.0f) {
    return no_entity;
  }
  entity_id best = no_entity;
  float best_d2 = std::numeric_limits<float>::max();
  grid_.for_each_near(npc.motion.pos, radius, [&](entity_id other, vec2 pos) {
    const float d2 = distance_sq(pos, npc.motion.pos);
    // Ties go to the lower id so the choice never depends on hash-map or cell order.
    if (d2 > best_d2 || (d2 == best_d2 && other > best)) {
      return;
    }
    const entity* o = find(other);
    if (o != nullptr && o->kind == entity_kind::player && o->fight.alive()) {
      best = other;
      best_d2 = d2;
    }
  });
  return best;
}

void zone_world::step_npc(entity& npc, time_ms now, time_ms dt) {
  npc_perception seen;
  seen.pos = npc.motion.pos;
  seen.alive = npc.fight.alive();
  if (seen.alive && needs_enemy_scan(npc.brain)) {
    seen.nearest_enemy = nearest_enemy(npc);
  }
  entity* target = npc.brain.target == no_entity ? nullptr : find(npc.brain.target);
  if (target != nullptr) {
    seen.target_present = true;
    seen.target_alive = target->fight.alive();
    seen.target_pos = target->motion.pos;
  }
  const npc_decision d = update_npc(npc.brain, npc.type->behaviour, seen, now, dt, random_);
  if (d.moves && d.move_to != npc.motion.pos) {
    npc.motion.pos = zone_.bounds.clamp(d.move_to);
    grid_.move(npc.id, npc.motion.pos);
  }
  if (d.restore_hp && npc.fight.hp != npc.fight.stats.max_hp) {
    npc.fight.hp = npc.fight.stats.max_hp;
    grid_.touch(npc.id);
  }
  if (d.attack != no_entity && target != nullptr) {
    const attack_outcome hit = resolve_attack(npc.fight, npc.motion.pos, target->fight,
                                              target->motion.pos, now, random_);
    if (hit.error == game_errc::ok) {
      apply_hit(npc, *target, hit);
    }
  }
}

void zone_world::respawn_due(time_ms now) {
  // The stable partition keeps respawns within one tick in death order, so replays with the
  // same seed produce the same event order.
  const auto due_end = std::stable_partition(dead_.begin(), dead_.end(), [&](entity_id id) {
    const entity* e = find(id);
    return e != nullptr && quay::game::respawn_due(e->fight, now);
  });
  for (auto it = dead_.begin(); it != due_end; ++it) {
    entity& e = *find(*it);
    revive(e.fight);
    const vec2 at = e.kind == entity_kind::npc ? e.brain.home
                                               : place_at(*zone_.find_spawn(zone_.default_spawn));
    teleport_to(e.motion, at, now);
    if (e.kind == entity_kind::player) {
      fill_budget(e.motion, rules_.movement);  // walks at once after its respawn
    }
    if (e.kind == entity_kind::npc) {
      respawn_npc(e.brain, e.type->behaviour, now, random_);
    }
    grid_.move(e.id, at);
    pending_.respawns.push_back({e.id, at});
  }
  dead_.erase(dead_.begin(), due_end);
}

const tick_output& zone_world::tick(time_ms now) {
  const time_ms dt = std::max<time_ms>(now - last_tick_ms_, 0);
  last_tick_ms_ = std::max(last_tick_ms_, now);
  for (const entity_id id : npcs_) {
    step_npc(*find(id), now, dt);
  }
  respawn_due(now);

  // Hand over the events gathered since the last tick; keep the vectors' capacity.
  std::swap(out_.combat, pending_.combat);
  std::swap(out_.progress, pending_.progress);
  std::swap(out_.respawns, pending_.respawns);
  pending_.combat.clear();
  pending_.progress.clear();
  pending_.respawns.clear();
  grid_.flush(out_.view);
  return out_;
}

}  // namespace quay::game
