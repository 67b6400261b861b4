// Chat rules: the token bucket and the text checks.
#include "quay/game/chat_rules.hpp"

#include <gtest/gtest.h>

namespace quay::game {
namespace {

chat_rules rules() {
  chat_rules r;
  r.max_length = 10;
  r.burst = 3;
  r.per_second = 2;  // one token per 500 ms
  return r;
}

TEST(chat_rules, a_burst_is_admitted_then_messages_are_rate_limited) {
  chat_limiter limiter(rules(), 0);
  EXPECT_TRUE(limiter.admit(0));
  EXPECT_TRUE(limiter.admit(0));
  EXPECT_TRUE(limiter.admit(0));
  EXPECT_FALSE(limiter.admit(0));
  EXPECT_FALSE(limiter.admit(499));
  EXPECT_TRUE(limiter.admit(500));
  EXPECT_FALSE(limiter.admit(600));
}

TEST(chat_rules, tokens_refill_only_up_to_the_burst) {
  chat_limiter limiter(rules(), 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.admit(0));
  }
  EXPECT_TRUE(limiter.admit(60'000));
  EXPECT_TRUE(limiter.admit(60'000));
  EXPECT_TRUE(limiter.admit(60'000));
  EXPECT_FALSE(limiter.admit(60'000));
}

TEST(chat_rules, text_is_trimmed_and_control_characters_become_spaces) {
  std::string t = "  hi\tyou\n ";
  EXPECT_EQ(sanitize_chat(t, rules()), game_errc::ok);
  EXPECT_EQ(t, "hi you");
}

TEST(chat_rules, empty_and_too_long_messages_are_refused) {
  std::string empty = " \t ";
  EXPECT_EQ(sanitize_chat(empty, rules()), game_errc::chat_empty);
  std::string exact = "0123456789";
  EXPECT_EQ(sanitize_chat(exact, rules()), game_errc::ok);
  std::string longer = "0123456789a";
  EXPECT_EQ(sanitize_chat(longer, rules()), game_errc::chat_too_long);
}

TEST(chat_rules, valid_utf8_passes_and_broken_utf8_is_malformed) {
  std::string ok = "h\xc3\xa9llo";  // héllo
  EXPECT_EQ(sanitize_chat(ok, rules()), game_errc::ok);
  std::string truncated = "ab\xc3";
  EXPECT_EQ(sanitize_chat(truncated, rules()), game_errc::malformed_message);
  std::string overlong = "\xc0\xaf";
  EXPECT_EQ(sanitize_chat(overlong, rules()), game_errc::malformed_message);
  std::string surrogate = "\xed\xa0\x80";
  EXPECT_EQ(sanitize_chat(surrogate, rules()), game_errc::malformed_message);
}

}  // namespace
}  // namespace quay::game
