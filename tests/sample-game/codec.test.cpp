// Game message encoding: frames decode as valid envelopes whose payloads verify and carry the
// world's state.
#include "quay/game/codec.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

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
  std::vector<net::frame> frames;
  encode_world_update(fbb, world, *for_ann, 7, 100, frames);
  ASSERT_EQ(frames.size(), 1u);
  const net::frame f = frames[0];
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
  frames.clear();
  encode_world_update(fbb, world, next.view.shared[0].batch, 8, 200, frames);
  ASSERT_EQ(frames.size(), 1u);
  const net::frame g = frames[0];
  const auto* u2 = open<wire::WorldUpdate>(g, wire::MessageType::WorldUpdate, env);
  ASSERT_EQ(u2->updates()->size(), 1u);
  EXPECT_EQ(u2->updates()->Get(0)->id(), bob);
  EXPECT_FLOAT_EQ(u2->updates()->Get(0)->position().x(), 52.5f);
}

// A newcomer in a crowded zone sees everyone at once: one batch of thousands of enters, more
// than a client's 64 KiB frame limit in one WorldUpdate. It is split into several frames of the
// same tick, each under the limit, with every entity in exactly one of them.
TEST(codec, a_crowded_first_view_is_split_into_frames_under_the_clients_limit) {
  zone_world world(small_zone(), {}, 1, 0);
  constexpr int crowd = 3000;
  for (int i = 0; i < crowd; ++i) {
    player_record r;
    r.name = "walker_with_a_long_name_" + std::to_string(i);
    r.pos = {40.0f + static_cast<float>(i % 20), 40.0f + static_cast<float>(i / 200)};
    r.has_pos = true;
    world.add_player(r, 0);
  }
  (void)world.tick(100);
  player_record n;
  n.name = "newcomer";
  const entity_id newcomer = world.add_player(n, 100);
  const auto& out = world.tick(200);
  const aoi_batch* first_view = nullptr;
  for (const auto& p : out.view.personal) {
    if (p.observer == newcomer) first_view = &p.batch;
  }
  ASSERT_NE(first_view, nullptr);
  ASSERT_GE(first_view->enters.size(), static_cast<std::size_t>(crowd));

  flatbuffers::FlatBufferBuilder fbb;
  std::vector<net::frame> frames;
  encode_world_update(fbb, world, *first_view, 9, 200, frames);
  ASSERT_GT(frames.size(), 1u) << "3,000 snapshots do not fit one 64 KiB frame";
  std::map<entity_id, int> seen;
  for (const net::frame& f : frames) {
    EXPECT_LE(f.wire_size(), std::size_t{64 * 1024}) << "over the clients' max frame size";
    net::envelope_view env;
    const auto* u = open<wire::WorldUpdate>(f, wire::MessageType::WorldUpdate, env);
    EXPECT_EQ(u->tick(), 9u);
    for (const auto* e : *u->enters()) ++seen[e->id()];
  }
  EXPECT_EQ(seen.size(), first_view->enters.size());
  for (const entity_id id : first_view->enters) EXPECT_EQ(seen[id], 1) << "entity " << id;
}

// Leaves, enters and updates together, with a small budget: every id lands in exactly one
// frame, in its own list, and no frame is empty.
TEST(codec, a_split_world_update_keeps_every_id_once_in_its_own_list) {
  zone_world world(small_zone(), {}, 1, 0);
  std::vector<entity_id> ids;
  for (int i = 0; i < 60; ++i) {
    player_record r;
    r.name = std::string("p").append(std::to_string(i));
    r.pos = {50.0f, 50.0f};
    r.has_pos = true;
    ids.push_back(world.add_player(r, 0));
  }
  aoi_batch batch;
  batch.leaves = {100001, 100002, 100003, 100004, 100005};
  batch.enters.assign(ids.begin(), ids.begin() + 20);
  batch.updates.assign(ids.begin() + 20, ids.end());
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<net::frame> frames;
  encode_world_update(fbb, world, batch, 3, 50, frames, 600);
  ASSERT_GT(frames.size(), 2u);
  std::map<entity_id, std::string> where;
  for (const net::frame& f : frames) {
    net::envelope_view env;
    const auto* u = open<wire::WorldUpdate>(f, wire::MessageType::WorldUpdate, env);
    const std::size_t items = u->enters()->size() + u->leaves()->size() + u->updates()->size();
    EXPECT_GT(items, 0u);
    for (const auto id : *u->leaves()) EXPECT_TRUE(where.emplace(id, "leave").second);
    for (const auto* e : *u->enters()) EXPECT_TRUE(where.emplace(e->id(), "enter").second);
    for (const auto* s2 : *u->updates()) EXPECT_TRUE(where.emplace(s2->id(), "update").second);
  }
  for (const entity_id id : batch.leaves) EXPECT_EQ(where[id], "leave");
  for (const entity_id id : batch.enters) EXPECT_EQ(where[id], "enter");
  for (const entity_id id : batch.updates) EXPECT_EQ(where[id], "update");
  EXPECT_EQ(where.size(), batch.leaves.size() + batch.enters.size() + batch.updates.size());
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
