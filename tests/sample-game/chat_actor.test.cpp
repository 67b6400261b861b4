// The chat actor on the deterministic fixture: whispers by name across zones, the rules and the
// rate limit of the character (which outlives its session), and other players unaffected.
#include "chat_actor.hpp"

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;
using CC = wire::ChatChannel;

TEST_F(server_fixture, a_whisper_reaches_a_player_in_another_zone_and_echoes_to_the_sender) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  to_forest(bob);
  ASSERT_EQ(count(receive(bob), MT::EnterZone), 2u) << "bob is in Forest";
  chat(ann, CC::Whisper, "over here", 4, "bob");
  EXPECT_EQ(heard(bob, "over here"), 1u);
  EXPECT_EQ(heard(ann, "over here"), 1u) << "the sender's echo";
  const auto* w = find<wire::ChatMessage>(bob.frames, MT::ChatMessage);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->channel(), CC::Whisper);
  EXPECT_EQ(w->from_name()->str(), "ann");
  EXPECT_EQ(w->to()->str(), "bob");
}

TEST_F(server_fixture, say_does_not_reach_another_zone_but_zone_chat_reaches_the_whole_zone) {
  client ann = connect();
  client bob = connect();
  client cat = connect();
  login(ann, "ann");
  login(bob, "bob");
  login(cat, "cat");
  tick();
  to_forest(cat);
  chat(ann, CC::Say, "near", 4);
  chat(ann, CC::Zone, "all of meadow", 5);
  EXPECT_EQ(heard(bob, "near"), 1u);
  EXPECT_EQ(heard(bob, "all of meadow"), 1u);
  EXPECT_EQ(heard(cat, "near"), 0u);
  EXPECT_EQ(heard(cat, "all of meadow"), 0u);
}

TEST_F(server_fixture, a_whisper_to_someone_who_left_is_an_unknown_recipient) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  logout(bob);
  tick();
  chat(ann, CC::Whisper, "still there?", 4, "bob");
  EXPECT_EQ(errors(ann, wire::ErrorCode::UnknownRecipient), 1u);
}

TEST_F(server_fixture, a_replaced_session_leaving_late_does_not_hide_the_new_one_from_whispers) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  client bob2 = connect();
  login(bob2, "bob");  // kicks the first bob; its chat_leave names the old player actor
  tick();
  ASSERT_EQ(kicked(bob), wire::ErrorCode::ReplacedByNewLogin);
  chat(ann, CC::Whisper, "which bob?", 4, "bob");
  EXPECT_EQ(heard(bob2, "which bob?"), 1u);
  EXPECT_EQ(errors(ann, wire::ErrorCode::UnknownRecipient), 0u);
}

TEST_F(server_fixture, oversized_empty_invalid_and_system_chat_is_refused_and_reaches_nobody) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  const std::string long_text(settings.rules.chat.max_length + 1, 'x');
  chat(ann, CC::Say, long_text.c_str(), 4);
  chat(ann, CC::Say, "   ", 5);
  chat(ann, CC::Say, "bad \xff utf8", 6);
  chat(ann, CC::System, "I am the server", 7);
  EXPECT_EQ(errors(ann, wire::ErrorCode::ChatTooLong), 1u);
  EXPECT_EQ(errors(ann, wire::ErrorCode::ChatEmpty), 1u);
  EXPECT_EQ(errors(ann, wire::ErrorCode::MalformedMessage), 2u);
  EXPECT_EQ(count(receive(bob), MT::ChatMessage), 0u);
  EXPECT_FALSE(sink.closed(ann.session)) << "a refused chat line is not a protocol violation";
  // Refused lines spent no budget: a full burst still goes through.
  for (std::uint32_t i = 0; i < 5; ++i) {
    chat(ann, CC::Say, "ok", 10 + i);
  }
  EXPECT_EQ(heard(bob, "ok"), 5u);
}

TEST_F(server_fixture, a_chat_flood_is_limited_per_character_even_across_reconnects) {
  client ann = connect();
  client bob = connect();
  login(ann, "ann");
  login(bob, "bob");
  tick();
  for (std::uint32_t i = 0; i < 20; ++i) {
    chat(ann, CC::Zone, "spam", 10 + i);
  }
  EXPECT_EQ(heard(bob, "spam"), 5u) << "the burst of 5, then nothing within the same instant";
  EXPECT_EQ(errors(ann, wire::ErrorCode::ChatRateLimited), 15u);

  // Reconnecting does not refill the bucket.
  logout(ann);
  tick();
  client ann2 = connect();
  login(ann2, "ann");
  tick();
  chat(ann2, CC::Zone, "spam again", 40);
  EXPECT_EQ(errors(ann2, wire::ErrorCode::ChatRateLimited), 1u);
  EXPECT_EQ(heard(bob, "spam again"), 0u);

  // One message per second comes back; the other player was never limited.
  fx.advance(millis(1000));
  chat(ann2, CC::Zone, "patient", 41);
  chat(bob, CC::Zone, "bob speaks", 5);
  EXPECT_EQ(heard(bob, "patient"), 1u);
  EXPECT_EQ(heard(ann2, "bob speaks"), 1u);
  EXPECT_FALSE(sink.closed(bob.session));
}

}  // namespace
}  // namespace quay::game::server
