// Combat: attack resolution, death, experience and levels.
#include "quay/game/combat.hpp"

#include <algorithm>

namespace quay::game {

combat_stats player_stats(std::int32_t level) {
  const std::int32_t l = std::clamp(level, 1, max_level);
  combat_stats s;
  s.max_hp = 100 + 20 * (l - 1);
  s.damage_min = 8 + 2 * (l - 1);
  s.damage_max = 12 + 3 * (l - 1);
  s.attack_range = 3.0f;
  s.cooldown_ms = 1500;
  s.respawn_delay_ms = 5000;
  return s;
}

std::int64_t xp_to_next_level(std::int32_t level) {
  const std::int64_t l = std::clamp(level, 1, max_level);
  return 100 * l * l;
}

std::int64_t xp_for_kill(std::int32_t killer_level, std::int32_t victim_level) {
  const std::int32_t diff = victim_level - killer_level;
  if (diff <= -5) {
    return 0;
  }
  const std::int64_t base = 20 + 10 * static_cast<std::int64_t>(std::max(victim_level, 1));
  // +/-15 % per level of difference, capped at double for much stronger victims.
  const std::int64_t percent = std::clamp(100 + 15 * diff, 25, 200);
  return base * percent / 100;
}

attack_outcome resolve_attack(combatant& attacker, vec2 attacker_pos, combatant& target,
                              vec2 target_pos, time_ms now, rng& random) {
  if (&attacker == &target) {
    return {game_errc::invalid_target};
  }
  if (!attacker.alive()) {
    return {game_errc::self_dead};
  }
  if (!target.alive()) {
    return {game_errc::target_dead};
  }
  if (now < attacker.next_attack_ms) {
    return {game_errc::on_cooldown};
  }
  const float range = attacker.stats.attack_range;
  if (distance_sq(attacker_pos, target_pos) > range * range) {
    return {game_errc::out_of_range};
  }
  attacker.next_attack_ms = now + attacker.stats.cooldown_ms;
  const auto damage = static_cast<std::int32_t>(
      random.uniform_int(attacker.stats.damage_min, attacker.stats.damage_max));
  target.hp = std::max(target.hp - damage, 0);
  attack_outcome out{game_errc::ok, damage, false};
  if (target.hp == 0) {
    out.killed = true;
    target.respawn_at_ms = now + target.stats.respawn_delay_ms;
  }
  return out;
}

std::int32_t award_xp(combatant& c, std::int64_t xp) {
  if (xp <= 0 || c.level >= max_level) {
    return 0;
  }
  c.xp += xp;
  std::int32_t gained = 0;
  while (c.level < max_level && c.xp >= xp_to_next_level(c.level)) {
    c.xp -= xp_to_next_level(c.level);
    ++c.level;
    ++gained;
  }
  if (c.level >= max_level) {
    c.xp = 0;
  }
  if (gained > 0) {
    c.stats = player_stats(c.level);
    if (c.alive()) {
      c.hp = c.stats.max_hp;
    }
  }
  return gained;
}

}  // namespace quay::game
