#include "quay/runtime/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace quay {
namespace {

using expired = timer_wheel::expired;

std::vector<std::uint64_t> payloads(const std::vector<expired>& v) {
  std::vector<std::uint64_t> out;
  for (const auto& e : v) out.push_back(e.payload);
  return out;
}

TEST(timer_wheel, an_empty_wheel_has_no_deadline_and_expires_nothing) {
  timer_wheel w;
  std::vector<expired> out;
  EXPECT_FALSE(w.next_deadline());
  EXPECT_EQ(w.advance(1'000'000, out), 0u);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(w.now(), 1'000'000u);
}

TEST(timer_wheel, timers_expire_in_deadline_order_and_ties_in_insertion_order) {
  timer_wheel w;
  w.insert(30, 1);
  w.insert(10, 2);
  w.insert(20, 3);
  w.insert(10, 4);
  w.insert(5000, 5);
  w.insert(20, 6);
  std::vector<expired> out;
  EXPECT_EQ(w.advance(6000, out), 6u);
  EXPECT_EQ(payloads(out), (std::vector<std::uint64_t>{2, 4, 3, 6, 1, 5}));
  EXPECT_EQ(out[0].deadline, 10u);
  EXPECT_TRUE(w.empty());
}

TEST(timer_wheel, a_timer_never_fires_before_its_deadline_nor_after_the_now_that_reaches_it) {
  for (const std::uint64_t deadline :
       {1ull, 63ull, 64ull, 65ull, 4095ull, 4096ull, 4097ull, 262'143ull, 262'144ull,
        16'777'216ull, 16'777'217ull}) {
    timer_wheel w;
    w.insert(deadline, deadline);
    std::vector<expired> out;
    w.advance(deadline - 1, out);
    EXPECT_TRUE(out.empty()) << "fired early: " << deadline;
    EXPECT_EQ(w.next_deadline(), deadline);
    w.advance(deadline, out);
    ASSERT_EQ(out.size(), 1u) << "not fired at its deadline: " << deadline;
    EXPECT_EQ(out[0].deadline, deadline);
  }
}

TEST(timer_wheel, delays_that_cross_levels_cascade_to_the_exact_millisecond_when_stepped) {
  timer_wheel w(100);
  const std::vector<std::uint64_t> deadlines = {163, 164, 227, 228, 4196, 4197, 70'000, 262'245};
  for (auto d : deadlines) w.insert(d, d);
  std::vector<expired> out;
  for (std::uint64_t t = 101; t <= 262'245; ++t) {
    out.clear();
    w.advance(t, out);
    for (const auto& e : out) EXPECT_EQ(e.deadline, t);
  }
  EXPECT_TRUE(w.empty());
}

TEST(timer_wheel, a_cancelled_timer_never_fires_and_its_handle_goes_stale) {
  timer_wheel w;
  const auto a = w.insert(100, 1);
  const auto b = w.insert(100'000, 2);
  w.insert(200, 3);
  EXPECT_TRUE(w.cancel(a));
  EXPECT_FALSE(w.cancel(a));
  EXPECT_TRUE(w.cancel(b));
  EXPECT_EQ(w.size(), 1u);
  std::vector<expired> out;
  w.advance(1'000'000, out);
  EXPECT_EQ(payloads(out), (std::vector<std::uint64_t>{3}));
  EXPECT_FALSE(w.cancel(out[0].id)) << "an expired handle is stale";
  EXPECT_FALSE(w.cancel(timer_wheel::handle{}));
  EXPECT_FALSE(w.cancel(timer_wheel::handle{0xdead'0000'0042ull}));
}

TEST(timer_wheel, a_reused_slot_does_not_honour_the_old_handle) {
  timer_wheel w;
  const auto old_handle = w.insert(10, 1);
  ASSERT_TRUE(w.cancel(old_handle));
  const auto fresh = w.insert(20, 2);
  EXPECT_FALSE(w.cancel(old_handle));
  EXPECT_EQ(w.payload(fresh), 2u);
  EXPECT_FALSE(w.payload(old_handle));
}

TEST(timer_wheel, next_deadline_is_exact_after_the_earliest_timer_is_cancelled) {
  timer_wheel w;
  const auto first = w.insert(70'000, 1);
  w.insert(70'500, 2);
  w.insert(9'000'000, 3);
  EXPECT_EQ(w.next_deadline(), 70'000u);
  w.cancel(first);
  EXPECT_EQ(w.next_deadline(), 70'500u);
}

TEST(timer_wheel, deadlines_already_passed_fire_at_the_next_advance_first_and_in_order) {
  timer_wheel w;
  std::vector<expired> out;
  w.advance(1000, out);
  w.insert(1001, 1);
  w.insert(900, 2);
  w.insert(1000, 3);
  w.insert(500, 4);
  EXPECT_EQ(w.next_deadline(), 500u);
  w.advance(1001, out);
  EXPECT_EQ(payloads(out), (std::vector<std::uint64_t>{4, 2, 3, 1}));
}

TEST(timer_wheel, very_long_delays_fire_after_a_single_jump_and_after_hourly_steps) {
  constexpr std::uint64_t day = 24ull * 3600 * 1000;
  timer_wheel jump;
  timer_wheel steps;
  for (std::uint64_t i = 1; i <= 40; ++i) {
    jump.insert(i * day + i, i);
    steps.insert(i * day + i, i);
  }
  std::vector<expired> out;
  jump.advance(20 * day + 20, out);
  EXPECT_EQ(out.size(), 20u);
  EXPECT_EQ(jump.next_deadline(), 21 * day + 21);
  std::vector<expired> stepped;
  for (std::uint64_t t = 0; t <= 41 * day; t += 3'600'000) {
    const std::size_t before = stepped.size();
    steps.advance(t, stepped);
    for (std::size_t k = before; k < stepped.size(); ++k) EXPECT_LE(stepped[k].deadline, t);
    if (auto d = steps.next_deadline()) {
      EXPECT_GT(*d, t);
    }
  }
  ASSERT_EQ(stepped.size(), 40u);
  for (std::uint64_t i = 0; i < 40; ++i) EXPECT_EQ(stepped[i].payload, i + 1);
}

TEST(timer_wheel, deadlines_near_the_top_of_the_clock_are_kept) {
  timer_wheel w(1);
  const std::uint64_t far = (std::uint64_t{1} << 63) + 12345;
  w.insert(far, 7);
  w.insert(~std::uint64_t{0}, 8);
  EXPECT_EQ(w.next_deadline(), far);
  std::vector<expired> out;
  w.advance(far - 1, out);
  EXPECT_TRUE(out.empty());
  w.advance(~std::uint64_t{0}, out);
  EXPECT_EQ(payloads(out), (std::vector<std::uint64_t>{7, 8}));
}

TEST(timer_wheel, a_repeating_timer_is_modelled_by_reinserting_at_deadline_plus_period) {
  timer_wheel w;
  w.insert(250, 1);
  std::vector<std::uint64_t> fired_at;
  std::vector<expired> out;
  for (std::uint64_t t = 0; t < 10'010; t += 7) {
    out.clear();
    w.advance(t, out);
    for (const auto& e : out) {
      fired_at.push_back(e.deadline);
      w.insert(e.deadline + 250, e.payload);
    }
  }
  ASSERT_EQ(fired_at.size(), 40u);
  for (std::size_t i = 0; i < fired_at.size(); ++i) EXPECT_EQ(fired_at[i], 250 * (i + 1));
}

// The reference: a map ordered by (deadline, insertion sequence).
TEST(timer_wheel, matches_a_sorted_reference_model_under_random_operations) {
  std::mt19937_64 rng(20261127);
  timer_wheel w;
  std::map<std::pair<std::uint64_t, std::uint64_t>, timer_wheel::handle> model;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live_keys;
  std::uint64_t now = 0;
  std::uint64_t seq = 0;
  std::vector<expired> out;
  auto random_delay = [&]() -> std::uint64_t {
    switch (rng() % 6) {
      case 0: return rng() % 4;                    // ties and zero delays
      case 1: return rng() % 64;                   // level 0
      case 2: return rng() % 5000;                 // level 1-2
      case 3: return rng() % 400'000;              // level 2-3
      case 4: return rng() % (50ull * 86'400'000); // days
      default: return rng() % 100;
    }
  };
  for (int op = 0; op < 200'000; ++op) {
    const auto kind = rng() % 10;
    if (kind < 5) {
      // Sometimes at or before now: the overdue path.
      const std::uint64_t d = (rng() % 20 == 0 && now > 10) ? now - rng() % 10 : now + random_delay();
      const auto key = std::make_pair(d, seq++);
      model.emplace(key, w.insert(d, key.second));
      live_keys.push_back(key);
    } else if (kind < 7 && !live_keys.empty()) {
      const std::size_t i = rng() % live_keys.size();
      const auto key = live_keys[i];
      live_keys[i] = live_keys.back();
      live_keys.pop_back();
      const auto it = model.find(key);
      if (it != model.end()) {
        ASSERT_TRUE(w.cancel(it->second));
        model.erase(it);
      }
    } else {
      const std::uint64_t step = rng() % 8 == 0 ? rng() % 10'000'000 : rng() % 200;
      now += step;
      out.clear();
      w.advance(now, out);
      std::vector<std::uint64_t> expected;
      while (!model.empty() && model.begin()->first.first <= now) {
        expected.push_back(model.begin()->first.second);
        model.erase(model.begin());
      }
      ASSERT_EQ(payloads(out), expected) << "op " << op << " now " << now;
    }
    ASSERT_EQ(w.size(), model.size());
    if (model.empty()) {
      ASSERT_FALSE(w.next_deadline());
    } else {
      ASSERT_EQ(w.next_deadline(), model.begin()->first.first) << "op " << op;
    }
  }
}

TEST(timer_wheel, a_million_timers_expire_in_order_across_large_jumps) {
  std::mt19937_64 rng(7);
  timer_wheel w;
  constexpr std::size_t n = 1'000'000;
  for (std::size_t i = 0; i < n; ++i) w.insert(rng() % 3'600'000, i);
  std::vector<expired> out;
  out.reserve(n);
  std::uint64_t last = 0;
  std::size_t total = 0;
  for (std::uint64_t t = 0; t <= 3'600'000; t += 60'000) {
    out.clear();
    total += w.advance(t, out);
    for (const auto& e : out) {
      ASSERT_GE(e.deadline, last);
      ASSERT_LE(e.deadline, t);
      last = e.deadline;
    }
  }
  EXPECT_EQ(total, n);
  EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace quay
