// The deterministic RNG: same seed, same sequence; ranges respected.
#include "quay/game/rng.hpp"

#include <gtest/gtest.h>

namespace quay::game {
namespace {

TEST(rng, the_same_seed_replays_the_same_sequence_and_another_seed_differs) {
  rng a(123);
  rng b(123);
  rng c(124);
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differ += x != c.next() ? 1 : 0;
  }
  EXPECT_GT(differ, 90);
}

TEST(rng, uniform_values_stay_in_range_and_cover_it) {
  rng r(5);
  bool seen[6] = {};
  for (int i = 0; i < 10'000; ++i) {
    const auto v = r.uniform_int(-2, 3);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 3);
    seen[v + 2] = true;
    const float f = r.uniform_float(1.0f, 2.0f);
    ASSERT_GE(f, 1.0f);
    ASSERT_LT(f, 2.0f);
  }
  for (bool s : seen) {
    EXPECT_TRUE(s);
  }
  EXPECT_EQ(r.uniform_int(4, 4), 4);
  EXPECT_EQ(r.uniform_int(4, 1), 4);
}

}  // namespace
}  // namespace quay::game
