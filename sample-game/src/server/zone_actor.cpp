// The zone actor (see zone_actor.hpp).
#include "zone_actor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <stdexcept>

#include "quay/actors/system.hpp"
#include "quay/game/codec.hpp"
#include "quay/runtime/log.hpp"
#include "quay/schemas/admin_generated.h"
#include "quay/schemas/message_ids_generated.h"
#include "quay/net/envelope.hpp"
#include "quay/net/error.hpp"
#include "server_metrics.hpp"

namespace quay::game::server {

namespace {
spdlog::logger& logger(const server_context& ctx) {
  return ctx.log != nullptr ? *ctx.log : *log::get("game");
}
std::uint64_t key(actor_ref a) { return (std::uint64_t{a.slot} << 32) | a.generation; }
}  // namespace

zone_actor::zone_actor(server_context ctx, zone_definition zone, std::uint64_t seed)
    : ctx_(ctx), world_(std::move(zone), ctx.settings->rules, seed, 0) {
  if (ctx_.metrics != nullptr) {
    metrics_ = ctx_.metrics->zone(world_.definition().id);
  }
}

void zone_actor::count_in() {
  ++stats_.messages_in;
  if (metrics_ != nullptr) metrics_->messages_in.fetch_add(1, std::memory_order_relaxed);
}

void zone_actor::define(handlers<zone_actor>& h) {
  h.on<&zone_actor::on_join>()
      .on<&zone_actor::on_move>()
      .on<&zone_actor::on_attack>()
      .on<&zone_actor::on_portal>()
      .on<&zone_actor::on_chat>()
      .on<&zone_actor::on_leave>()
      .on<&zone_actor::on_rebind>()
      .on<&zone_actor::on_tick>()
      .on<&zone_actor::on_save_all>()
      .on<&zone_actor::on_stats>()
      .on<&zone_actor::on_fault>()
      .on<&zone_actor::on_map_subscribe>()
      .on<&zone_actor::on_player_down>()
      .on<&zone_actor::on_player_gone>();
}

void zone_actor::on_stop(exit_reason reason) {
  if (reason == exit_reason::normal || members_.empty()) {
    return;
  }
  // The world may be half-way through the failed handler, but each player's record is plain
  // data of one entity (position, hp, level, experience), so it is handed over as it stands.
  logger(ctx_).error("zone {} '{}' stopped ({}): handing {} players over for re-entry",
                     world_.definition().id, world_.definition().name, to_string(reason),
                     members_.size());
  for (const auto& [id, who] : members_) {
    if (auto record = world_.record_of(id)) {
      send(ctx_.persistence, save_msg{*record, false, {}});
      send(who.player, zone_lost_msg{self(), std::move(*record)});
    }
  }
}

void zone_actor::on_fault(const zone_fault_msg& m) {
  throw std::runtime_error("injected fault: " + m.what);
}

void zone_actor::on_start() {
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->track("zone", self());
  }
  const auto period = millis(1000 / std::max<std::uint16_t>(ctx_.settings->tick_rate, 1));
  every(period, tick_msg{});
  every(millis(1000 * std::max<std::uint32_t>(ctx_.settings->stats_interval_s, 1)), stats_msg{});
  every(millis(1000 * std::max<std::uint32_t>(ctx_.settings->save_interval_s, 1)), save_all_msg{});
}

time_ms zone_actor::clock_ms() const { return now().time_since_epoch().count(); }

void zone_actor::send_to(entity_id id, const net::frame& f) {
  const auto it = members_.find(id);
  if (it != members_.end()) {
    it->second.session.send(f);
    ++stats_.frames_out;
    if (metrics_ != nullptr) metrics_->frames_out.fetch_add(1, std::memory_order_relaxed);
  }
}

void zone_actor::send_error(entity_id id, std::uint32_t seq, std::uint16_t type, game_errc e) {
  send_to(id, encode_error(fbb_, seq, type, e, to_string(e)));
}

void zone_actor::on_join(zone_join_msg& m) {
  count_in();
  player_record record = std::move(m.record);
  if (!m.spawn.empty()) {
    if (const auto at = world_.spawn_position(m.spawn)) {
      record.pos = *at;
      record.has_pos = true;
    } else {
      record.has_pos = false;
    }
  }
  record.zone_id = world_.definition().id;
  const entity_id id = world_.add_player(record, clock_ms());
  members_[id] = {m.player, ctx_.session(m.session)};
  by_player_[key(m.player)] = id;
  // The player actor hears of the join before the client does: the client answers EnterZone
  // with moves, which reach the player's mailbox after zone_joined_msg (mailboxes are ordered
  // at the push), so the player is already playing in this zone when they arrive.
  if (send(m.player, zone_joined_msg{self(), id})) {
    // The player actor is gone (disconnected during the login or a transfer): the character
    // leaves again at once, and is saved.
    on_leave(zone_leave_msg{id});
    return;
  }
  // The send can succeed while the player actor is stopping (the message is then dropped
  // unread): the monitor's down takes the character out in that case too.
  monitor(m.player);
  send_to(id, encode_enter_zone(fbb_, world_, id, ctx_.settings->rules));
}

void zone_actor::on_move(const zone_move_msg& m) {
  count_in();
  if (!members_.contains(m.id)) {
    return;  // left (portal, kick) while the move was on its way
  }
  const move_result r = world_.submit_move(m.id, m.pos, clock_ms());
  if (r.needs_correction()) {
    send_to(m.id, encode_move_correction(fbb_, m.seq, r));
  }
}

void zone_actor::on_attack(const zone_attack_msg& m) {
  count_in();
  if (!members_.contains(m.id)) {
    return;
  }
  const game_errc e = world_.submit_attack(m.id, m.target, clock_ms());
  if (e != game_errc::ok) {
    send_error(m.id, m.seq, type_id(wire::MessageType::Attack), e);
  }
}

void zone_actor::on_portal(const zone_portal_msg& m) {
  count_in();
  const auto it = members_.find(m.id);
  if (it == members_.end()) {
    return;
  }
  portal_exit exit;
  game_errc e = world_.use_portal(m.id, exit);
  std::optional<actor_ref> target;
  if (e == game_errc::ok) {
    target = system().whereis(zone_actor_name(exit.zone_id));
    if (!target) {
      e = game_errc::unknown_zone;
    }
  }
  if (e != game_errc::ok) {
    send_error(m.id, m.seq, type_id(wire::MessageType::UsePortal), e);
    return;
  }
  const member who = it->second;
  auto record = remove_member(m.id);
  // The target zone answers the player with zone_joined_msg; until then the player's requests
  // to this zone name an entity that is gone and are ignored.
  send(*target, zone_join_msg{who.player, who.session.handle(), std::move(*record), exit.spawn});
}

void zone_actor::on_chat(zone_chat_msg& m) {
  count_in();
  const auto v = world_.view(m.id);
  if (!v || !members_.contains(m.id)) {
    // The sender left (a portal in the same write as the line): the player relays it in the
    // zone it is entering, so the line is not lost.
    if (m.player) {
      send(m.player, chat_bounced_msg{self(), m.id, m.channel, std::move(m.text)});
    }
    return;
  }
  const net::frame f = encode_chat_message(fbb_, m.channel, m.id, *v->name, m.text, {});
  if (m.channel == 0) {
    for (const entity_id to : world_.players_near(m.id, ctx_.settings->rules.chat.say_radius)) {
      send_to(to, f);
    }
  } else {
    for (const auto& [to, who] : members_) {
      send_to(to, f);
    }
  }
}

std::optional<player_record> zone_actor::remove_member(entity_id id) {
  if (const auto it = members_.find(id); it != members_.end()) {
    by_player_.erase(key(it->second.player));
    demonitor(it->second.player);
    members_.erase(it);
  }
  return world_.remove_player(id);
}

void zone_actor::on_leave(const zone_leave_msg& m) {
  count_in();
  if (auto record = remove_member(m.id)) {
    send(ctx_.persistence, save_msg{std::move(*record), true, ctx_.gateway});
  }
}

void zone_actor::on_rebind(const zone_rebind_msg& m) {
  ++stats_.messages_in;
  const auto it = by_player_.find(key(m.from));
  if (it == by_player_.end()) {
    return;  // not here (a transfer is on its way): the holder asks the next zone
  }
  // The entity stays where it stood, with its id: bystanders see no leave and no enter.
  const entity_id id = it->second;
  by_player_.erase(it);
  demonitor(m.from);
  members_[id] = {m.to, ctx_.session(m.session)};
  by_player_[key(m.to)] = id;
  send(m.from, zone_rebound_msg{self()});
  if (send(m.to, zone_joined_msg{self(), id})) {
    on_leave(zone_leave_msg{id});  // the new session ended already: saved and removed
    return;
  }
  monitor(m.to);
  // The new client knows nothing yet: EnterZone, then everything it can see as enters.
  send_to(id, encode_enter_zone(fbb_, world_, id, ctx_.settings->rules));
  aoi_batch view;
  for (const entity_id e : world_.visible_to(id)) {
    if (e != id) {
      view.enters.push_back(e);
    }
  }
  if (!view.enters.empty()) {
    frames_.clear();
    encode_world_update(fbb_, world_, view, tick_, clock_ms(), frames_);
    for (const net::frame& f : frames_) {
      send_to(id, f);
    }
    frames_.clear();
  }
}

void zone_actor::on_player_down(const down& d) {
  // The down comes on the control lane, ahead of what the player sent before it stopped (its
  // last moves, its zone_leave_msg): those are already in the ordinary lane, so the leave is
  // queued behind them, and the character is saved with their effect.
  send(self(), player_gone_msg{d.who});
}

void zone_actor::on_player_gone(const player_gone_msg& m) {
  if (const auto it = by_player_.find(key(m.player)); it != by_player_.end()) {
    on_leave(zone_leave_msg{it->second});
  }
}

void zone_actor::deliver(const tick_output& out) {
  for (const auto& shared : out.view.shared) {
    // Encoded once, the same bytes queued on every observer's session.
    frames_.clear();
    encode_world_update(fbb_, world_, shared.batch, tick_, clock_ms(), frames_);
    for (const entity_id o : shared.observers) {
      for (const net::frame& f : frames_) {
        send_to(o, f);
      }
    }
  }
  for (const auto& personal : out.view.personal) {
    frames_.clear();
    encode_world_update(fbb_, world_, personal.batch, tick_, clock_ms(), frames_);
    for (const net::frame& f : frames_) {
      send_to(personal.observer, f);
    }
  }
  frames_.clear();
  if (!out.combat.empty() || !out.respawns.empty()) {
    // Hits go to the players involved.
    std::unordered_map<entity_id, std::vector<combat_event>> hits;
    for (const combat_event& h : out.combat) {
      if (members_.contains(h.attacker)) {
        hits[h.attacker].push_back(h);
      }
      if (members_.contains(h.target)) {
        hits[h.target].push_back(h);
      }
    }
    // A respawned player hears it here, with its new position: a respawn far from where it
    // died changes its cell, and the personal AOI batch that follows leaves the player itself
    // out. Observers see any respawn in WorldUpdate (full hp at the spawn point), which costs
    // nothing extra per observer.
    std::unordered_map<entity_id, vec2> respawned;
    for (const respawn_event& r : out.respawns) {
      if (members_.contains(r.id)) {
        respawned[r.id] = r.pos;
      }
    }
    for (auto& [player, list] : hits) {
      const auto rs = respawned.find(player);
      if (rs == respawned.end()) {
        send_to(player, encode_combat_events(fbb_, list, {}, std::nullopt));
        continue;
      }
      const entity_id self[] = {player};
      send_to(player, encode_combat_events(fbb_, list, self, rs->second));
      respawned.erase(rs);
    }
    for (const auto& [player, at] : respawned) {
      const entity_id self[] = {player};
      send_to(player, encode_combat_events(fbb_, {}, self, at));
    }
  }
  for (const progress_event& p : out.progress) {
    const auto v = world_.view(p.player);
    send_to(p.player, encode_progress(fbb_, p, v ? v->max_hp : 0));
  }
}

namespace {

// CPU time of the calling thread in milliseconds: a tick whose wall time is far above it was
// preempted (by other threads, the host) rather than slow. 0 where the clock is missing.
double thread_cpu_ms() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) {
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
  }
#endif
  return 0;
}

// Nearest-rank percentile of sorted samples: p99 of 100 ticks is the 99th, not the largest.
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

void zone_actor::on_tick(const tick_msg&) {
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_ms();
  ++tick_;
  deliver(world_.tick(clock_ms()));
  const double cpu_ms = thread_cpu_ms() - cpu_start;
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  stats_.cpu_ms.push_back(cpu_ms);
  stats_.ms.push_back(wall_ms);
  if (metrics_ != nullptr) {
    metrics_->ticks.fetch_add(1, std::memory_order_relaxed);
    metrics_->players.store(world_.player_count(), std::memory_order_relaxed);
    metrics_->npcs.store(world_.npc_count(), std::memory_order_relaxed);
    metrics_->tick_seconds.observe(wall_ms / 1e3);
    metrics_->tick_cpu_seconds.observe(cpu_ms / 1e3);
  }
  // The map views get a snapshot about five times a second (not counted in the tick's time).
  const std::uint32_t every = std::max<std::uint32_t>(1, ctx_.settings->tick_rate / 5u);
  if (!map_views_.empty() && tick_ % every == 0) {
    publish_map();
  }
}

void zone_actor::on_map_subscribe(const map_subscribe_msg& m) {
  // At most a few operators watch at once; past the bound a view is refused (closed).
  constexpr std::size_t max_views = 32;
  std::erase_if(map_views_, [&](const map_view& v) { return v.session == m.session; });
  if (m.subscribe && m.sink != nullptr) {
    if (map_views_.size() >= max_views) {
      m.sink->close(m.session, net::errc::closed_by_owner);
    } else {
      map_views_.push_back({m.session, m.sink});
      publish_map();  // the first picture at once, not after the next interval
    }
  }
  if (metrics_ != nullptr) metrics_->map_subscribers.store(map_views_.size());
}

void zone_actor::publish_map() {
  map_scratch_.clear();
  world_.all_entities(map_scratch_);
  std::vector<wire::MapDot> dots;
  dots.reserve(map_scratch_.size());
  for (const entity_view& e : map_scratch_) {
    dots.emplace_back(e.id, e.pos.x, e.pos.y,
                      e.kind == entity_kind::npc ? wire::MapDotKind::Npc : wire::MapDotKind::Player,
                      e.alive());
  }
  fbb_.Clear();
  const auto& def = world_.definition();
  const auto name = fbb_.CreateString(def.name);
  const auto vec = fbb_.CreateVectorOfStructs(dots);
  fbb_.Finish(wire::CreateZoneMap(fbb_, def.id, name, tick_, def.bounds.width, def.bounds.height,
                                  static_cast<std::uint32_t>(world_.player_count()),
                                  static_cast<std::uint32_t>(world_.npc_count()), vec));
  const net::frame f = net::encode_envelope(
      static_cast<std::uint16_t>(wire::MessageType::ZoneMap), tick_,
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(fbb_.GetBufferPointer()),
                                 fbb_.GetSize()));
  for (const map_view& v : map_views_) {
    v.sink->send(v.session, f);
  }
}

void zone_actor::on_stats(const stats_msg&) {
  auto& ms = stats_.ms;
  auto& cpu = stats_.cpu_ms;
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  logger(ctx_).info("zone {} '{}': ccu={} npcs={} ticks={} tick_p50={:.2f}ms "
                    "tick_p99={:.2f}ms tick_cpu_p99={:.2f}ms msgs_in={} frames_out={}",
                    world_.definition().id, world_.definition().name, world_.player_count(),
                    world_.npc_count(), ms.size(), percentile(ms, 0.50), percentile(ms, 0.99),
                    percentile(cpu, 0.99), stats_.messages_in, stats_.frames_out);
  stats_ = {};
}

void zone_actor::on_save_all(const save_all_msg&) {
  for (const auto& [id, who] : members_) {
    if (auto record = world_.record_of(id)) {
      send(ctx_.persistence, save_msg{std::move(*record), false, {}});
    }
  }
}

}  // namespace quay::game::server
