// The server keeps what docs/protocol.md promises (issue 22's list), on the deterministic
// fixture: one test per rule.
#include "game_fixture.hpp"
#include "quay/schemas/server_info_generated.h"

namespace quay::game::server {
namespace {

using namespace test;

// LoginResults `c` received, oldest first.
std::vector<const wire::LoginResult*> login_results(const std::vector<net::frame>& frames) {
  std::vector<const wire::LoginResult*> out;
  for (const auto& f : frames) {
    if (const auto* r = as<wire::LoginResult>(f, MT::LoginResult)) {
      out.push_back(r);
    }
  }
  return out;
}

std::uint32_t seq_of(const net::frame& f) {
  net::envelope_view env;
  return net::decode_envelope(f.payload(), env) ? 0 : env.seq;
}

TEST_F(server_fixture, logout_before_login_gets_unexpected_message_and_the_session_stays_open) {
  client ann = connect();
  fbb.Finish(wire::CreateLogout(fbb));
  fx.send(ann.player, client_frame(ann.session, MT::Logout, 4, fbb));
  fx.run();
  EXPECT_EQ(errors(ann, wire::ErrorCode::UnexpectedMessage), 1u);
  EXPECT_FALSE(sink.closed(ann.session));
  login(ann, "ann");
  EXPECT_NE(find<wire::EnterZone>(receive(ann), MT::EnterZone), nullptr) << "still usable";
}

TEST_F(server_fixture, logout_is_acknowledged_with_logged_out_carrying_its_seq_then_closed) {
  client ann = connect();
  login(ann, "ann");
  receive(ann).clear();
  fbb.Finish(wire::CreateLogout(fbb));
  fx.send(ann.player, client_frame(ann.session, MT::Logout, 42, fbb));
  fx.run();
  const auto& got = receive(ann);
  ASSERT_EQ(count(got, MT::LoggedOut), 1u);
  for (const auto& f : got) {
    if (as<wire::LoggedOut>(f, MT::LoggedOut) != nullptr) {
      EXPECT_EQ(seq_of(f), 42u);
    }
  }
  EXPECT_TRUE(sink.closed(ann.session));
}

TEST_F(server_fixture, a_login_overtaken_by_a_newer_login_of_its_name_gets_one_login_result) {
  client playing = connect();
  login(playing, "ann");
  // The second login kicks the playing session and waits for its final save; the third comes
  // meanwhile and overtakes the second, which is answered in its LoginResult.
  client second = connect();
  client third = connect();
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "ann", "t"));
  fx.send(second.player, client_frame(second.session, MT::LoginRequest, 2, fbb));
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "ann", "t"));
  fx.send(third.player, client_frame(third.session, MT::LoginRequest, 3, fbb));
  fx.run();
  fx.advance(millis(2500));
  EXPECT_EQ(kicked(playing), wire::ErrorCode::ReplacedByNewLogin) << "after its LoginResult{Ok}";
  const auto overtaken = login_results(receive(second));
  ASSERT_EQ(overtaken.size(), 1u) << "every LoginRequest gets exactly one LoginResult";
  EXPECT_EQ(overtaken[0]->error(), wire::ErrorCode::ReplacedByNewLogin);
  EXPECT_EQ(count(receive(second), MT::Kicked), 0u) << "Kicked only follows a successful login";
  const auto newest = login_results(receive(third));
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0]->error(), wire::ErrorCode::Ok);
}

TEST_F(server_fixture, a_session_kicked_while_its_login_is_pending_hears_it_in_its_login_result) {
  client ann = connect();
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "ann", "t"));
  fx.send(ann.player, client_frame(ann.session, MT::LoginRequest, 6, fbb));
  ASSERT_TRUE(fx.step());  // the player handles the request: its login is now pending
  // The gateway's kick of a session that a newer login of its name replaces, arriving before
  // the login is granted (two logins racing on threads).
  fx.send(ann.player, kick_msg{game_errc::replaced_by_new_login});
  fx.run();
  fx.advance(millis(2500));
  const auto r = login_results(receive(ann));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->error(), wire::ErrorCode::ReplacedByNewLogin);
  EXPECT_EQ(count(receive(ann), MT::Kicked), 0u);
  for (const auto& f : receive(ann)) {
    if (as<wire::LoginResult>(f, MT::LoginResult) != nullptr) {
      EXPECT_EQ(seq_of(f), 6u);
    }
  }
  EXPECT_TRUE(sink.closed(ann.session));
}

TEST_F(server_fixture, a_player_attacking_a_player_is_refused_with_invalid_target_and_gains_nothing) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  const entity_id bob_id = self_id(bob);
  ASSERT_NE(bob_id, no_entity);
  receive(ann).clear();
  fbb.Finish(wire::CreateAttack(fbb, bob_id));  // both at the spawn point: in range
  fx.send(ann.player, client_frame(ann.session, MT::Attack, 12, fbb));
  fx.run();
  tick();
  EXPECT_EQ(errors(ann, wire::ErrorCode::InvalidTarget), 1u);
  EXPECT_EQ(count(receive(bob), MT::CombatEvents), 0u) << "bob was not hit";
  EXPECT_EQ(count(receive(ann), MT::Progress), 0u);
}

TEST_F(server_fixture, a_login_of_another_protocol_version_is_refused_and_told_the_servers) {
  client ann = connect();
  fbb.Finish(wire::CreateLoginRequestDirect(fbb, "ann", "t", 2));
  fx.send(ann.player, client_frame(ann.session, MT::LoginRequest, 5, fbb));
  fx.run();
  const auto r = login_results(receive(ann));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]->error(), wire::ErrorCode::UnsupportedProtocolVersion);
  EXPECT_EQ(r[0]->protocol_version(), 1u);
  EXPECT_TRUE(sink.closed(ann.session));
  EXPECT_EQ(count(receive(ann), MT::EnterZone), 0u);

  client bob = connect();  // the field left at its default (omitted on the wire) reads as 1
  login(bob, "bob");
  const auto ok = login_results(receive(bob));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0]->error(), wire::ErrorCode::Ok);
  EXPECT_EQ(ok[0]->protocol_version(), 1u);
}

TEST_F(server_fixture, server_time_is_milliseconds_of_the_servers_monotonic_clock) {
  fx.advance(millis(1234));
  client ann = connect();
  login(ann, "ann");
  const auto r = login_results(receive(ann));
  ASSERT_EQ(r.size(), 1u);
  // The port's clock starts with the server (here the fixture's manual clock, at 0).
  EXPECT_EQ(r[0]->server_time_ms(), 1234);
  tick();
  const auto* u = find<wire::WorldUpdate>(receive(ann), MT::WorldUpdate);
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->server_time_ms(), 1334) << "WorldUpdate uses the same clock";
}

TEST_F(server_fixture, a_legal_walk_started_at_enter_zone_is_not_corrected) {
  client ann = connect();
  login(ann, "ann");
  const auto* z = find<wire::EnterZone>(receive(ann), MT::EnterZone);
  ASSERT_NE(z, nullptr);
  const vec2 at{z->position()->x(), z->position()->y()};
  // At once, then one step per tick at 7 m/s (0.7 m per 100 ms), as a client walking away.
  move(ann, {at.x + 0.7f, at.y}, 2);
  for (std::uint32_t i = 2; i <= 10; ++i) {
    tick();
    move(ann, {at.x + 0.7f * static_cast<float>(i), at.y}, i + 1);
  }
  EXPECT_EQ(count(receive(ann), MT::MoveCorrection), 0u);
}

TEST_F(server_fixture, a_chat_line_sent_in_the_same_write_as_use_portal_is_delivered) {
  client ann = connect();
  login(ann, "ann");
  fx.advance(millis(1000));
  move(ann, {24, 20}, 2);  // onto Meadow's portal
  tick();
  receive(ann).clear();
  // One write: UsePortal, then a say line; both reach the player actor back to back.
  fbb.Finish(wire::CreateUsePortal(fbb));
  fx.send(ann.player, client_frame(ann.session, MT::UsePortal, 3, fbb));
  fbb.Finish(wire::CreateChatSendDirect(fbb, wire::ChatChannel::Say, "made it", nullptr));
  fx.send(ann.player, client_frame(ann.session, MT::ChatSend, 4, fbb));
  fx.run();
  tick();
  const auto* z = find<wire::EnterZone>(receive(ann), MT::EnterZone);
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->zone_id(), 2u);
  EXPECT_EQ(heard(ann, "made it"), 1u) << "the echo of the line, said in the new zone";
  EXPECT_EQ(errors(ann, wire::ErrorCode::ChatRateLimited), 0u);
}

TEST_F(server_fixture, an_undefined_chat_channel_is_malformed_and_a_move_without_position_invalid) {
  client ann = connect();
  login(ann, "ann");
  receive(ann).clear();
  fbb.Finish(wire::CreateChatSendDirect(fbb, static_cast<wire::ChatChannel>(9), "hi", nullptr));
  fx.send(ann.player, client_frame(ann.session, MT::ChatSend, 7, fbb));
  fx.run();
  EXPECT_EQ(errors(ann, wire::ErrorCode::MalformedMessage), 1u);
  fbb.Finish(wire::CreateMoveIntent(fbb, nullptr));
  fx.send(ann.player, client_frame(ann.session, MT::MoveIntent, 8, fbb));
  fx.run();
  const auto* c = find<wire::MoveCorrection>(receive(ann), MT::MoveCorrection);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->verdict(), wire::MoveVerdict::Invalid);
  EXPECT_FALSE(sink.closed(ann.session));
}

TEST_F(server_fixture, server_info_after_login_reports_version_zones_tick_rate_and_limits) {
  client ann = connect();
  fbb.Finish(wire::CreateServerInfoRequest(fbb));
  fx.send(ann.player, client_frame(ann.session, MT::ServerInfoRequest, 3, fbb));
  fx.run();
  EXPECT_EQ(errors(ann, wire::ErrorCode::UnexpectedMessage), 1u) << "before login";
  login(ann, "ann");
  receive(ann).clear();
  fbb.Finish(wire::CreateServerInfoRequest(fbb));
  fx.send(ann.player, client_frame(ann.session, MT::ServerInfoRequest, 4, fbb));
  fx.run();
  const auto& got = receive(ann);
  const auto* info = find<wire::ServerInfo>(got, MT::ServerInfo);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->protocol_version(), 1u);
  ASSERT_NE(info->server_version(), nullptr);
  EXPECT_NE(info->server_version()->str().find("quay-zone-server"), std::string::npos);
  ASSERT_NE(info->zones(), nullptr);
  ASSERT_EQ(info->zones()->size(), 2u);
  EXPECT_EQ(info->zones()->Get(0)->id(), 1u);
  EXPECT_EQ(info->zones()->Get(0)->name()->str(), "Meadow");
  EXPECT_EQ(info->zones()->Get(1)->name()->str(), "Forest");
  EXPECT_EQ(info->start_zone(), 1u);
  EXPECT_EQ(info->tick_rate(), settings.tick_rate);
  EXPECT_EQ(info->max_players(), settings.max_players);
  EXPECT_EQ(info->message_burst(), 100.0f);
  EXPECT_EQ(info->messages_per_second(), 50.0f);
  EXPECT_EQ(info->chat_max_bytes(), 256u);
  EXPECT_EQ(info->max_frame_size(), 64u * 1024u);
  for (const auto& f : got) {
    if (as<wire::ServerInfo>(f, MT::ServerInfo) != nullptr) {
      EXPECT_EQ(seq_of(f), 4u);
    }
  }
}

TEST_F(server_fixture, names_are_unique_regardless_of_case) {
  client ann = connect();
  login(ann, "Ann", "secret");
  const auto first = login_results(receive(ann));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0]->error(), wire::ErrorCode::Ok);
  const std::uint64_t id = first[0]->character_id();

  client other = connect();  // another token under the same name in other case: taken
  login(other, "ANN", "guess");
  const auto taken = login_results(receive(other));
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0]->error(), wire::ErrorCode::InvalidCredentials);

  logout(ann);
  fx.advance(millis(100));
  client again = connect();  // the owner, typing the name in lower case: the same character
  login(again, "ann", "secret");
  const auto back = login_results(receive(again));
  ASSERT_EQ(back.size(), 1u);
  ASSERT_EQ(back[0]->error(), wire::ErrorCode::Ok);
  EXPECT_EQ(back[0]->character_id(), id);
  EXPECT_EQ(back[0]->name()->str(), "Ann") << "shown as it was created";
}

}  // namespace
}  // namespace quay::game::server
