// A zone actor that fails, on the deterministic fixture: its supervisor restarts it, its
// players re-enter the new incarnation with their state (a new EnterZone, as after a portal),
// players in other zones notice nothing; a zone that keeps failing is given up alone and its
// players are saved and kicked with ZoneUnavailable.
#include "zone_supervisor.hpp"

#include "game_fixture.hpp"

namespace quay::game::server {
namespace {

using namespace test;

struct zone_failure_fixture : server_fixture {
  client ann;  // Meadow
  client bob;  // Meadow
  client cat;  // Forest

  void SetUp() override {
    server_fixture::SetUp();
    ann = connect();
    bob = connect();
    cat = connect();
    login(ann, "ann");
    login(bob, "bob");
    login(cat, "cat");
    tick();
    to_forest(cat);
    ASSERT_EQ(count(receive(cat), MT::EnterZone), 2u);
    fx.advance(millis(1000));
    move(ann, {25, 20}, 5);  // ann has a state of her own to lose
    tick();
    ASSERT_EQ(count(receive(ann), MT::MoveCorrection), 0u);
  }

  void fail_zone(std::uint32_t id) {
    fx.send(zone(id), zone_fault_msg{"test"});
    fx.run();
  }

  const wire::EnterZone* last_enter(client& c) {
    const wire::EnterZone* z = nullptr;
    for (const auto& f : receive(c)) {
      if (const auto* e = as<wire::EnterZone>(f, MT::EnterZone)) {
        z = e;
      }
    }
    return z;
  }

  /// cat, in Forest, noticed nothing and still plays.
  void expect_cat_unaffected() {
    EXPECT_EQ(count(receive(cat), MT::EnterZone), 2u) << "no re-entry in Forest";
    EXPECT_EQ(kicked(cat), std::nullopt);
    EXPECT_FALSE(sink.closed(cat.session));
    receive(cat).clear();
    fx.advance(millis(1000));
    move(cat, {51, 50}, 90);
    chat(cat, wire::ChatChannel::Zone, "forest is fine", 91);
    tick();
    EXPECT_EQ(count(receive(cat), MT::MoveCorrection), 0u);
    EXPECT_EQ(heard(cat, "forest is fine"), 1u);
  }
};

TEST_F(zone_failure_fixture, a_failed_zone_is_restarted_and_its_players_re_enter_with_their_state) {
  const actor_ref before = zone(1);
  const auto* first = last_enter(ann);
  ASSERT_NE(first, nullptr);
  const std::int32_t hp = first->hp();
  const std::int32_t level = first->level();
  const entity_id forest_cat = last_enter(cat)->self_id();

  fail_zone(1);
  fx.advance(millis(100));
  const actor_ref after = zone(1);
  EXPECT_TRUE(after) << "the supervisor restarted the zone";
  EXPECT_NE(after, before);
  EXPECT_FALSE(fx.sys.alive(before));

  // ann keeps her session and re-enters where she stood, with her hp and level.
  EXPECT_EQ(count(receive(ann), MT::EnterZone), 2u);
  const auto* again = last_enter(ann);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->zone_id(), 1u);
  EXPECT_FLOAT_EQ(again->position()->x(), 25.0f);
  EXPECT_EQ(again->hp(), hp);
  EXPECT_EQ(again->level(), level);
  EXPECT_EQ(kicked(ann), std::nullopt);
  EXPECT_FALSE(sink.closed(ann.session));
  EXPECT_EQ(count(receive(bob), MT::EnterZone), 2u);
  const auto saved = stored("ann");
  ASSERT_TRUE(saved.has_value());
  EXPECT_FLOAT_EQ(saved->record.pos.x, 25.0f) << "the handed-over state reached persistence";

  // And they play on in the new incarnation: moves, say, whispers across zones.
  receive(ann).clear();
  fx.advance(millis(1000));
  move(ann, {26, 20}, 20);
  tick();
  EXPECT_EQ(count(receive(ann), MT::MoveCorrection), 0u);
  chat(bob, wire::ChatChannel::Say, "you are back", 21);
  EXPECT_EQ(heard(ann, "you are back"), 1u);
  chat(cat, wire::ChatChannel::Whisper, "from the forest", 22, "ann");
  EXPECT_EQ(heard(ann, "from the forest"), 1u);
  EXPECT_EQ(last_enter(cat)->self_id(), forest_cat);
  expect_cat_unaffected();
}

TEST_F(zone_failure_fixture, a_zone_that_keeps_failing_is_given_up_and_its_players_are_kicked) {
  // Three restarts within 10 s are allowed; the fourth failure makes the supervisor give up.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(zone(1)) << "failure " << i;
    fail_zone(1);
    fx.advance(millis(100));
  }
  EXPECT_FALSE(zone(1)) << "given up: no zone/1 any more";
  fx.advance(millis(settings.zone_rejoin_wait_ms + 100));
  EXPECT_EQ(kicked(ann), wire::ErrorCode::ZoneUnavailable);
  EXPECT_EQ(kicked(bob), wire::ErrorCode::ZoneUnavailable);
  EXPECT_TRUE(sink.closed(ann.session));
  const auto saved = stored("ann");
  ASSERT_TRUE(saved.has_value());
  EXPECT_FLOAT_EQ(saved->record.pos.x, 25.0f) << "saved before the kick";
  expect_cat_unaffected();
  EXPECT_TRUE(zone(2)) << "the other zone's supervisor is untouched";
}

TEST_F(zone_failure_fixture, a_player_leaving_while_its_zone_restarts_is_saved_and_released) {
  fail_zone(1);  // ann is now waiting for the restart (or already back)
  logout(ann);
  fx.advance(millis(3000));
  const auto saved = stored("ann");
  ASSERT_TRUE(saved.has_value());
  EXPECT_FLOAT_EQ(saved->record.pos.x, 25.0f);
  // Released: she can log in again at once and is where she stood.
  client ann2 = connect();
  login(ann2, "ann");
  tick();
  const auto* z = last_enter(ann2);
  ASSERT_NE(z, nullptr);
  EXPECT_FLOAT_EQ(z->position()->x(), 25.0f);
  expect_cat_unaffected();
}

}  // namespace
}  // namespace quay::game::server
