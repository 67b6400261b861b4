// Hostile and broken clients against the player actor, on the deterministic fixture: floods,
// messages in the wrong state, spoofed entity ids, wrong tokens. Each test also checks that the
// other players keep playing.
#include "player_actor.hpp"

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

// Positions of entity `id` reported to `c` in WorldUpdate updates and enters, oldest first.
std::vector<vec2> positions_of(const std::vector<net::frame>& frames, entity_id id) {
  std::vector<vec2> out;
  for (const auto& f : frames) {
    if (const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate)) {
      if (u->enters() != nullptr) {
        for (const auto* e : *u->enters()) {
          if (e->id() == id) {
            out.push_back({e->position()->x(), e->position()->y()});
          }
        }
      }
      if (u->updates() != nullptr) {
        for (const auto* e : *u->updates()) {
          if (e->id() == id) {
            out.push_back({e->position().x(), e->position().y()});
          }
        }
      }
    }
  }
  return out;
}

struct hostile_fixture : server_fixture {
  client ann;
  client bob;
  entity_id ann_id = no_entity;
  entity_id bob_id = no_entity;

  void SetUp() override {
    server_fixture::SetUp();
    ann = connect();
    bob = connect();
    login(ann, "ann");
    login(bob, "bob");
    tick();
    ann_id = self_id(ann);
    bob_id = self_id(bob);
    ASSERT_NE(ann_id, no_entity);
    ASSERT_NE(bob_id, no_entity);
  }

  /// bob still plays: a legal move is accepted, and his say reaches himself.
  void expect_bob_plays(std::uint32_t seq) {
    receive(bob).clear();
    fx.advance(millis(1000));
    move(bob, {20.5f, 20.5f}, seq);
    tick();
    chat(bob, wire::ChatChannel::Say, "still here", seq + 1);
    EXPECT_EQ(count(receive(bob), MT::MoveCorrection), 0u);
    EXPECT_EQ(heard(bob, "still here"), 1u);
    EXPECT_FALSE(sink.closed(bob.session));
    EXPECT_TRUE(fx.sys.alive(bob.player));
  }
};

TEST_F(hostile_fixture, a_message_flood_is_kicked_with_message_flood_and_the_others_keep_playing) {
  // 150 moves in the same instant: over the burst of 100.
  for (std::uint32_t i = 0; i < 150; ++i) {
    move(ann, {20, 20}, 100 + i);
  }
  EXPECT_EQ(kicked(ann), wire::ErrorCode::MessageFlood);
  EXPECT_TRUE(sink.closed(ann.session));
  EXPECT_FALSE(fx.sys.alive(ann.player));
  tick();
  // bob sees ann leave, keeps playing, and ann's state was saved on the way out.
  bool saw_leave = false;
  for (const auto& f : receive(bob)) {
    if (const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate); u && u->leaves()) {
      for (const auto id : *u->leaves()) {
        saw_leave = saw_leave || id == ann_id;
      }
    }
  }
  EXPECT_TRUE(saw_leave);
  expect_bob_plays(10);
  EXPECT_TRUE(stored("ann").has_value());
}

TEST_F(hostile_fixture, a_client_at_the_normal_pace_is_never_rate_limited) {
  // 60 s at 10 moves per second plus a chat line every 2 s: far below the limit.
  for (std::uint32_t i = 0; i < 600; ++i) {
    move(ann, {20.0f + static_cast<float>(i % 2) * 0.5f, 20.0f}, 100 + i);
    if (i % 20 == 0) {
      chat(ann, wire::ChatChannel::Say, "hi", 10'000 + i);
    }
    tick();
  }
  EXPECT_EQ(kicked(ann), std::nullopt);
  EXPECT_FALSE(sink.closed(ann.session));
  EXPECT_EQ(errors(ann, wire::ErrorCode::ChatRateLimited), 0u);
}

TEST_F(hostile_fixture, messages_before_login_get_unexpected_message_and_a_stream_of_them_a_kick) {
  client eve = connect();
  move(eve, {20, 20}, 1);
  chat(eve, wire::ChatChannel::Zone, "hello?", 2);
  attack(eve, bob_id, 3);
  EXPECT_EQ(errors(eve, wire::ErrorCode::UnexpectedMessage), 3u);
  EXPECT_FALSE(sink.closed(eve.session)) << "a few are answered, not punished";
  EXPECT_EQ(heard(bob, "hello?"), 0u);
  EXPECT_EQ(count(receive(bob), MT::CombatEvents), 0u) << "no effect on anyone";

  for (std::uint32_t i = 0; i < 30; ++i) {
    move(eve, {20, 20}, 10 + i);
  }
  EXPECT_EQ(kicked(eve), wire::ErrorCode::UnexpectedMessage);
  EXPECT_TRUE(sink.closed(eve.session));
  EXPECT_FALSE(fx.sys.alive(eve.player));
  expect_bob_plays(50);
}

TEST_F(hostile_fixture, a_second_login_on_a_playing_session_is_refused_and_changes_nothing) {
  login(ann, "bob", "t");  // log in again, as someone else, on the same session
  EXPECT_EQ(errors(ann, wire::ErrorCode::UnexpectedMessage), 1u);
  EXPECT_EQ(kicked(bob), std::nullopt) << "bob's session was not replaced";
  EXPECT_FALSE(sink.closed(ann.session));
  chat(ann, wire::ChatChannel::Say, "still ann", 5);
  const auto* m = find<wire::ChatMessage>(receive(bob), MT::ChatMessage);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->from_name()->str(), "ann");
  expect_bob_plays(10);
}

TEST_F(hostile_fixture, a_move_naming_another_entity_moves_only_the_sender) {
  // The protocol never carries the acting entity: the server uses the session's own. A hostile
  // client adds a field the schema does not have (MoveIntent field 1 = bob's id); the verifier
  // accepts unknown fields and the server ignores them.
  fx.advance(millis(1000));
  const wire::Vec2 to(21.0f, 20.0f);
  const auto start = fbb.StartTable();
  fbb.AddStruct(wire::MoveIntent::VT_POSITION, &to);
  fbb.AddElement<std::uint32_t>(wire::MoveIntent::VT_POSITION + 2, bob_id, 0);
  fbb.Finish(flatbuffers::Offset<wire::MoveIntent>(fbb.EndTable(start)));
  fx.send(ann.player, client_frame(ann.session, MT::MoveIntent, 5, fbb));
  fx.run();
  tick();
  EXPECT_EQ(count(receive(ann), MT::MoveCorrection), 0u);
  const auto ann_seen = positions_of(receive(bob), ann_id);
  ASSERT_FALSE(ann_seen.empty());
  EXPECT_FLOAT_EQ(ann_seen.back().x, 21.0f) << "ann moved";
  for (const vec2 p : positions_of(ann.frames, bob_id)) {
    EXPECT_FLOAT_EQ(p.x, 20.0f) << "bob never moved";
  }
  expect_bob_plays(10);
}

TEST_F(hostile_fixture, an_attack_naming_another_attacker_is_made_by_the_sender) {
  // Attack{target = ann, hostile field 1 = bob as the attacker}: the hit, if any, is ann's own
  // attack on herself, which the rules refuse.
  const auto start = fbb.StartTable();
  fbb.AddElement<std::uint32_t>(wire::Attack::VT_TARGET, ann_id, 0);
  fbb.AddElement<std::uint32_t>(wire::Attack::VT_TARGET + 2, bob_id, 0);
  fbb.Finish(flatbuffers::Offset<wire::Attack>(fbb.EndTable(start)));
  fx.send(ann.player, client_frame(ann.session, MT::Attack, 6, fbb));
  fx.run();
  tick();
  EXPECT_EQ(errors(ann, wire::ErrorCode::InvalidTarget), 1u);
  EXPECT_EQ(count(receive(bob), MT::CombatEvents), 0u);

  // And a real attack on bob is ann's: refused to her (the game is PvE), bob untouched.
  attack(ann, bob_id, 7);
  tick();
  EXPECT_EQ(errors(ann, wire::ErrorCode::InvalidTarget), 2u);  // the first one, and this
  EXPECT_EQ(count(receive(bob), MT::CombatEvents), 0u);
  EXPECT_EQ(count(receive(bob), MT::Error), 0u);
}

TEST_F(hostile_fixture, a_player_actor_that_dies_takes_its_character_out_of_the_world_saved) {
  fx.advance(millis(1000));
  move(ann, {21, 20}, 5);
  tick();
  fx.sys.kill(ann.player);  // as if a handler had thrown: not the orderly leave()
  fx.run();
  tick();
  bool saw_leave = false;
  for (const auto& f : receive(bob)) {
    if (const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate); u && u->leaves()) {
      for (const auto id : *u->leaves()) {
        saw_leave = saw_leave || id == ann_id;
      }
    }
  }
  EXPECT_TRUE(saw_leave) << "no ghost of ann stays in the zone";
  const auto saved = stored("ann");
  ASSERT_TRUE(saved.has_value());
  EXPECT_FLOAT_EQ(saved->record.pos.x, 21.0f);
  // Released at once (no 2 s wait for a final save that would never come).
  client ann2 = connect();
  login(ann2, "ann");
  EXPECT_NE(find<wire::EnterZone>(receive(ann2), MT::EnterZone), nullptr);
  expect_bob_plays(10);
}

TEST_F(hostile_fixture, a_wrong_token_is_refused_with_invalid_credentials_and_the_session_closed) {
  client eve = connect();
  login(eve, "bob", "guess");
  const auto* r = find<wire::LoginResult>(receive(eve), MT::LoginResult);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->error(), wire::ErrorCode::InvalidCredentials);
  EXPECT_TRUE(sink.closed(eve.session));
  EXPECT_FALSE(fx.sys.alive(eve.player));
  EXPECT_EQ(kicked(bob), std::nullopt) << "the real bob is not disturbed";
  expect_bob_plays(10);
}

TEST_F(hostile_fixture, an_unknown_name_without_development_accounts_is_invalid_credentials) {
  settings.dev_accounts = false;
  client eve = connect();
  login(eve, "newcomer", "t");
  const auto* r = find<wire::LoginResult>(receive(eve), MT::LoginResult);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->error(), wire::ErrorCode::InvalidCredentials);
  EXPECT_TRUE(sink.closed(eve.session));
  EXPECT_FALSE(stored("newcomer").has_value()) << "no account was created";
}

}  // namespace
}  // namespace quay::game::server
