// The player actor (see player_actor.hpp).
#include "player_actor.hpp"

#include <limits>

#include "quay/game/codec.hpp"
#include "quay/actors/system.hpp"
#include "quay/net/error.hpp"
#include "quay/runtime/log.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/server_info_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::game::server {

namespace {
constexpr millis login_deadline{10'000};

spdlog::logger& logger(const server_context& ctx) {
  return ctx.log != nullptr ? *ctx.log : *log::get("game");
}
}  // namespace

player_actor::player_actor(server_context ctx, net::session_handle session, std::string address)
    : ctx_(ctx),
      session_(session),
      address_(std::move(address)),
      messages_(ctx.settings->messages, 0),
      unexpected_(ctx.settings->unexpected, 0) {
  if (ctx_.connections != nullptr) {
    // Over the limit the session is told so (on_start) instead of being closed bare by the
    // listener: the socket can still take a Kicked.
    const std::size_t open = ctx_.connections->fetch_add(1, std::memory_order_relaxed);
    over_limit_ = open >= ctx_.settings->max_players + ctx_.settings->connection_slack;
  }
  register_messages();
}

player_actor::~player_actor() {
  if (ctx_.connections != nullptr) {
    ctx_.connections->fetch_sub(1, std::memory_order_relaxed);
  }
}

void player_actor::define(handlers<player_actor>& h) {
  h.on<&player_actor::on_accepted>()
      .on<&player_actor::on_frame>()
      .on<&player_actor::on_closed>()
      .on<&player_actor::on_granted>()
      .on<&player_actor::on_denied>()
      .on<&player_actor::on_joined>()
      .on<&player_actor::on_kick>()
      .on<&player_actor::on_login_timeout>()
      .on<&player_actor::on_zone_lost>()
      .on<&player_actor::on_rejoin>()
      .on<&player_actor::on_zone_bound>()
      .on<&player_actor::on_chat_bounced>()
      .on<&player_actor::on_resume_granted>()
      .on<&player_actor::on_hand_over>()
      .on<&player_actor::on_rebound>();
}

void player_actor::on_start() {
  const time_ms t = now().time_since_epoch().count();
  messages_ = token_bucket(ctx_.settings->messages, t);
  unexpected_ = token_bucket(ctx_.settings->unexpected, t);
  if (over_limit_) {
    logger(ctx_).warn("session {}:{} refused: connection limit ({}) reached; told ServerFull",
                      session_.slot, session_.generation,
                      ctx_.settings->max_players + ctx_.settings->connection_slack);
    kick(game_errc::server_full, net::errc::connection_limit);
    return;
  }
  if (ctx_.connection_rate != nullptr && !address_.empty() &&
      !ctx_.connection_rate->admit(address_, t)) {
    logger(ctx_).warn("session {}:{} from {} refused: over the connection rate of its address; "
                      "told ConnectionRateLimited",
                      session_.slot, session_.generation, address_);
    kick(game_errc::connection_rate_limited, net::errc::connection_limit);
    return;
  }
  after(login_deadline, login_timeout_msg{});
}

void player_actor::on_accepted(const net::session_accepted&) {}

void player_actor::error(std::uint32_t seq, std::uint16_t type, game_errc e) {
  ctx_.sink->send(session_, encode_error(fbb_, seq, type, e, to_string(e)));
}

bool player_actor::require_playing(const net::envelope_view& env) {
  if (state_ == state::playing) {
    return true;
  }
  unexpected(env);
  return false;
}

void player_actor::unexpected(const net::envelope_view& env) {
  // A few are normal (a move racing a zone transfer); a stream of them is a broken or probing
  // client, cut off before it costs the zones anything.
  if (!unexpected_.admit(now().time_since_epoch().count())) {
    logger(ctx_).warn("session {}:{} ('{}') kicked: too many messages in the wrong state",
                      session_.slot, session_.generation, name_);
    kick(game_errc::unexpected_message, net::errc::closed_by_owner);
    return;
  }
  error(env.seq, env.type, game_errc::unexpected_message);
}

void player_actor::register_messages() {
  using MT = wire::MessageType;
  dispatch_.on<wire::LoginRequest>(
      type_id(MT::LoginRequest),
      [](player_actor& p, const wire::LoginRequest& m, const net::envelope_view& env) {
        if (p.state_ != state::awaiting_login) {
          p.unexpected(env);  // a second login on the same session
          return;
        }
        p.state_ = state::logging_in;
        p.login_seq_ = env.seq;
        p.name_ = m.name() ? m.name()->str() : std::string();
        if (m.protocol_version() != protocol_version) {
          // A client of another protocol version would misread what follows: refused with a
          // code it can show; LoginResult carries the server's version.
          logger(p.ctx_).info("session {}:{}: login refused: protocol version {} (server {})",
                              p.session_.slot, p.session_.generation, m.protocol_version(),
                              protocol_version);
          p.on_denied(login_denied_msg{game_errc::unsupported_protocol_version, env.seq});
          return;
        }
        p.send(p.ctx_.gateway, login_msg{p.self(), p.session_, p.name_,
                                         m.token() ? m.token()->str() : std::string(), env.seq,
                                         p.address_,
                                         m.session_token() ? m.session_token()->str()
                                                           : std::string(),
                                         m.resume_token() ? m.resume_token()->str()
                                                          : std::string()});
      });
  dispatch_.on<wire::Logout>(
      type_id(MT::Logout),
      [](player_actor& p, const wire::Logout&, const net::envelope_view& env) {
        // Before a successful login there is nothing to log out of (the rule of every
        // message but LoginRequest); while the login is pending its LoginResult comes first.
        if (p.state_ == state::awaiting_login || p.state_ == state::logging_in) {
          p.unexpected(env);
          return;
        }
        // leave() hands the character to its zone (saved from there); the acknowledgement is
        // queued before the close, so the client reads it before the FIN.
        p.ctx_.sink->send(p.session_, encode_logged_out(p.fbb_, env.seq));
        p.leave();
      });
  dispatch_.on<wire::ServerInfoRequest>(
      type_id(MT::ServerInfoRequest),
      [](player_actor& p, const wire::ServerInfoRequest&, const net::envelope_view& env) {
        if (p.state_ == state::awaiting_login || p.state_ == state::logging_in) {
          p.unexpected(env);
          return;
        }
        p.ctx_.sink->send(p.session_, encode_server_info(p.fbb_, env.seq, p.server_info()));
      });
  dispatch_.on<wire::MoveIntent>(
      type_id(MT::MoveIntent),
      [](player_actor& p, const wire::MoveIntent& m, const net::envelope_view& env) {
        if (!p.require_playing(env)) {
          return;
        }
        // A missing position is read as NaN, which the zone refuses with a correction.
        const vec2 pos = m.position() ? vec2{m.position()->x(), m.position()->y()}
                                      : vec2{std::numeric_limits<float>::quiet_NaN(), 0.0f};
        p.send(p.zone_, zone_move_msg{p.entity_, pos, env.seq});
      });
  dispatch_.on<wire::Attack>(
      type_id(MT::Attack),
      [](player_actor& p, const wire::Attack& m, const net::envelope_view& env) {
        if (p.require_playing(env)) {
          p.send(p.zone_, zone_attack_msg{p.entity_, m.target(), env.seq});
        }
      });
  dispatch_.on<wire::UsePortal>(
      type_id(MT::UsePortal),
      [](player_actor& p, const wire::UsePortal&, const net::envelope_view& env) {
        if (p.require_playing(env)) {
          p.send(p.zone_, zone_portal_msg{p.entity_, env.seq});
        }
      });
  dispatch_.on<wire::ChatSend>(
      type_id(MT::ChatSend),
      [](player_actor& p, const wire::ChatSend& m, const net::envelope_view& env) {
        if (!p.require_playing(env)) {
          return;
        }
        // The chat actor applies the rules and the character's rate limit.
        p.send(p.ctx_.chat,
               chat_send_msg{p.name_, p.session_, p.zone_, p.entity_,
                             static_cast<std::uint8_t>(m.channel()),
                             m.text() ? m.text()->str() : std::string(),
                             m.to() ? m.to()->str() : std::string(), env.seq, p.self()});
      });
}

void player_actor::on_frame(const net::session_frame& m) {
  if (state_ == state::gone) {
    return;
  }
  if (!messages_.admit(now().time_since_epoch().count())) {
    // A flood: the session layer already stops reading while this mailbox is deep, so the
    // zones never see it; over the per-session rate the client is cut off.
    logger(ctx_).warn("session {}:{} ('{}') kicked: over {} messages/s (burst {})",
                      session_.slot, session_.generation, name_,
                      ctx_.settings->messages.per_second, ctx_.settings->messages.burst);
    kick(game_errc::message_flood, net::errc::closed_by_owner);
    return;
  }
  if (const std::error_code ec = dispatch_.dispatch(*this, m.envelope)) {
    // A client that sends what does not verify, or types it may not send, is broken or
    // hostile: it is told why and disconnected; the others keep playing.
    kick(game_errc::malformed_message, ec);
  }
}

void player_actor::on_granted(login_granted_msg& m) {
  const bool resume_fallback = state_ == state::joining && resumed_;
  if (state_ != state::logging_in && !resume_fallback) {
    return;
  }
  name_ = m.record.name;
  state_ = state::joining;
  if (resume_fallback) {
    // A resume whose holder stopped before handing the character over continues as a login
    // from its final save: the client has its LoginResult already; EnterZone follows.
    resumed_ = false;
  } else {
    ctx_.sink->send(session_, encode_login_result(
                                  fbb_, m.seq, game_errc::ok, m.record.character_id, name_,
                                  now().time_since_epoch().count(), ctx_.settings->tick_rate,
                                  m.session_token,
                                  m.session_token.empty() ? 0 : ctx_.settings->session_token_ttl_s,
                                  m.resume_token, ctx_.settings->resume_grace_s));
  }
  send(m.zone, zone_join_msg{self(), session_, std::move(m.record), {}});
}

void player_actor::on_resume_granted(resume_granted_msg& m) {
  if (state_ != state::logging_in) {
    return;
  }
  name_ = m.name;
  state_ = state::joining;
  resumed_ = true;
  // LoginResult goes out before the holder is asked: the zone's EnterZone for this session
  // follows causally (this send, then hand_over_msg, then the zone's rebind), so the client
  // reads them in that order.
  ctx_.sink->send(session_, encode_login_result(
                                fbb_, m.seq, game_errc::ok, m.character_id, name_,
                                now().time_since_epoch().count(), ctx_.settings->tick_rate,
                                m.session_token,
                                m.session_token.empty() ? 0 : ctx_.settings->session_token_ttl_s,
                                m.resume_token, ctx_.settings->resume_grace_s, true));
  // A holder that is gone already has told the gateway, which then grants this login from the
  // character's final save (on_granted, resume_fallback).
  (void)send(m.from, hand_over_msg{self(), session_});
}

void player_actor::on_hand_over(const hand_over_msg& m) {
  if (state_ == state::joining || state_ == state::rejoining) {
    handover_ = m;  // a zone transfer is on its way: handed over once it has arrived
    return;
  }
  if (state_ != state::playing && state_ != state::parked) {
    return;  // leaving already: the gateway hears it and grants the resume from the final save
  }
  if (state_ == state::playing) {
    // The server still believed this connection open; the client has moved to a new one.
    ctx_.sink->send(session_, encode_kicked(fbb_, game_errc::replaced_by_new_login,
                                            to_string(game_errc::replaced_by_new_login)));
    ctx_.sink->close(session_, net::errc::closed_by_owner);
  }
  if (in_chat_) {
    in_chat_ = false;
    send(ctx_.chat, chat_leave_msg{name_, self()});
  }
  state_ = state::handing_over;
  handover_ = m;
  send(zone_, zone_rebind_msg{self(), m.player, m.session});
}

void player_actor::on_rebound(const zone_rebound_msg&) {
  if (state_ != state::handing_over) {
    return;
  }
  // The character belongs to the new player actor now: nothing to save, nobody to tell.
  state_ = state::gone;
  stop();
}

void player_actor::park() {
  logger(ctx_).info("session {}:{} ('{}') dropped: kept for a resume for {} s", session_.slot,
                    session_.generation, name_, ctx_.settings->resume_grace_s);
  state_ = state::parked;
  if (in_chat_) {
    // Whispers to a parked character get UnknownRecipient; it joins again at its resume.
    in_chat_ = false;
    send(ctx_.chat, chat_leave_msg{name_, self()});
  }
  send(ctx_.gateway, player_parked_msg{self(), name_});
}

server_info player_actor::server_info() const {
  const server_settings& s = *ctx_.settings;
  game::server_info info;
  info.zones = s.zones;
  info.start_zone = s.start_zone;
  info.tick_rate = s.tick_rate;
  info.max_players = static_cast<std::uint32_t>(s.max_players);
  info.message_burst = s.messages.burst;
  info.messages_per_second = s.messages.per_second;
  info.chat_max_bytes = static_cast<std::uint32_t>(s.rules.chat.max_length);
  info.chat_burst = s.rules.chat.burst;
  info.chat_per_second = s.rules.chat.per_second;
  info.max_frame_size = s.max_frame_size;
  return info;
}

void player_actor::on_denied(const login_denied_msg& m) {
  if (state_ == state::gone) {
    return;
  }
  ctx_.sink->send(session_, encode_login_result(fbb_, m.seq, m.reason, 0, {},
                                                now().time_since_epoch().count(),
                                                ctx_.settings->tick_rate));
  state_ = state::gone;
  ctx_.sink->close(session_, net::errc::closed_by_owner);
  stop();
}

void player_actor::on_joined(const zone_joined_msg& m) {
  if (state_ == state::gone) {
    // Left while the join was on its way: take the character out again so it is saved.
    send(m.zone, zone_leave_msg{m.id});
    return;
  }
  zone_ = m.zone;
  entity_ = m.id;
  if (state_ == state::parked) {
    return;  // a portal's transfer arrived after the drop: parked in the new zone
  }
  if (state_ == state::handing_over) {
    send(zone_, zone_rebind_msg{self(), handover_->player, handover_->session});
    return;
  }
  state_ = state::playing;
  resumed_ = false;
  if (handover_) {
    const hand_over_msg h = *handover_;
    handover_.reset();
    on_hand_over(h);
    return;
  }
  for (auto& line : held_chat_) {
    send(zone_, zone_chat_msg{entity_, line.channel, std::move(line.text), self()});
  }
  held_chat_.clear();
  if (!in_chat_) {
    in_chat_ = true;
    send(ctx_.chat, chat_join_msg{name_, self(), session_});
  }
}

void player_actor::on_zone_lost(zone_lost_msg& m) {
  if ((state_ == state::parked || state_ == state::handing_over) && m.zone == zone_) {
    // No session to re-enter with (or a hand-over that cannot happen now): the character's
    // final save is the state the failed zone handed over; a resume waiting for it continues
    // from that save (the gateway hears player_offline_msg).
    state_ = state::rejoining;
    held_ = std::move(m.record);
    leave();
    return;
  }
  if (state_ != state::playing || m.zone != zone_) {
    return;
  }
  // The zone failed; its state is gone with it. The player keeps its session and re-enters
  // the zone's restarted incarnation (a new EnterZone, as after a portal) with the state the
  // failed zone handed over (also sent to persistence).
  state_ = state::rejoining;
  lost_zone_ = m.zone;
  held_ = std::move(m.record);
  // The zone's supervisor re-registers the restarted incarnation under the zone's name; the
  // registry tells this actor (at once if that happened already). The timer bounds the wait.
  cancel_timer(rejoin_deadline_);
  rejoin_deadline_ = after(millis(ctx_.settings->zone_rejoin_wait_ms), rejoin_msg{});
  watch_name(zone_actor_name(held_.zone_id));
}

void player_actor::on_zone_bound(const name_bound& m) {
  if (state_ != state::rejoining || m.ref == lost_zone_ ||
      m.name != zone_actor_name(held_.zone_id)) {
    return;  // the failed incarnation itself, or a notice that is no longer wanted
  }
  unwatch_name(m.name);
  cancel_timer(rejoin_deadline_);
  state_ = state::joining;
  send(m.ref, zone_join_msg{self(), session_, held_, {}});
}

void player_actor::on_rejoin(const rejoin_msg&) {
  if (state_ != state::rejoining) {
    return;
  }
  unwatch_name(zone_actor_name(held_.zone_id));
  logger(ctx_).warn("'{}' kicked: zone {} did not come back", name_, held_.zone_id);
  kick(game_errc::zone_unavailable, net::errc::closed_by_owner);
}

void player_actor::on_chat_bounced(chat_bounced_msg& m) {
  if (state_ == state::gone) {
    return;
  }
  const bool entering = state_ != state::playing || (m.zone == zone_ && m.id == entity_);
  if (!entering) {
    // Already playing in the next zone: relay it there now.
    send(zone_, zone_chat_msg{entity_, m.channel, std::move(m.text), self()});
    return;
  }
  // Its join is on its way (a portal, a restart): relayed once the zone has the player. The
  // chat rate (a burst of 5) bounds how many can be waiting; past a few more, drop.
  if (held_chat_.size() < 16) {
    held_chat_.push_back(std::move(m));
  }
}

void player_actor::on_kick(const kick_msg& m) {
  kick(m.reason, net::errc::closed_by_owner);
}

void player_actor::on_login_timeout(const login_timeout_msg&) {
  if (state_ == state::awaiting_login) {
    kick(game_errc::unexpected_message, net::errc::closed_by_owner);
  }
}

void player_actor::kick(game_errc reason, std::error_code close_reason) {
  if (state_ == state::gone) {
    return;
  }
  if (state_ == state::logging_in) {
    // Every LoginRequest gets exactly one LoginResult: a session ended while its login is
    // pending (a newer login of the name, shutdown, a flood) hears why in it, not in Kicked.
    ctx_.sink->send(session_, encode_login_result(fbb_, login_seq_, reason, 0, {},
                                                  now().time_since_epoch().count(),
                                                  ctx_.settings->tick_rate));
  } else {
    ctx_.sink->send(session_, encode_kicked(fbb_, reason, to_string(reason)));
  }
  ctx_.sink->close(session_, close_reason);
  leave();
}

namespace {
// A close that looks like the network failing (a FIN, a reset, an idle timeout, any socket
// error), not like the client misbehaving: only those keep the character for a resume. A
// session the network layer cut for hostile input (frame too large, zero-length frame, an
// invalid envelope, a slow reader) or that ends with the server leaves at once.
bool dropped(const std::error_code& reason) {
  if (reason.category() != net::net_category()) {
    return true;
  }
  return reason == net::errc::closed_by_peer || reason == net::errc::idle_timeout;
}
}  // namespace

void player_actor::on_closed(const net::session_closed& m) {
  if (state_ == state::parked || state_ == state::handing_over) {
    return;  // its old session: the character is held or being handed over
  }
  if (state_ == state::playing && ctx_.settings->resume_grace_s > 0 && dropped(m.reason)) {
    // Not closed by this actor (it would be gone): the connection dropped. A drop in the
    // middle of a zone change (joining, rejoining) logs out as before.
    park();
    return;
  }
  leave();
}

void player_actor::on_stop(exit_reason) {
  // Stopped by something other than leave() (a handler threw, or it was killed): the character
  // still leaves the world cleanly — saved by its zone, released by the gateway — so no ghost
  // stays in the zone and a new login is not kept waiting. The session is left to the network,
  // which closes it (owner gone): on_stop also runs while the server is being torn down, when
  // the frame sink may be gone already; sends are safe then (they become dead letters).
  depart(false);
}

void player_actor::leave() {
  if (state_ == state::gone) {
    return;
  }
  depart(true);
  // A join still on its way is undone by the zone when its zone_joined_msg finds this actor
  // gone (see zone_actor::on_join), so the actor can stop now.
  stop();
}

void player_actor::depart(bool close_session) {
  if (state_ == state::gone) {
    return;
  }
  const bool logged_in = state_ == state::joining || state_ == state::playing ||
                         state_ == state::rejoining || state_ == state::parked ||
                         state_ == state::handing_over;
  // Handing over, no zone_leave_msg: the zone may have given the entity to the new player
  // actor already; if not, its monitor of this actor takes the character out (and saves it).
  if (state_ == state::playing || state_ == state::parked) {
    send(zone_, zone_leave_msg{entity_});
  } else if (state_ == state::rejoining) {
    // No zone holds the character: its final save is the state the failed zone handed over.
    send(ctx_.persistence, save_msg{held_, true, ctx_.gateway});
  }
  if (in_chat_) {
    send(ctx_.chat, chat_leave_msg{name_, self()});
  }
  if (logged_in || state_ == state::logging_in) {
    // Also while logging in: the gateway may be loading the character for this session, and
    // must not let a login nobody is waiting for take a slot.
    send(ctx_.gateway, player_offline_msg{self(), name_, logged_in});
  }
  state_ = state::gone;
  if (close_session) {
    ctx_.sink->close(session_, net::errc::closed_by_owner);
  }
}

}  // namespace quay::game::server
