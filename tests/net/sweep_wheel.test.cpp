// The sweep's wheel of deadlines (net/src/sweep.cpp): entries come out at their tick, not
// before; entries a revolution or more ahead stay; a late sweep takes everything due once.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "network_impl.hpp"

namespace {

using quay::net::detail::sweep_wheel;

std::vector<std::uint32_t> slots_of(const std::vector<sweep_wheel::entry>& es) {
  std::vector<std::uint32_t> out;
  for (const auto& e : es) out.push_back(e.slot);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(sweep_wheel, an_entry_comes_out_at_its_tick_and_not_before) {
  sweep_wheel w;
  std::vector<sweep_wheel::entry> due;
  w.take_due(100, due);  // the first sweep starts the clock
  EXPECT_TRUE(due.empty());
  EXPECT_EQ(w.add({1, 1, 105}), 105u);
  EXPECT_EQ(w.add({2, 1, 103}), 103u);
  w.take_due(102, due);
  EXPECT_TRUE(due.empty());
  w.take_due(103, due);
  EXPECT_EQ(slots_of(due), std::vector<std::uint32_t>{2});
  due.clear();
  w.take_due(110, due);
  EXPECT_EQ(slots_of(due), std::vector<std::uint32_t>{1});
  EXPECT_EQ(w.size(), 0u);
}

TEST(sweep_wheel, an_entry_for_a_tick_already_swept_goes_to_the_next_one) {
  sweep_wheel w;
  std::vector<sweep_wheel::entry> due;
  w.take_due(50, due);
  EXPECT_EQ(w.add({7, 1, 10}), 51u);
  w.take_due(51, due);
  EXPECT_EQ(slots_of(due), std::vector<std::uint32_t>{7});
}

TEST(sweep_wheel, entries_a_revolution_ahead_stay_in_their_bucket) {
  sweep_wheel w;
  std::vector<sweep_wheel::entry> due;
  w.take_due(1, due);
  const std::uint64_t far = 10 + 3 * sweep_wheel::bucket_count;  // same bucket as tick 10
  w.add({1, 1, 10});
  w.add({2, 1, far});
  w.take_due(10, due);
  EXPECT_EQ(slots_of(due), std::vector<std::uint32_t>{1});
  due.clear();
  w.take_due(far - 1, due);
  EXPECT_TRUE(due.empty());
  w.take_due(far, due);
  EXPECT_EQ(slots_of(due), std::vector<std::uint32_t>{2});
}

TEST(sweep_wheel, a_late_sweep_takes_everything_due_exactly_once) {
  sweep_wheel w;
  std::vector<sweep_wheel::entry> due;
  w.take_due(1, due);
  for (std::uint32_t i = 0; i < 3000; ++i) w.add({i, 1, 2 + i});
  w.take_due(5000, due);  // several revolutions late
  EXPECT_EQ(due.size(), 3000u);
  auto s = slots_of(due);
  EXPECT_TRUE(std::adjacent_find(s.begin(), s.end()) == s.end());
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
