// Sends that cannot be delivered become counted dead letters, and never reach a later actor
// that reuses the slot.

#include <gtest/gtest.h>

#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using quay::actor_errc;
using quay::actor_ref;
using quay::testing::actor_fixture;
using quay::testing::collector;

struct note {
  int n;
};

TEST(dead_letters, a_send_to_a_stopped_actor_is_a_counted_dead_letter) {
  actor_fixture f;
  std::vector<note> got;
  const actor_ref a = f.spawn<collector<note>>(&got);
  f.sys.stop(a);
  f.run();
  EXPECT_EQ(f.send(a, note{1}), actor_errc::dead_target);
  EXPECT_EQ(f.send(a, note{2}), actor_errc::dead_target);
  EXPECT_EQ(f.sys.dead_letters(), 2u);
}

TEST(dead_letters, messages_left_in_the_mailbox_of_a_stopping_actor_are_dead_letters) {
  actor_fixture f;
  std::vector<note> got;
  const actor_ref a = f.spawn<collector<note>>(&got);
  f.run();
  for (int i = 0; i < 5; ++i) {
    f.send(a, note{i});
  }
  f.sys.stop(a);  // control lane: handled before the notes
  f.run();
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(f.sys.dead_letters(), 5u);
}

TEST(dead_letters, a_stale_handle_never_reaches_the_actor_that_reuses_its_slot) {
  actor_fixture f;
  std::vector<note> old_got;
  std::vector<note> new_got;
  const actor_ref a = f.spawn<collector<note>>(&old_got);
  f.sys.stop(a);
  f.run();
  const actor_ref b = f.spawn<collector<note>>(&new_got);
  ASSERT_EQ(a.slot, b.slot);
  EXPECT_EQ(f.send(a, note{1}), actor_errc::dead_target);
  EXPECT_FALSE(f.send(b, note{2}));
  f.run();
  ASSERT_EQ(new_got.size(), 1u);
  EXPECT_EQ(new_got[0].n, 2);
  EXPECT_EQ(f.sys.dead_letters(), 1u);
}

TEST(dead_letters, a_null_or_never_allocated_handle_is_a_dead_letter) {
  actor_fixture f;
  EXPECT_EQ(f.send(actor_ref{}, note{1}), actor_errc::dead_target);
  EXPECT_EQ(f.send(actor_ref{123456, 1, 0}, note{1}), actor_errc::dead_target);
  EXPECT_EQ(f.send(actor_ref{0, 1, 7}, note{1}), actor_errc::dead_target);  // another node
  EXPECT_EQ(f.sys.dead_letters(), 3u);
}

}  // namespace
