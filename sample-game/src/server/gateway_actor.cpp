// The gateway actor (see gateway_actor.hpp).
#include "gateway_actor.hpp"

#include <algorithm>
#include <memory>

#include "quay/actors/system.hpp"
#include "quay/game/codec.hpp"
#include "quay/runtime/log.hpp"

namespace quay::game::server {

namespace {
spdlog::logger& logger(const server_context& ctx) {
  return ctx.log != nullptr ? *ctx.log : *log::get("game");
}
}  // namespace

namespace {
// How long a new login waits for a kicked session's final save before going ahead with the
// last stored state.
constexpr millis release_wait{2000};
}  // namespace

bool valid_character_name(std::string_view name) {
  if (name.empty() || name.size() > 24) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

gateway_actor::gateway_actor(server_context ctx, std::uint32_t start_zone,
                             std::atomic<std::size_t>* online_count, character_store* store,
                             std::vector<stored_character> stored,
                             std::atomic<std::size_t>* pending_writes)
    : ctx_(ctx),
      start_zone_(start_zone),
      online_count_(online_count),
      store_(store),
      pending_writes_(pending_writes) {
  for (auto& c : stored) {
    next_character_id_ = std::max(next_character_id_, c.record.character_id + 1);
    const std::string name = c.record.name;
    characters_.insert_or_assign(name, character{std::move(c.token), std::move(c.record)});
  }
}

void gateway_actor::define(handlers<gateway_actor>& h) {
  h.on<&gateway_actor::on_login>()
      .on<&gateway_actor::on_offline>()
      .on<&gateway_actor::on_save>()
      .on<&gateway_actor::on_whisper>()
      .on<&gateway_actor::on_shutdown>()
      .on<&gateway_actor::on_release>()
      .on<&gateway_actor::on_write_done>();
}

const character* gateway_actor::find(const std::string& name) const {
  const auto it = characters_.find(name);
  return it == characters_.end() ? nullptr : &it->second;
}

void gateway_actor::publish_count() {
  if (online_count_ != nullptr) {
    online_count_->store(online_.size(), std::memory_order_release);
  }
}

void gateway_actor::on_login(login_msg& m) {
  const auto deny = [&](game_errc e) { send(m.player, login_denied_msg{e, m.seq}); };
  if (shutting_down_) {
    return deny(game_errc::server_shutting_down);
  }
  if (!valid_character_name(m.name)) {
    return deny(game_errc::invalid_name);
  }
  auto it = characters_.find(m.name);
  if (it == characters_.end()) {
    if (!ctx_.settings->dev_accounts) {
      return deny(game_errc::invalid_credentials);
    }
    character c;
    c.token = m.token;
    c.record.character_id = next_character_id_++;
    c.record.name = m.name;
    c.record.zone_id = start_zone_;
    it = characters_.emplace(m.name, std::move(c)).first;
    mark_dirty(m.name);
  } else if (it->second.token != m.token) {
    return deny(game_errc::invalid_credentials);
  }
  if (online_.size() >= ctx_.settings->max_players && !online_.contains(m.name)) {
    return deny(game_errc::server_full);
  }
  const auto on = online_.find(m.name);
  if (on != online_.end()) {
    // One session per character: the older one is kicked, and this login waits for its final
    // save so the character continues from its latest state.
    if (!on->second.leaving) {
      send(on->second.player, kick_msg{game_errc::replaced_by_new_login});
      on->second.leaving = true;
    }
    if (const auto w = waiting_.find(m.name); w != waiting_.end()) {
      send(w->second.player, login_denied_msg{game_errc::replaced_by_new_login, w->second.seq});
    }
    waiting_.insert_or_assign(m.name, std::move(m));
    after(release_wait, release_msg{on->first});
    return;
  }
  grant(m);
}

void gateway_actor::grant(login_msg& m) {
  character& c = characters_.at(m.name);
  std::optional<actor_ref> zone = system().whereis(zone_actor_name(c.record.zone_id));
  if (!zone) {
    // The saved zone is not hosted (any more): start over in the start zone.
    c.record.zone_id = start_zone_;
    c.record.has_pos = false;
    zone = system().whereis(zone_actor_name(start_zone_));
  }
  if (!zone) {
    send(m.player, login_denied_msg{game_errc::internal_error, m.seq});
    return;
  }
  online_[m.name] = online{m.player, m.session, false};
  publish_count();
  send(m.player, login_granted_msg{c.record, *zone, m.seq});
}

void gateway_actor::on_offline(const player_offline_msg& m) {
  const auto it = online_.find(m.name);
  if (it != online_.end() && it->second.player == m.player) {
    it->second.leaving = true;
    // A session that never reached a zone has no final save to wait for; one in a zone gets
    // released by its save_msg, or by the timer if the save is lost.
    after(release_wait, release_msg{m.name});
  }
}

void gateway_actor::on_save(save_msg& m) {
  const auto it = characters_.find(m.record.name);
  if (it == characters_.end()) {
    return;
  }
  it->second.record = m.record;
  mark_dirty(m.record.name);
  if (m.final) {
    const auto on = online_.find(m.record.name);
    if (on != online_.end() && on->second.leaving) {
      on_release(release_msg{m.record.name});
    }
  }
}

void gateway_actor::on_release(const release_msg& m) {
  const auto on = online_.find(m.name);
  if (on == online_.end() || !on->second.leaving) {
    return;
  }
  online_.erase(on);
  publish_count();
  if (const auto w = waiting_.find(m.name); w != waiting_.end()) {
    login_msg next = std::move(w->second);
    waiting_.erase(w);
    grant(next);
  }
}

void gateway_actor::on_whisper(whisper_msg& m) {
  const auto to = online_.find(m.to);
  if (to == online_.end() || to->second.leaving) {
    ctx_.sink->send(m.from_session,
                    encode_error(fbb_, m.seq, type_id(wire::MessageType::ChatSend),
                                 game_errc::unknown_recipient, "unknown_recipient"));
    return;
  }
  const net::frame f = encode_chat_message(fbb_, 2, m.from_id, m.from_name, m.text, m.to);
  ctx_.sink->send(to->second.session, f);
  if (to->second.session != m.from_session) {
    ctx_.sink->send(m.from_session, f);  // the sender's echo
  }
}

void gateway_actor::on_shutdown(const shutdown_msg&) {
  shutting_down_ = true;
  logger(ctx_).info("shutting down: kicking {} players", online_.size());
  for (auto& [name, who] : online_) {
    if (!who.leaving) {
      send(who.player, kick_msg{game_errc::server_shutting_down});
      who.leaving = true;
    }
  }
  for (auto& [name, w] : waiting_) {
    send(w.player, login_denied_msg{game_errc::server_shutting_down, w.seq});
  }
  waiting_.clear();
}

}  // namespace quay::game::server

namespace quay::game::server {

void gateway_actor::publish_pending() {
  if (pending_writes_ != nullptr) {
    pending_writes_->store(dirty_.size() + in_flight_, std::memory_order_release);
  }
}

void gateway_actor::mark_dirty(const std::string& name) {
  if (store_ == nullptr) {
    return;
  }
  if (std::find(dirty_.begin(), dirty_.end(), name) == dirty_.end()) {
    dirty_.push_back(name);
  }
  flush();
}

void gateway_actor::flush() {
  // One write in flight at a time: the blocking pool has several threads, and two writes of
  // the same character running at once could land in the wrong order.
  if (store_ == nullptr || in_flight_ != 0 || dirty_.empty()) {
    publish_pending();
    return;
  }
  auto batch = std::make_shared<std::vector<stored_character>>();
  for (const auto& name : dirty_) {
    const character& c = characters_.at(name);
    batch->push_back({c.token, c.record});
  }
  dirty_.clear();
  in_flight_ = batch->size();
  publish_pending();
  auto error = std::make_shared<std::string>();
  character_store* store = store_;
  actor_system* sys = &system();
  const actor_ref me = self();
  system().get_port().run_blocking(
      [store, batch, error] { *error = store->save(*batch); },
      [sys, me, batch, error](std::error_code ec) {
        // On a worker, outside the gateway's turns: only a message may reach its state.
        std::string e = ec ? "blocking pool: " + ec.message() : *error;
        (void)sys->send(me, write_done_msg{std::move(e), batch->size()});
      });
}

void gateway_actor::on_write_done(const write_done_msg& m) {
  in_flight_ = 0;
  if (!m.error.empty()) {
    logger(ctx_).error("saving {} characters failed: {}", m.count, m.error);
  }
  flush();
}

}  // namespace quay::game::server
