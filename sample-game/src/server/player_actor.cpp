// The player actor (see player_actor.hpp).
#include "player_actor.hpp"

#include "operator_http.hpp"
#include "server_metrics.hpp"

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
      client_(ctx.session(session)),
      address_(std::move(address)),
      messages_(ctx.settings->messages, 0),
      unexpected_(ctx.settings->unexpected, 0) {
  if (ctx_.connections != nullptr) {
    // Over the limit the session is told so (on_start) instead of being closed bare by the
    // listener: the socket can still take a Kicked.
    const std::size_t open = ctx_.connections->fetch_add(1, std::memory_order_relaxed);
    over_limit_ = open >= ctx_.settings->max_players + ctx_.settings->connection_slack;
  }
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
      .on<&player_actor::on_http>()
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
      .on<&player_actor::on_rebound>()
      .on<&player_actor::on_login>()
      .on<&player_actor::on_logout>()
      .on<&player_actor::on_server_info_request>()
      .on<&player_actor::on_move>()
      .on<&player_actor::on_attack>()
      .on<&player_actor::on_use_portal>()
      .on<&player_actor::on_chat_send>();
}

void player_actor::on_start() {
  if (ctx_.metrics != nullptr) {
    ctx_.metrics->track("player", self());
  }
  const time_ms t = now().time_since_epoch().count();
  messages_ = token_bucket(ctx_.settings->messages, t);
  unexpected_ = token_bucket(ctx_.settings->unexpected, t);
  // On a port that serves TCP and WebSocket (ctx_.defer_refusals) a refused connection is told
  // why when it first speaks (its LoginRequest, or a GET): until the client's first bytes
  // arrive the session cannot know which framing the refusal must go out in (a frame sent
  // before that is held, and a close then would drop it). One that never speaks is closed at
  // the login deadline. On a TCP-only port it is told at once.
  if (over_limit_) {
    logger(ctx_).warn("session {}:{} refused: connection limit ({}) reached; told ServerFull",
                      session_.slot, session_.generation,
                      ctx_.settings->max_players + ctx_.settings->connection_slack);
    refusal_ = game_errc::server_full;
  } else if (ctx_.connection_rate != nullptr && !address_.empty() &&
             !ctx_.connection_rate->admit(address_, t)) {
    logger(ctx_).warn("session {}:{} from {} refused: over the connection rate of its address; "
                      "told ConnectionRateLimited",
                      session_.slot, session_.generation, address_);
    refusal_ = game_errc::connection_rate_limited;
  }
  if (refusal_ != game_errc::ok && !ctx_.defer_refusals) {
    kick(refusal_, net::errc::connection_limit);
    return;
  }
  after(login_deadline, login_timeout_msg{});
}

void player_actor::on_accepted(const net::session_accepted&) {}

void player_actor::error(std::uint32_t seq, std::uint16_t type, game_errc e) {
  client_.send(encode_error(fbb_, seq, type, e, to_string(e)));
}

bool player_actor::require_playing() {
  if (state_ == state::playing) {
    return true;
  }
  unexpected();
  return false;
}

void player_actor::unexpected() {
  // A few are normal (a move racing a zone transfer); a stream of them is a broken or probing
  // client, cut off before it costs the zones anything.
  if (!unexpected_.admit(now().time_since_epoch().count())) {
    logger(ctx_).warn("session {}:{} ('{}') kicked: too many messages in the wrong state",
                      session_.slot, session_.generation, name_);
    kick(game_errc::unexpected_message, net::errc::closed_by_owner);
    return;
  }
  error(origin().seq, origin().wire_id, game_errc::unexpected_message);
}

void player_actor::on_login(login_request& m) {
  if (state_ != state::awaiting_login) {
    unexpected();  // a second login on the same session
    return;
  }
  const std::uint32_t seq = origin().seq;
  state_ = state::logging_in;
  login_seq_ = seq;
  name_ = m.name;
  if (m.protocol_version != protocol_version) {
    // A client of another protocol version would misread what follows: refused with a code it
    // can show; LoginResult carries the server's version.
    logger(ctx_).info("session {}:{}: login refused: protocol version {} (server {})",
                      session_.slot, session_.generation, m.protocol_version, protocol_version);
    on_denied(login_denied_msg{game_errc::unsupported_protocol_version, seq});
    return;
  }
  send(ctx_.gateway, login_msg{self(), session_, name_, std::move(m.token), seq, address_,
                               std::move(m.session_token), std::move(m.resume_token)});
}

void player_actor::on_logout(const logout_request&) {
  // Before a successful login there is nothing to log out of (the rule of every message but
  // LoginRequest); while the login is pending its LoginResult comes first.
  if (state_ == state::awaiting_login || state_ == state::logging_in) {
    unexpected();
    return;
  }
  // leave() hands the character to its zone (saved from there); the acknowledgement is queued
  // before the close, so the client reads it before the FIN.
  client_.send(encode_logged_out(fbb_, origin().seq));
  leave();
}

void player_actor::on_server_info_request(const server_info_request&) {
  if (state_ == state::awaiting_login || state_ == state::logging_in) {
    unexpected();
    return;
  }
  client_.send(encode_server_info(fbb_, origin().seq, server_info()));
}

void player_actor::on_move(const move_intent& m) {
  if (require_playing()) {
    send(zone_, zone_move_msg{entity_, m.position, origin().seq});
  }
}

void player_actor::on_attack(const attack_request& m) {
  if (require_playing()) {
    send(zone_, zone_attack_msg{entity_, m.target, origin().seq});
  }
}

void player_actor::on_use_portal(const use_portal_request&) {
  if (require_playing()) {
    send(zone_, zone_portal_msg{entity_, origin().seq});
  }
}

void player_actor::on_chat_send(chat_send_request& m) {
  if (!require_playing()) {
    return;
  }
  // The chat actor applies the rules and the character's rate limit.
  send(ctx_.chat, chat_send_msg{name_, session_, zone_, entity_, m.channel, std::move(m.text),
                                std::move(m.to), origin().seq, self()});
}

void player_actor::on_frame(const net::session_frame& m) {
  if (state_ == state::gone) {
    return;
  }
  if (refusal_ != game_errc::ok) {
    kick(refusal_, net::errc::connection_limit);
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
  // The message's on<> handler runs inside deliver, after verification and decoding.
  if (const std::error_code ec = net::deliver(*this, m)) {
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
    client_.send(encode_login_result(
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
  client_.send(encode_login_result(
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
    client_.send(encode_kicked(fbb_, game_errc::replaced_by_new_login,
                                            to_string(game_errc::replaced_by_new_login)));
    client_.close(net::errc::closed_by_owner);
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
  client_.send(encode_login_result(fbb_, m.seq, m.reason, 0, {},
                                                now().time_since_epoch().count(),
                                                ctx_.settings->tick_rate));
  state_ = state::gone;
  client_.close(net::errc::closed_by_owner);
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
    kick(refusal_ != game_errc::ok ? refusal_ : game_errc::unexpected_message,
         refusal_ != game_errc::ok ? std::error_code(net::errc::connection_limit)
                                   : std::error_code(net::errc::closed_by_owner));
  }
}

void player_actor::kick(game_errc reason, std::error_code close_reason) {
  if (state_ == state::gone) {
    return;
  }
  if (state_ == state::logging_in) {
    // Every LoginRequest gets exactly one LoginResult: a session ended while its login is
    // pending (a newer login of the name, shutdown, a flood) hears why in it, not in Kicked.
    client_.send(encode_login_result(fbb_, login_seq_, reason, 0, {},
                                                  now().time_since_epoch().count(),
                                                  ctx_.settings->tick_rate));
  } else {
    client_.send(encode_kicked(fbb_, reason, to_string(reason)));
  }
  client_.close(close_reason);
  if (close_label_.empty()) {
    close_label_ = std::string("kicked: ") + std::string(to_string(reason));
  }
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

void player_actor::on_http(const net::http_request& m) {
  if (state_ != state::awaiting_login) {
    return;
  }
  http_only_ = true;
  net::http_response r;
  if (refusal_ != game_errc::ok) {
    r.status = 503;
    r.body = std::string(to_string(refusal_)) + "\n";
    client_.respond(r);
    return;
  }
  const http_answer* file =
      ctx_.web != nullptr ? ctx_.web->find(target_path(m.target)) : nullptr;
  if (file != nullptr) {
    r.status = file->status;
    r.content_type = file->content_type;
    r.body = file->body;
  } else {
    r.status = 404;
    r.body = ctx_.web == nullptr || ctx_.web->size() == 0
                 ? "the web client is not built here (needs node and `npm ci` in web/)\n"
                 : "no such page\n";
  }
  client_.respond(r);
  // The network closes the connection once the answer is out; session_closed ends the actor.
}

void player_actor::on_closed(const net::session_closed& m) {
  if (state_ == state::parked || state_ == state::handing_over) {
    return;  // its old session: the character is held or being handed over
  }
  if (close_label_.empty()) {
    close_label_ = m.reason.message();
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
  if (close_label_.empty()) {
    close_label_ = "player actor stopped";
  }
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
  if (ctx_.metrics != nullptr && !http_only_) {
    // The first cause wins: a kick, the network's reason, or else the client's own logout.
    ctx_.metrics->session_closed(close_label_.empty() ? "logout" : close_label_);
  }
  if (close_session) {
    client_.close(net::errc::closed_by_owner);
  }
}

}  // namespace quay::game::server
