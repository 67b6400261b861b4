// The game protocol's decoding into the bot's tracked state: the entity model follows
// WorldUpdates, and track_entities(false) turns it off without losing the bot's own state.
#include "quay/bots/game_protocol.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../src/game_protocol.hpp"
#include "fake_env.hpp"
#include "quay/bots/bot.hpp"
#include "quay/bots/run_stats.hpp"
#include "quay/net/envelope.hpp"
#include "quay/schemas/message_ids_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::bots {
namespace {

namespace wire = quay::game::wire;
using namespace std::chrono_literals;

net::frame wrap(wire::MessageType type, flatbuffers::FlatBufferBuilder& fbb) {
  return net::encode_envelope(static_cast<std::uint16_t>(type), 0,
                              std::as_bytes(std::span(fbb.GetBufferPointer(), fbb.GetSize())));
}

// EnterZone: this bot is entity 1 at (10, 10) of a 100 x 100 zone.
net::frame enter_zone() {
  flatbuffers::FlatBufferBuilder fbb;
  const wire::Vec2 at(10, 10);
  wire::EnterZoneBuilder z(fbb);
  z.add_zone_id(1);
  z.add_width(100);
  z.add_height(100);
  z.add_self_id(1);
  z.add_position(&at);
  z.add_hp(50);
  z.add_max_hp(50);
  z.add_level(1);
  fbb.Finish(z.Finish());
  return wrap(wire::MessageType::EnterZone, fbb);
}

// A WorldUpdate: `enter` (if non-zero) appears at (1, 1); every id of `moved` is at (x, x).
net::frame world_update(std::uint32_t enter, const std::vector<std::uint32_t>& moved, float x) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<wire::EntitySnapshot>> enters;
  if (enter != 0) {
    const wire::Vec2 at(1, 1);
    enters.push_back(wire::CreateEntitySnapshot(fbb, enter, wire::EntityKind::Player,
                                                fbb.CreateString("other"), &at, 40, 40, 2));
  }
  std::vector<wire::EntityState> updates;
  for (const auto id : moved) updates.emplace_back(id, wire::Vec2(x, x), 40, 50, 1);
  fbb.Finish(wire::CreateWorldUpdateDirect(fbb, 1, 0, &enters, nullptr, &updates));
  return wrap(wire::MessageType::WorldUpdate, fbb);
}

struct harness {
  explicit harness(std::string source) : src("test.lua", std::move(source)) {
    b = std::make_unique<bot>(src, bot_options{}, env, make_game_protocol(stats));
    env.b = b.get();
  }
  const detail::game_protocol& proto() {
    return *static_cast<const detail::game_protocol*>(b->protocol());
  }
  run_stats stats;
  script src;
  testing::fake_env env;
  std::unique_ptr<bot> b;
};

TEST(GameProtocol, WorldUpdatesBuildTheModelOfTheEntitiesInView) {
  harness h(R"lua(
    sleep(100)
    local e = entity(7)
    expect(e and e.x == 3 and e.y == 3 and e.name == "other", "entity 7 tracked at (3, 3)")
    expect(find_entity("other").id == 7, "found by name")
    expect(me_state().x == 5, "own position from the update, got %s", tostring(me_state().x))
  )lua");
  h.b->start();
  h.b->on_message(enter_zone());
  h.b->on_message(world_update(7, {}, 0));
  h.b->on_message(world_update(0, {1}, 5));
  h.b->on_message(world_update(0, {7}, 3));
  EXPECT_EQ(h.proto().entities.size(), 1u);
  h.env.advance(100ms);
  ASSERT_TRUE(h.env.result);
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(GameProtocol, WithTrackingOffNoModelIsKeptReadingItFailsAndOwnStateStillFollows) {
  harness h(R"lua(
    track_entities(false)
    ignore("entity_enter", "entity_leave", "world_update")
    sleep(100)
    expect(me_state().x == 5, "own position from the update, got %s", tostring(me_state().x))
    local ok, err = pcall(entities)
    expect(not ok and tostring(err):find("not tracked"), "entities() refused: %s", tostring(err))
    ok = pcall(entity, 7)
    expect(not ok, "entity() refused")
  )lua");
  h.b->start();
  h.b->on_message(enter_zone());
  h.b->on_message(world_update(7, {}, 0));
  h.b->on_message(world_update(0, {1, 7}, 5));
  EXPECT_TRUE(h.proto().entities.empty());
  h.env.advance(100ms);
  ASSERT_TRUE(h.env.result);
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

TEST(GameProtocol, MeGetReturnsTheNamedFieldsOfMeStateAndRefusesUnknownOnes) {
  harness h(R"lua(
    sleep(100)
    local s = me_state()
    local x, y, hp, name, in_zone = me_get("x", "y", "hp", "name", "in_zone")
    expect(x == 5 and x == s.x and y == s.y, "position %s,%s vs %s,%s", x, y, s.x, s.y)
    expect(hp == s.hp and name == s.name and in_zone == true, "hp %s name %s", hp, name)
    expect(select("#", me_get()) == 0, "no names, no values")
    local ok, err = pcall(me_get, "x", "hpp")
    expect(not ok and tostring(err):find("no field 'hpp'"), "unknown field refused: %s", tostring(err))
  )lua");
  h.b->start();
  h.b->on_message(enter_zone());
  h.b->on_message(world_update(0, {1}, 5));
  h.env.advance(100ms);
  ASSERT_TRUE(h.env.result);
  EXPECT_TRUE(h.env.result->ok) << h.env.result->message;
}

}  // namespace
}  // namespace quay::bots
