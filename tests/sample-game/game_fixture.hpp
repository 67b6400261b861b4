#pragma once
// The zone server's actors on the deterministic actor fixture, for the sample game's actor
// tests (gtest on top of game_harness.hpp): frames in through session_frame messages, frames
// out into a recording sink, time moved by hand, two small zones (Meadow with a portal to
// Forest).
#include <gtest/gtest.h>

#include "game_harness.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/error_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"
#include "zone_actor.hpp"

namespace quay::game::server::test {

inline net::session_frame client_frame(net::session_handle s, MT type, std::uint32_t seq,
                                flatbuffers::FlatBufferBuilder& fbb) {
  const auto* p = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  net::session_frame m;
  m.session = s;
  m.data = net::encode_envelope(type_id(type), seq, {p, fbb.GetSize()});
  EXPECT_FALSE(net::decode_envelope(m.data.payload(), m.envelope));
  fbb.Clear();
  return m;
}

/// Asks the persistence actor for a character and keeps the reply (a reply needs an actor to
/// land in).
class load_probe final : public actor {
public:
  load_probe(actor_ref persistence, load_character_msg q,
             std::optional<load_character_reply>* out)
      : persistence_(persistence), q_(std::move(q)), out_(out) {}

private:
  void on_start() override {
    ask(persistence_, std::move(q_), millis(0), [this](result<load_character_reply> r) {
      if (r) {
        *out_ = std::move(*r);
      }
      stop();
    });
  }
  actor_ref persistence_;
  load_character_msg q_;
  std::optional<load_character_reply>* out_;
};

struct server_fixture : ::testing::Test, game_harness {
  std::uint32_t next_slot = 1;

  /// Spawns persistence (in memory unless `setup.store`), chat, gateway and the two zones.
  void start(game_setup setup = {}) {
    start_with({*parse_zone(meadow, "m").zone, *parse_zone(forest, "f").zone}, std::move(setup));
  }
  void SetUp() override { start(); }

  /// The zone actor of zone `id` (a new handle after each restart).
  actor_ref zone(std::uint32_t id) {
    return fx.sys.whereis(zone_actor_name(id)).value_or(actor_ref{});
  }

  struct client {
    net::session_handle session;
    actor_ref player;
    std::vector<net::frame> frames;  // everything received so far
  };

  client connect() {
    client c{{next_slot++, 1}, {}, {}};
    c.player = fx.spawn<player_actor>(ctx, c.session);
    fx.run();
    return c;
  }

  void login(client& c, const char* name, const char* token = "t") {
    fbb.Finish(wire::CreateLoginRequestDirect(fbb, name, token));
    fx.send(c.player, client_frame(c.session, MT::LoginRequest, 1, fbb));
    fx.run();
  }

  void move(client& c, vec2 to, std::uint32_t seq) {
    const wire::Vec2 p(to.x, to.y);
    fbb.Finish(wire::CreateMoveIntent(fbb, &p));
    fx.send(c.player, client_frame(c.session, MT::MoveIntent, seq, fbb));
    fx.run();
  }

  void chat(client& c, wire::ChatChannel channel, const char* text, std::uint32_t seq,
            const char* to = nullptr) {
    fbb.Finish(wire::CreateChatSendDirect(fbb, channel, text, to));
    fx.send(c.player, client_frame(c.session, MT::ChatSend, seq, fbb));
    fx.run();
  }

  void attack(client& c, entity_id target, std::uint32_t seq) {
    fbb.Finish(wire::CreateAttack(fbb, target));
    fx.send(c.player, client_frame(c.session, MT::Attack, seq, fbb));
    fx.run();
  }

  /// The client's own entity id from its latest EnterZone (no_entity before).
  entity_id self_id(client& c) {
    entity_id id = no_entity;
    for (const auto& f : receive(c)) {
      if (const auto* z = as<wire::EnterZone>(f, MT::EnterZone)) {
        id = z->self_id();
      }
    }
    return id;
  }

  std::vector<net::frame>& receive(client& c) {
    auto got = sink.take(c.session);
    c.frames.insert(c.frames.end(), got.begin(), got.end());
    return c.frames;
  }

  void tick() { fx.advance(millis(100)); }

  /// What persistence holds for `name` (nullopt: unknown). With `create`, creates it.
  std::optional<stored_character> stored(const std::string& name, bool create = false) {
    std::optional<load_character_reply> r;
    fx.spawn<load_probe>(actors.persistence, load_character_msg{name, "t", create, 1}, &r);
    fx.run();
    if (!r || !r->found) {
      return std::nullopt;
    }
    return r->character;
  }

  void logout(client& c) {
    fbb.Finish(wire::CreateLogout(fbb));
    fx.send(c.player, client_frame(c.session, MT::Logout, 9, fbb));
    fx.run();
  }

  /// Walks `c` (logged in, in Meadow at the start spawn) onto the portal and into Forest.
  void to_forest(client& c) {
    fx.advance(millis(1000));  // a second of movement budget
    move(c, {24, 20}, 2);
    tick();
    fbb.Finish(wire::CreateUsePortal(fbb));
    fx.send(c.player, client_frame(c.session, MT::UsePortal, 3, fbb));
    fx.run();
    tick();
  }

  /// Errors received by `c` with this code.
  std::size_t errors(client& c, wire::ErrorCode code) {
    std::size_t n = 0;
    for (const auto& f : receive(c)) {
      if (const auto* e = as<wire::Error>(f, MT::Error); e != nullptr && e->code() == code) {
        ++n;
      }
    }
    return n;
  }

  /// Chat lines received by `c` with this text.
  std::size_t heard(client& c, std::string_view text) {
    std::size_t n = 0;
    for (const auto& f : receive(c)) {
      if (const auto* m = as<wire::ChatMessage>(f, MT::ChatMessage);
          m != nullptr && m->text() != nullptr && m->text()->string_view() == text) {
        ++n;
      }
    }
    return n;
  }

  /// The reason of the Kicked `c` received (nullopt: none).
  std::optional<wire::ErrorCode> kicked(client& c) {
    const auto* k = find<wire::Kicked>(receive(c), MT::Kicked);
    return k != nullptr ? std::optional(k->reason()) : std::nullopt;
  }
};

}  // namespace quay::game::server::test
