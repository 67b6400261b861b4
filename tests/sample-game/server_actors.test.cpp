// The zone server's actors (gateway, zone, player, chat, persistence) working together on the
// deterministic actor fixture (game_fixture.hpp).
#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

TEST_F(server_fixture, two_players_log_in_enter_the_zone_and_see_each_other) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  const auto* result = find<wire::LoginResult>(receive(ann), MT::LoginResult);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->error(), wire::ErrorCode::Ok);
  const auto* enter = find<wire::EnterZone>(ann.frames, MT::EnterZone);
  ASSERT_NE(enter, nullptr);
  EXPECT_EQ(enter->zone_id(), 1u);
  const auto* bob_enter = find<wire::EnterZone>(receive(bob), MT::EnterZone);
  ASSERT_NE(bob_enter, nullptr);

  bool ann_sees_bob = false;
  for (const auto& f : ann.frames) {
    if (const auto* u = as<wire::WorldUpdate>(f, MT::WorldUpdate)) {
      for (const auto* e : *u->enters()) {
        ann_sees_bob = ann_sees_bob || (e->id() == bob_enter->self_id() && e->name()->str() == "bob");
      }
    }
  }
  EXPECT_TRUE(ann_sees_bob);
}

TEST_F(server_fixture, a_move_too_fast_is_corrected_with_the_moves_seq) {
  client ann = connect();
  login(ann, "ann");
  tick();
  move(ann, {70, 20}, 77);  // 50 m at once
  const auto& frames = receive(ann);
  const net::frame* correction = nullptr;
  for (const auto& f : frames) {
    if (as<wire::MoveCorrection>(f, MT::MoveCorrection) != nullptr) {
      correction = &f;
    }
  }
  ASSERT_NE(correction, nullptr);
  net::envelope_view env;
  ASSERT_FALSE(net::decode_envelope(correction->payload(), env));
  EXPECT_EQ(env.seq, 77u);
  EXPECT_EQ(as<wire::MoveCorrection>(*correction, MT::MoveCorrection)->verdict(),
            wire::MoveVerdict::Teleport);
}

TEST_F(server_fixture, a_request_before_login_is_refused_and_a_malformed_frame_kicks) {
  client ann = connect();
  move(ann, {1, 1}, 5);
  const auto* e = find<wire::Error>(receive(ann), MT::Error);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code(), wire::ErrorCode::UnexpectedMessage);
  EXPECT_FALSE(sink.closed(ann.session));

  // A payload that is not a LoginRequest flatbuffer.
  const std::byte junk[8] = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                             std::byte{5}, std::byte{6}, std::byte{7}, std::byte{8}};
  net::session_frame m;
  m.session = ann.session;
  m.data = net::encode_envelope(type_id(MT::LoginRequest), 2, junk);
  ASSERT_FALSE(net::decode_envelope(m.data.payload(), m.envelope));
  fx.send(ann.player, m);
  fx.run();
  const auto* k = find<wire::Kicked>(receive(ann), MT::Kicked);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->reason(), wire::ErrorCode::MalformedMessage);
  EXPECT_TRUE(sink.closed(ann.session));
  EXPECT_FALSE(fx.sys.alive(ann.player));
}

TEST_F(server_fixture, a_client_message_type_the_player_has_no_handler_for_is_counted_and_kicks) {
  client ann = connect();
  login(ann, "ann");
  tick();
  receive(ann).clear();
  const auto unhandled = fx.sys.unhandled();
  // A server-to-client type (WorldUpdate) from the client: no handler in the player's table.
  fbb.Finish(wire::CreateWorldUpdate(fbb));
  ASSERT_TRUE(deliver(ann.player, ann.session, client_envelope(MT::WorldUpdate, 3)));
  EXPECT_EQ(fx.sys.unhandled(), unhandled + 1);
  const auto* k = find<wire::Kicked>(receive(ann), MT::Kicked);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->reason(), wire::ErrorCode::MalformedMessage);
  EXPECT_TRUE(sink.closed(ann.session));
}

TEST_F(server_fixture, a_client_message_sent_locally_reaches_the_same_handler_as_from_the_session) {
  client ann = connect();
  login(ann, "ann");
  tick();
  const entity_id id = self_id(ann);
  ASSERT_NE(id, no_entity);
  receive(ann).clear();
  // One table: the move handler serves a local send of move_intent (seq 0) as it serves the
  // session's MoveIntent. An illegal jump is corrected either way.
  fx.send(ann.player, move_intent{vec2{190.0f, 190.0f}});
  fx.run();
  tick();
  EXPECT_EQ(count(receive(ann), MT::MoveCorrection), 1u);
}

TEST_F(server_fixture, a_second_login_kicks_the_first_session_and_continues_from_its_state) {
  client first = connect();
  login(first, "ann");
  tick();
  move(first, {20.5f, 20}, 2);
  tick();
  client second = connect();
  login(second, "ann");
  tick();
  const auto* k = find<wire::Kicked>(receive(first), MT::Kicked);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->reason(), wire::ErrorCode::ReplacedByNewLogin);
  EXPECT_TRUE(sink.closed(first.session));
  const auto* enter = find<wire::EnterZone>(receive(second), MT::EnterZone);
  ASSERT_NE(enter, nullptr);
  EXPECT_FLOAT_EQ(enter->position()->x(), 20.5f);
}

TEST_F(server_fixture, a_wrong_token_is_refused_and_the_session_closed) {
  client ann = connect();
  login(ann, "ann", "secret");
  tick();
  client eve = connect();
  login(eve, "ann", "guess");
  const auto* r = find<wire::LoginResult>(receive(eve), MT::LoginResult);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->error(), wire::ErrorCode::InvalidCredentials);
  EXPECT_TRUE(sink.closed(eve.session));
  EXPECT_FALSE(sink.closed(ann.session));
}

TEST_F(server_fixture, a_portal_moves_the_player_to_the_other_zone_with_its_state) {
  client ann = connect();
  login(ann, "ann");
  fx.advance(millis(1000));  // a second of saved movement budget
  move(ann, {24, 20}, 2);
  tick();
  fbb.Finish(wire::CreateUsePortal(fbb));
  fx.send(ann.player, client_frame(ann.session, MT::UsePortal, 3, fbb));
  fx.run();
  tick();
  std::vector<const wire::EnterZone*> enters;
  for (const auto& f : receive(ann)) {
    if (const auto* z = as<wire::EnterZone>(f, MT::EnterZone)) {
      enters.push_back(z);
    }
  }
  ASSERT_EQ(enters.size(), 2u);
  EXPECT_EQ(enters[1]->zone_id(), 2u);
  EXPECT_FLOAT_EQ(enters[1]->position()->x(), 50.0f);
  EXPECT_EQ(enters[1]->hp(), enters[0]->hp());
}

TEST_F(server_fixture, attacks_are_refused_with_the_reason_and_players_cannot_attack_players) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  const auto* bob_zone = find<wire::EnterZone>(receive(bob), MT::EnterZone);
  ASSERT_NE(bob_zone, nullptr);
  const entity_id bob_id = bob_zone->self_id();

  fbb.Finish(wire::CreateAttack(fbb, 9999));
  fx.send(ann.player, client_frame(ann.session, MT::Attack, 11, fbb));
  fx.run();
  EXPECT_EQ(errors(ann, wire::ErrorCode::UnknownTarget), 1u);

  // Hits on NPCs are reported to both sides (zone_world and the npc scenario check them);
  // a player is no target (PvE only).
  fbb.Finish(wire::CreateAttack(fbb, bob_id));  // both at the spawn point: in range
  fx.send(ann.player, client_frame(ann.session, MT::Attack, 12, fbb));
  fx.run();
  tick();
  EXPECT_EQ(errors(ann, wire::ErrorCode::InvalidTarget), 1u);
  EXPECT_EQ(find<wire::CombatEvents>(receive(bob), MT::CombatEvents), nullptr);
}

TEST_F(server_fixture, say_reaches_nearby_players_and_whispers_reach_by_name) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  fbb.Finish(wire::CreateChatSendDirect(fbb, wire::ChatChannel::Say, "hello"));
  fx.send(ann.player, client_frame(ann.session, MT::ChatSend, 4, fbb));
  fx.run();
  const auto* said = find<wire::ChatMessage>(receive(bob), MT::ChatMessage);
  ASSERT_NE(said, nullptr);
  EXPECT_EQ(said->text()->str(), "hello");
  EXPECT_EQ(said->from_name()->str(), "ann");

  bob.frames.clear();
  fbb.Finish(wire::CreateChatSendDirect(fbb, wire::ChatChannel::Whisper, "psst", "bob"));
  fx.send(ann.player, client_frame(ann.session, MT::ChatSend, 5, fbb));
  fx.run();
  const auto* w = find<wire::ChatMessage>(receive(bob), MT::ChatMessage);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->channel(), wire::ChatChannel::Whisper);

  fbb.Finish(wire::CreateChatSendDirect(fbb, wire::ChatChannel::Whisper, "hi", "nobody"));
  fx.send(ann.player, client_frame(ann.session, MT::ChatSend, 6, fbb));
  fx.run();
  const auto* e = find<wire::Error>(receive(ann), MT::Error);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code(), wire::ErrorCode::UnknownRecipient);
}

}  // namespace
}  // namespace quay::game::server
