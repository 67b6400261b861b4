// Game message encoding: frames decode as valid envelopes whose payloads verify and carry the
// world's state.
#include "quay/game/codec.hpp"

#include <gtest/gtest.h>

#include "quay/net/envelope.hpp"
#include "quay/schemas/error_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::game {
namespace {

zone_definition small_zone() {
  auto r = parse_zone(R"(
id = 3
name = "Small"
width = 100
height = 100
cell_size = 10
[[spawn]]
name = "s"
x = 50
y = 50
[[portal]]
name = "p"
x = 90
y = 90
target_zone = 4
target_spawn = "x"
)",
                      "small.toml");
  EXPECT_TRUE(r.zone);
  return *r.zone;
}

template <class T>
const T* open(const net::frame& f, wire::MessageType type, net::envelope_view& env) {
  EXPECT_TRUE(f);
  EXPECT_FALSE(net::decode_envelope(f.payload(), env));
  EXPECT_EQ(env.type, type_id(type));
  const auto* buf = reinterpret_cast<const std::uint8_t*>(env.payload.data());
  flatbuffers::Verifier v(buf, env.payload.size());
  EXPECT_TRUE(v.VerifyBuffer<T>(nullptr));
  return flatbuffers::GetRoot<T>(buf);
}

TEST(codec, a_world_update_carries_the_batch_with_full_snapshots_for_enters) {
  zone_world world(small_zone(), {}, 1, 0);
  player_record a;
  a.name = "ann";
  const entity_id ann = world.add_player(a, 0);
  player_record b;
  b.name = "bob";
  b.pos = {52, 50};
  b.has_pos = true;
  const entity_id bob = world.add_player(b, 0);
  const auto& out = world.tick(100);
  ASSERT_FALSE(out.view.personal.empty());
  const aoi_batch* for_ann = nullptr;
  for (const auto& p : out.view.personal) {
    if (p.observer == ann) {
      for_ann = &p.batch;
    }
  }
  ASSERT_NE(for_ann, nullptr);
  flatbuffers::FlatBufferBuilder fbb;
  const net::frame f = encode_world_update(fbb, world, *for_ann, 7, 100);
  net::envelope_view env;
  const auto* u = open<wire::WorldUpdate>(f, wire::MessageType::WorldUpdate, env);
  EXPECT_EQ(u->tick(), 7u);
  ASSERT_EQ(u->enters()->size(), 1u);
  const auto* e = u->enters()->Get(0);
  EXPECT_EQ(e->id(), bob);
  EXPECT_EQ(e->name()->str(), "bob");
  EXPECT_EQ(e->kind(), wire::EntityKind::Player);
  EXPECT_FLOAT_EQ(e->position()->x(), 52.0f);
  EXPECT_EQ(e->hp(), player_stats(1).max_hp);

  EXPECT_FALSE(world.submit_move(bob, {52.5f, 50}, 200).needs_correction());
  const auto& next = world.tick(200);
  ASSERT_EQ(next.view.shared.size(), 1u);
  const net::frame g = encode_world_update(fbb, world, next.view.shared[0].batch, 8, 200);
  const auto* u2 = open<wire::WorldUpdate>(g, wire::MessageType::WorldUpdate, env);
  ASSERT_EQ(u2->updates()->size(), 1u);
  EXPECT_EQ(u2->updates()->Get(0)->id(), bob);
  EXPECT_FLOAT_EQ(u2->updates()->Get(0)->position().x(), 52.5f);
}

TEST(codec, enter_zone_describes_the_zone_and_the_player) {
  zone_world world(small_zone(), {}, 1, 0);
  player_record a;
  a.name = "ann";
  a.level = 3;
  a.xp = 42;
  const entity_id ann = world.add_player(a, 0);
  flatbuffers::FlatBufferBuilder fbb;
  net::envelope_view env;
  // The frame owns the bytes the table points into: keep it alive while reading.
  const net::frame f = encode_enter_zone(fbb, world, ann, world_rules{});
  const auto* z = open<wire::EnterZone>(f, wire::MessageType::EnterZone, env);
  EXPECT_EQ(z->zone_id(), 3u);
  EXPECT_EQ(z->zone_name()->str(), "Small");
  EXPECT_EQ(z->self_id(), ann);
  EXPECT_EQ(z->level(), 3);
  EXPECT_EQ(z->xp(), 42);
  EXPECT_EQ(z->xp_to_next(), xp_to_next_level(3));
  ASSERT_EQ(z->portals()->size(), 1u);
  EXPECT_EQ(z->portals()->Get(0)->target_zone(), 4u);
  EXPECT_FLOAT_EQ(z->position()->x(), 50.0f);
}

TEST(codec, errors_keep_the_request_seq_and_the_codes_match_the_schema) {
  flatbuffers::FlatBufferBuilder fbb;
  net::envelope_view env;
  const net::frame f =
      encode_error(fbb, 41, type_id(wire::MessageType::Attack), game_errc::on_cooldown, "wait");
  const auto* e = open<wire::Error>(f, wire::MessageType::Error, env);
  EXPECT_EQ(env.seq, 41u);
  EXPECT_EQ(e->code(), wire::ErrorCode::OnCooldown);
  EXPECT_EQ(e->request_type(), type_id(wire::MessageType::Attack));
  // Every game error has the same number and a matching name in the schema.
  for (int code = 0; code <= 60; ++code) {
    const auto name = to_string(static_cast<game_errc>(code));
    if (name == "unknown_error") {
      continue;
    }
    std::string camel;
    bool up = true;
    for (const char c : name) {
      if (c == '_') {
        up = true;
      } else {
        camel += up ? static_cast<char>(c - 'a' + 'A') : c;
        up = false;
      }
    }
    EXPECT_EQ(camel, wire::EnumNameErrorCode(static_cast<wire::ErrorCode>(code))) << code;
  }
}

TEST(codec, a_move_correction_carries_position_verdict_and_the_moves_seq) {
  flatbuffers::FlatBufferBuilder fbb;
  net::envelope_view env;
  const net::frame f = encode_move_correction(fbb, 9, {{3, 4}, move_verdict::teleport});
  const auto* c = open<wire::MoveCorrection>(f, wire::MessageType::MoveCorrection, env);
  EXPECT_EQ(env.seq, 9u);
  EXPECT_EQ(c->verdict(), wire::MoveVerdict::Teleport);
  EXPECT_FLOAT_EQ(c->position()->y(), 4.0f);
}

}  // namespace
}  // namespace quay::game
