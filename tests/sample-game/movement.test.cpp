// Movement validation: speed budget, bounds, teleport detection and corrections.
#include "quay/game/movement.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace quay::game {
namespace {

const zone_bounds bounds{100.0f, 100.0f};

movement_rules rules() {
  movement_rules r;
  r.max_speed = 10.0f;  // 1 m per 100 ms
  r.tolerance = 0.0f;
  r.burst_ms = 500;
  r.teleport_distance = 20.0f;
  return r;
}

TEST(movement, a_move_within_the_speed_limit_is_accepted_as_reported) {
  auto s = start_movement({50, 50}, 0);
  const auto r = validate_move(s, {51, 50}, 100, rules(), bounds);
  EXPECT_EQ(r.verdict, move_verdict::accepted);
  EXPECT_FALSE(r.needs_correction());
  EXPECT_EQ(s.pos, (vec2{51, 50}));
}

TEST(movement, a_move_too_fast_is_clamped_to_the_allowed_distance_and_corrected) {
  auto s = start_movement({50, 50}, 0);
  const auto r = validate_move(s, {55, 50}, 100, rules(), bounds);  // 5 m in 100 ms
  EXPECT_EQ(r.verdict, move_verdict::speed_clamped);
  EXPECT_TRUE(r.needs_correction());
  EXPECT_NEAR(r.pos.x, 51.0f, 1e-4);
  EXPECT_NEAR(r.pos.y, 50.0f, 1e-4);
  EXPECT_EQ(s.corrections, 1u);
}

TEST(movement, two_moves_arriving_together_after_jitter_still_pass_on_saved_budget) {
  auto s = start_movement({50, 50}, 0);
  // 200 ms without a report, then two 1 m steps arrive in the same millisecond.
  EXPECT_EQ(validate_move(s, {51, 50}, 200, rules(), bounds).verdict, move_verdict::accepted);
  EXPECT_EQ(validate_move(s, {52, 50}, 200, rules(), bounds).verdict, move_verdict::accepted);
  EXPECT_EQ(validate_move(s, {53, 50}, 200, rules(), bounds).verdict,
            move_verdict::speed_clamped);
}

TEST(movement, saved_budget_is_capped_so_idling_does_not_allow_a_long_dash) {
  auto s = start_movement({10, 50}, 0);
  // After 10 s idle, the cap is 500 ms of movement = 5 m.
  const auto r = validate_move(s, {25, 50}, 10'000, rules(), bounds);
  EXPECT_EQ(r.verdict, move_verdict::speed_clamped);
  EXPECT_NEAR(r.pos.x, 15.0f, 1e-4);
}

TEST(movement, a_jump_beyond_the_teleport_distance_is_refused_and_the_entity_stays) {
  auto s = start_movement({10, 10}, 0);
  const auto r = validate_move(s, {90, 90}, 60'000, rules(), bounds);
  EXPECT_EQ(r.verdict, move_verdict::teleport);
  EXPECT_EQ(r.pos, (vec2{10, 10}));
  EXPECT_EQ(s.pos, (vec2{10, 10}));
}

TEST(movement, a_move_out_of_the_zone_is_clamped_to_the_edge) {
  auto s = start_movement({99.5f, 50}, 0);
  const auto r = validate_move(s, {100.5f, 50}, 100, rules(), bounds);
  EXPECT_EQ(r.verdict, move_verdict::out_of_bounds);
  EXPECT_EQ(r.pos, (vec2{100.0f, 50}));
}

TEST(movement, a_non_finite_position_is_refused) {
  auto s = start_movement({5, 5}, 0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(validate_move(s, {nan, 5}, 100, rules(), bounds).verdict, move_verdict::invalid);
  EXPECT_EQ(s.pos, (vec2{5, 5}));
}

TEST(movement, time_going_backwards_earns_no_budget) {
  auto s = start_movement({50, 50}, 1000);
  EXPECT_EQ(validate_move(s, {50.5f, 50}, 500, rules(), bounds).verdict,
            move_verdict::speed_clamped);
}

TEST(movement, teleport_to_places_the_entity_and_empties_the_budget) {
  auto s = start_movement({50, 50}, 0);
  teleport_to(s, {10, 10}, 5000);
  EXPECT_EQ(s.pos, (vec2{10, 10}));
  EXPECT_EQ(validate_move(s, {11, 10}, 5000, rules(), bounds).verdict,
            move_verdict::speed_clamped);
}

}  // namespace
}  // namespace quay::game
