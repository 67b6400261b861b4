// The token bucket with time moved by hand.
#include "quay/game/rate_limit.hpp"

#include <gtest/gtest.h>

namespace quay::game {
namespace {

TEST(token_bucket, admits_a_burst_then_refuses_until_time_refills_it) {
  token_bucket b({3.0, 2.0}, 1000);
  EXPECT_TRUE(b.admit(1000));
  EXPECT_TRUE(b.admit(1000));
  EXPECT_TRUE(b.admit(1000));
  EXPECT_FALSE(b.admit(1000));
  EXPECT_FALSE(b.admit(1400));  // 0.8 tokens
  EXPECT_TRUE(b.admit(1500));   // 1.0 token at 2 per second
  EXPECT_FALSE(b.admit(1500));
}

TEST(token_bucket, never_holds_more_than_the_burst) {
  token_bucket b({2.0, 10.0}, 0);
  EXPECT_TRUE(b.admit(0));
  EXPECT_TRUE(b.full_at(1'000'000));
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    admitted += b.admit(1'000'000) ? 1 : 0;
  }
  EXPECT_EQ(admitted, 2);
}

TEST(token_bucket, time_going_backwards_adds_nothing) {
  token_bucket b({1.0, 1.0}, 5000);
  EXPECT_TRUE(b.admit(5000));
  EXPECT_FALSE(b.admit(0));
  EXPECT_FALSE(b.full_at(4000));
  EXPECT_TRUE(b.full_at(6000));
}

TEST(token_bucket, a_zero_rate_admits_only_the_burst) {
  token_bucket b({2.0, 0.0}, 0);
  EXPECT_TRUE(b.admit(0));
  EXPECT_TRUE(b.admit(10));
  EXPECT_FALSE(b.admit(1'000'000));
}

}  // namespace
}  // namespace quay::game
