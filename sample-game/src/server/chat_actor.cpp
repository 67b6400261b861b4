// The chat actor (see chat_actor.hpp).
#include "chat_actor.hpp"

#include "quay/game/chat_rules.hpp"
#include "quay/game/codec.hpp"
#include "quay/schemas/chat_generated.h"

namespace quay::game::server {

namespace {
// How often rate-limit buckets of characters that left are forgotten (once full again).
constexpr millis prune_period{60'000};
}  // namespace

chat_actor::chat_actor(server_context ctx) : ctx_(ctx) {}

void chat_actor::define(handlers<chat_actor>& h) {
  h.on<&chat_actor::on_join>()
      .on<&chat_actor::on_leave>()
      .on<&chat_actor::on_send>()
      .on<&chat_actor::on_prune>();
}

void chat_actor::on_start() { every(prune_period, prune_msg{}); }

time_ms chat_actor::clock_ms() const { return now().time_since_epoch().count(); }

void chat_actor::on_join(chat_join_msg& m) {
  online_.insert_or_assign(name_key(m.name), member{m.player, m.session});
}

void chat_actor::on_leave(const chat_leave_msg& m) {
  // A newer session of the same character may have joined already: only its own entry goes.
  const auto it = online_.find(name_key(m.name));
  if (it != online_.end() && it->second.player == m.player) {
    online_.erase(it);
  }
}

void chat_actor::on_prune(const prune_msg&) {
  const time_ms t = clock_ms();
  std::erase_if(limits_, [&](const auto& kv) {
    return !online_.contains(kv.first) && kv.second.full_at(t);
  });
}

void chat_actor::refuse(const chat_send_msg& m, game_errc e) {
  ctx_.session(m.session)
      .send(encode_error(fbb_, m.seq, type_id(wire::MessageType::ChatSend), e, to_string(e)));
}

void chat_actor::on_send(chat_send_msg& m) {
  const chat_rules& rules = ctx_.settings->rules.chat;
  game_errc e = sanitize_chat(m.text, rules);
  if (e == game_errc::ok && m.channel > static_cast<std::uint8_t>(wire::ChatChannel::Whisper)) {
    e = game_errc::malformed_message;  // System (or beyond) is the server's, never a client's
  }
  if (e == game_errc::ok) {
    // Only well-formed messages spend the budget: a client fixing a typo is not punished.
    const std::string key = name_key(m.name);
    auto it = limits_.find(key);
    if (it == limits_.end()) {
      it = limits_.emplace(key, token_bucket({rules.burst, rules.per_second}, clock_ms()))
               .first;
    }
    if (!it->second.admit(clock_ms())) {
      e = game_errc::chat_rate_limited;
    }
  }
  if (e != game_errc::ok) {
    refuse(m, e);
    return;
  }
  if (m.channel != static_cast<std::uint8_t>(wire::ChatChannel::Whisper)) {
    send(m.zone, zone_chat_msg{m.id, m.channel, std::move(m.text), m.player});
    return;
  }
  const auto to = online_.find(name_key(m.to));  // any case reaches them
  if (to == online_.end()) {
    refuse(m, game_errc::unknown_recipient);
    return;
  }
  const net::frame f = encode_chat_message(fbb_, static_cast<std::uint8_t>(wire::ChatChannel::Whisper),
                                           m.id, m.name, m.text, m.to);
  ctx_.session(to->second.session).send(f);
  if (to->second.session != m.session) {
    ctx_.session(m.session).send(f);  // the sender's echo
  }
}

}  // namespace quay::game::server
