// zone_world: entities, player requests (move, attack, portal) and queries.
// The tick itself (NPCs, respawns, batches) is in zone_world_tick.cpp.
#include "quay/game/zone_world.hpp"

#include <algorithm>
#include <cmath>

namespace quay::game {

namespace {

aoi_config grid_config(const zone_definition& zone, const world_rules& rules) {
  aoi_config c;
  c.width = zone.bounds.width;
  c.height = zone.bounds.height;
  c.cell_size = zone.cell_size;
  c.radius_cells = rules.aoi_radius_cells;
  return c;
}

}  // namespace

zone_world::zone_world(zone_definition zone, const world_rules& rules, std::uint64_t seed,
                       time_ms now)
    : zone_(std::move(zone)),
      rules_(rules),
      random_(seed),
      grid_(grid_config(zone_, rules_)),
      last_tick_ms_(now) {
  spawn_npcs(now);
}

zone_world::entity* zone_world::find(entity_id id) {
  const auto it = entities_.find(id);
  return it == entities_.end() ? nullptr : &it->second;
}

const zone_world::entity* zone_world::find(entity_id id) const {
  const auto it = entities_.find(id);
  return it == entities_.end() ? nullptr : &it->second;
}

std::optional<vec2> zone_world::spawn_position(std::string_view spawn_name) {
  const spawn_point* s = zone_.find_spawn(spawn_name);
  return s == nullptr ? std::nullopt : std::optional<vec2>(place_at(*s));
}

vec2 zone_world::place_at(const spawn_point& s) {
  if (s.radius <= 0.0f) {
    return s.pos;
  }
  // Uniform over the disc's area (hence the square root), clamped into the zone.
  const float angle = random_.uniform_float(0.0f, 6.2831853f);
  const float r = s.radius * std::sqrt(random_.uniform_float(0.0f, 1.0f));
  return zone_.bounds.clamp({s.pos.x + r * std::cos(angle), s.pos.y + r * std::sin(angle)});
}

void zone_world::spawn_npcs(time_ms now) {
  for (const npc_spawn& group : zone_.npcs) {
    const npc_type& type = zone_.npc_types.at(group.type);
    for (std::int32_t i = 0; i < group.count; ++i) {
      const float angle = random_.uniform_float(0.0f, 6.2831853f);
      const float r = group.spread * random_.uniform_float(0.0f, 1.0f);
      const vec2 home = zone_.bounds.clamp(
          {group.pos.x + r * std::cos(angle), group.pos.y + r * std::sin(angle)});
      entity e;
      e.id = next_id_++;
      e.kind = entity_kind::npc;
      e.name = type.display_name;
      e.type = &type;
      e.motion = start_movement(home, now);
      e.fight.stats = type.combat;
      e.fight.level = type.level;
      e.fight.hp = type.combat.max_hp;
      e.brain = make_npc_brain(home, type.behaviour, now, random_);
      grid_.add(e.id, home, false);
      npcs_.push_back(e.id);
      entities_.emplace(e.id, std::move(e));
    }
  }
}

entity_id zone_world::add_player(const player_record& record, time_ms now) {
  entity e;
  e.id = next_id_++;
  e.kind = entity_kind::player;
  e.name = record.name;
  e.character_id = record.character_id;
  const vec2 pos = record.has_pos && zone_.bounds.contains(record.pos)
                       ? record.pos
                       : place_at(*zone_.find_spawn(zone_.default_spawn));
  e.motion = start_movement(pos, now);
  // A client walks as soon as EnterZone arrives: starting with an empty budget would correct
  // a legal walk (docs/protocol.md, Entity sync).
  fill_budget(e.motion, rules_.movement);
  e.fight.level = std::clamp(record.level, 1, max_level);
  e.fight.xp = std::max<std::int64_t>(record.xp, 0);
  e.fight.stats = player_stats(e.fight.level);
  e.fight.hp = record.hp > 0 ? std::min(record.hp, e.fight.stats.max_hp) : e.fight.stats.max_hp;
  grid_.add(e.id, pos, true);
  ++player_count_;
  const entity_id id = e.id;
  entities_.emplace(id, std::move(e));
  return id;
}

std::optional<player_record> zone_world::record_of(entity_id id) const {
  const entity* e = find(id);
  if (e == nullptr || e->kind != entity_kind::player) {
    return std::nullopt;
  }
  player_record r;
  r.character_id = e->character_id;
  r.name = e->name;
  r.zone_id = zone_.id;
  r.pos = e->motion.pos;
  r.has_pos = true;
  r.level = e->fight.level;
  r.xp = e->fight.xp;
  r.hp = e->fight.hp;
  return r;
}

std::optional<player_record> zone_world::remove_player(entity_id id) {
  auto record = record_of(id);
  if (!record) {
    return std::nullopt;
  }
  grid_.remove(id);
  entities_.erase(id);
  std::erase(dead_, id);
  --player_count_;
  return record;
}

move_result zone_world::submit_move(entity_id id, vec2 target, time_ms now) {
  entity* e = find(id);
  if (e == nullptr || e->kind != entity_kind::player) {
    return {target, move_verdict::invalid};
  }
  if (!e->fight.alive()) {
    return {e->motion.pos, move_verdict::not_alive};
  }
  const vec2 before = e->motion.pos;
  const move_result r = validate_move(e->motion, target, now, rules_.movement, zone_.bounds);
  if (r.pos != before) {
    grid_.move(id, r.pos);
  }
  return r;
}

game_errc zone_world::submit_attack(entity_id attacker_id, entity_id target_id, time_ms now) {
  entity* attacker = find(attacker_id);
  if (attacker == nullptr) {
    return game_errc::unexpected_message;
  }
  if (attacker_id == target_id) {
    return game_errc::invalid_target;
  }
  entity* target = find(target_id);
  if (target == nullptr) {
    return game_errc::unknown_target;
  }
  if (attacker->kind == entity_kind::player && target->kind == entity_kind::player) {
    // The sample game is PvE: players fight NPCs only (no griefing, and no experience farmed
    // on a friend who lets itself be killed again and again).
    return game_errc::invalid_target;
  }
  const attack_outcome hit = resolve_attack(attacker->fight, attacker->motion.pos, target->fight,
                                            target->motion.pos, now, random_);
  if (hit.error == game_errc::ok) {
    apply_hit(*attacker, *target, hit);
  }
  return hit.error;
}

void zone_world::apply_hit(entity& attacker, entity& target, const attack_outcome& hit) {
  pending_.combat.push_back({attacker.id, target.id, hit.damage, hit.killed});
  grid_.touch(target.id);
  if (!hit.killed) {
    if (target.kind == entity_kind::npc && target.brain.target == no_entity &&
        target.brain.state != npc_state::returning) {
      // Being hit provokes an NPC even from outside its aggro radius.
      target.brain.state = npc_state::chase;
      target.brain.target = attacker.id;
    }
    return;
  }
  dead_.push_back(target.id);
  if (target.kind == entity_kind::npc) {
    target.brain.state = npc_state::dead;
    target.brain.target = no_entity;
  }
  if (attacker.kind == entity_kind::player) {
    std::int64_t xp = xp_for_kill(attacker.fight.level, target.fight.level);
    if (target.type != nullptr && xp > 0) {
      xp += target.type->xp_reward_bonus;
    }
    if (xp > 0) {
      const std::int32_t levels = award_xp(attacker.fight, xp);
      pending_.progress.push_back(
          {attacker.id, xp, attacker.fight.level, levels, attacker.fight.xp});
      if (levels > 0) {
        grid_.touch(attacker.id);
      }
    }
  }
}

game_errc zone_world::use_portal(entity_id id, portal_exit& exit) const {
  const entity* e = find(id);
  if (e == nullptr || e->kind != entity_kind::player) {
    return game_errc::unknown_target;
  }
  if (!e->fight.alive()) {
    return game_errc::self_dead;
  }
  for (const portal& p : zone_.portals) {
    if (distance_sq(p.pos, e->motion.pos) <= p.radius * p.radius) {
      exit.zone_id = p.target_zone;
      exit.spawn = p.target_spawn;
      return game_errc::ok;
    }
  }
  return game_errc::not_on_portal;
}

std::vector<entity_id> zone_world::players_near(entity_id id, float radius) const {
  std::vector<entity_id> out;
  const entity* e = find(id);
  if (e == nullptr) {
    return out;
  }
  grid_.for_each_near(e->motion.pos, radius, [&](entity_id other, vec2) {
    const entity* o = find(other);
    if (o != nullptr && o->kind == entity_kind::player) {
      out.push_back(other);
    }
  });
  return out;
}

std::optional<entity_view> zone_world::view(entity_id id) const {
  const entity* e = find(id);
  if (e == nullptr) {
    return std::nullopt;
  }
  return entity_view{e->id,          e->kind,          &e->name,      e->motion.pos,
                     e->fight.hp,    e->fight.stats.max_hp, e->fight.level};
}

void zone_world::all_entities(std::vector<entity_view>& out) const {
  out.reserve(out.size() + entities_.size());
  for (const auto& [id, e] : entities_) {
    out.push_back(entity_view{e.id,       e.kind,      &e.name,       e.motion.pos,
                              e.fight.hp, e.fight.stats.max_hp, e.fight.level});
  }
}

}  // namespace quay::game
