// The player actor (see player_actor.hpp).
#include "player_actor.hpp"

#include <limits>

#include "quay/game/codec.hpp"
#include "quay/net/error.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::game::server {

namespace {
constexpr millis login_deadline{10'000};
}

player_actor::player_actor(server_context ctx, net::session_handle session)
    : ctx_(ctx), session_(session), chat_(ctx.settings->rules.chat, 0) {
  register_messages();
}

void player_actor::define(handlers<player_actor>& h) {
  h.on<&player_actor::on_accepted>()
      .on<&player_actor::on_frame>()
      .on<&player_actor::on_closed>()
      .on<&player_actor::on_granted>()
      .on<&player_actor::on_denied>()
      .on<&player_actor::on_joined>()
      .on<&player_actor::on_kick>()
      .on<&player_actor::on_login_timeout>();
}

void player_actor::on_start() {
  chat_ = chat_limiter(ctx_.settings->rules.chat, now().time_since_epoch().count());
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
  error(env.seq, env.type, game_errc::unexpected_message);
  return false;
}

void player_actor::register_messages() {
  using MT = wire::MessageType;
  dispatch_.on<wire::LoginRequest>(
      type_id(MT::LoginRequest),
      [](player_actor& p, const wire::LoginRequest& m, const net::envelope_view& env) {
        if (p.state_ != state::awaiting_login) {
          p.error(env.seq, env.type, game_errc::unexpected_message);
          return;
        }
        p.state_ = state::logging_in;
        p.name_ = m.name() ? m.name()->str() : std::string();
        p.send(p.ctx_.gateway, login_msg{p.self(), p.session_, p.name_,
                                         m.token() ? m.token()->str() : std::string(), env.seq});
      });
  dispatch_.on<wire::Logout>(type_id(MT::Logout),
                             [](player_actor& p, const wire::Logout&, const net::envelope_view&) {
                               p.leave();
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
        std::string text = m.text() ? m.text()->str() : std::string();
        game_errc e = sanitize_chat(text, p.ctx_.settings->rules.chat);
        if (e == game_errc::ok && !p.chat_.admit(p.now().time_since_epoch().count())) {
          e = game_errc::chat_rate_limited;
        }
        if (e == game_errc::ok && m.channel() == wire::ChatChannel::System) {
          e = game_errc::malformed_message;
        }
        if (e != game_errc::ok) {
          p.error(env.seq, env.type, e);
          return;
        }
        if (m.channel() == wire::ChatChannel::Whisper) {
          p.send(p.ctx_.gateway, whisper_msg{p.self(), p.session_, p.entity_, p.name_,
                                             m.to() ? m.to()->str() : std::string(),
                                             std::move(text), env.seq});
        } else {
          p.send(p.zone_, zone_chat_msg{p.entity_, static_cast<std::uint8_t>(m.channel()),
                                        std::move(text)});
        }
      });
}

void player_actor::on_frame(const net::session_frame& m) {
  if (state_ == state::gone) {
    return;
  }
  if (const std::error_code ec = dispatch_.dispatch(*this, m.envelope)) {
    // A client that sends what does not verify, or types it may not send, is broken or
    // hostile: it is told why and disconnected; the others keep playing.
    kick(game_errc::malformed_message, ec);
  }
}

void player_actor::on_granted(login_granted_msg& m) {
  if (state_ != state::logging_in) {
    return;
  }
  name_ = m.record.name;
  state_ = state::joining;
  ctx_.sink->send(session_, encode_login_result(fbb_, m.seq, game_errc::ok,
                                                m.record.character_id, name_,
                                                now().time_since_epoch().count(),
                                                ctx_.settings->tick_rate));
  send(m.zone, zone_join_msg{self(), session_, std::move(m.record), {}});
}

void player_actor::on_denied(const login_denied_msg& m) {
  ctx_.sink->send(session_,
                  encode_login_result(fbb_, m.seq, m.reason, 0, {}, 0, ctx_.settings->tick_rate));
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
  state_ = state::playing;
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
  ctx_.sink->send(session_, encode_kicked(fbb_, reason, to_string(reason)));
  ctx_.sink->close(session_, close_reason);
  leave();
}

void player_actor::on_closed(const net::session_closed&) {
  leave();
}

void player_actor::leave() {
  if (state_ == state::gone) {
    return;
  }
  const bool logged_in = state_ == state::joining || state_ == state::playing;
  if (state_ == state::playing) {
    send(zone_, zone_leave_msg{entity_});
  }
  if (logged_in || state_ == state::logging_in) {
    send(ctx_.gateway, player_offline_msg{self(), name_});
  }
  state_ = state::gone;
  ctx_.sink->close(session_, net::errc::closed_by_owner);
  // A join still on its way is undone by the zone when its zone_joined_msg finds this actor
  // gone (see zone_actor::on_join), so the actor can stop now.
  stop();
}

}  // namespace quay::game::server
