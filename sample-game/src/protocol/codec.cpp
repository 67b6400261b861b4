// Server-to-client message encoding (see codec.hpp).
#include "quay/game/codec.hpp"

#include <span>
#include <vector>

#include "quay/net/envelope.hpp"
#include "quay/schemas/chat_generated.h"
#include "quay/schemas/combat_generated.h"
#include "quay/schemas/error_generated.h"
#include "quay/schemas/login_generated.h"
#include "quay/schemas/movement_generated.h"
#include "quay/schemas/server_info_generated.h"
#include "quay/schemas/zone_generated.h"

namespace quay::game {

namespace {

net::frame seal(flatbuffers::FlatBufferBuilder& fbb, wire::MessageType type, std::uint32_t seq) {
  const auto* data = reinterpret_cast<const std::byte*>(fbb.GetBufferPointer());
  net::frame f = net::encode_envelope(type_id(type), seq, {data, fbb.GetSize()});
  fbb.Clear();
  return f;
}

wire::Vec2 to_wire(vec2 p) { return {p.x, p.y}; }

wire::ErrorCode to_wire(game_errc e) { return static_cast<wire::ErrorCode>(e); }

}  // namespace

namespace {

// Upper bounds of what one item adds to a WorldUpdate, in bytes: a leave is an id in a vector;
// an update is one EntityState struct; an enter is an EntitySnapshot table (vtable, fields,
// the offset to it) plus its name string (length, bytes, terminator, padding).
constexpr std::size_t leave_bytes = sizeof(entity_id);
constexpr std::size_t update_bytes = sizeof(wire::EntityState);
constexpr std::size_t enter_fixed_bytes = 64;
constexpr std::size_t frame_fixed_bytes = 128;  // the WorldUpdate table, vector headers

struct update_slice {
  std::span<const entity_id> enters;
  std::span<const entity_id> leaves;
  std::span<const entity_id> updates;
};

net::frame encode_slice(flatbuffers::FlatBufferBuilder& fbb, const zone_world& world,
                        const update_slice& slice, std::uint32_t tick, time_ms now) {
  fbb.Clear();
  std::vector<flatbuffers::Offset<wire::EntitySnapshot>> enters;
  enters.reserve(slice.enters.size());
  for (const entity_id id : slice.enters) {
    const auto v = world.view(id);
    if (!v) {
      continue;
    }
    const auto name = fbb.CreateString(*v->name);
    const wire::Vec2 pos = to_wire(v->pos);
    enters.push_back(wire::CreateEntitySnapshot(
        fbb, id, v->kind == entity_kind::npc ? wire::EntityKind::Npc : wire::EntityKind::Player,
        name, &pos, v->hp, v->max_hp, v->level));
  }
  const auto enters_vec = fbb.CreateVector(enters);
  const auto leaves_vec = fbb.CreateVector(slice.leaves.data(), slice.leaves.size());
  wire::EntityState* states = nullptr;
  const auto updates_vec = fbb.CreateUninitializedVectorOfStructs(slice.updates.size(), &states);
  std::size_t n = 0;
  for (const entity_id id : slice.updates) {
    const auto v = world.view(id);
    // Every id in a batch is present (the grid only reports present entities as enters and
    // updates); the guard keeps a stale id from writing garbage.
    states[n++] = v ? wire::EntityState(id, to_wire(v->pos), v->hp, v->max_hp, v->level)
                    : wire::EntityState(id, wire::Vec2(), 0, 0, 0);
  }
  fbb.Finish(wire::CreateWorldUpdate(fbb, tick, now, enters_vec, leaves_vec, updates_vec));
  return seal(fbb, wire::MessageType::WorldUpdate, 0);
}

}  // namespace

void encode_world_update(flatbuffers::FlatBufferBuilder& fbb, const zone_world& world,
                         const aoi_batch& batch, std::uint32_t tick, time_ms now,
                         std::vector<net::frame>& out, std::size_t budget) {
  // Greedy: leaves, then enters, then updates fill a frame until the next item could pass the
  // budget. One frame for any ordinary tick; a crowded first view is split.
  const std::size_t room = budget > frame_fixed_bytes ? budget - frame_fixed_bytes : 1;
  std::size_t l = 0, e = 0, u = 0;
  while (true) {
    update_slice slice;
    std::size_t used = 0;
    const std::size_t l0 = l;
    while (l < batch.leaves.size() && (used + leave_bytes <= room || l == l0)) {
      used += leave_bytes;
      ++l;
    }
    const std::size_t e0 = e;
    while (e < batch.enters.size()) {
      const auto v = world.view(batch.enters[e]);
      const std::size_t cost = enter_fixed_bytes + (v ? v->name->size() : 0);
      if (used + cost > room && (e > e0 || l > l0)) {
        break;
      }
      used += cost;
      ++e;
    }
    const std::size_t u0 = u;
    while (u < batch.updates.size() &&
           (used + update_bytes <= room || (u == u0 && e == e0 && l == l0))) {
      used += update_bytes;
      ++u;
    }
    slice.leaves = std::span<const entity_id>(batch.leaves).subspan(l0, l - l0);
    slice.enters = std::span<const entity_id>(batch.enters).subspan(e0, e - e0);
    slice.updates = std::span<const entity_id>(batch.updates).subspan(u0, u - u0);
    out.push_back(encode_slice(fbb, world, slice, tick, now));
    if (l == batch.leaves.size() && e == batch.enters.size() && u == batch.updates.size()) {
      return;
    }
  }
}

net::frame encode_enter_zone(flatbuffers::FlatBufferBuilder& fbb, const zone_world& world,
                             entity_id self, const world_rules& rules) {
  fbb.Clear();
  const zone_definition& z = world.definition();
  std::vector<flatbuffers::Offset<wire::PortalInfo>> portals;
  for (const portal& p : z.portals) {
    const wire::Vec2 pos = to_wire(p.pos);
    portals.push_back(
        wire::CreatePortalInfo(fbb, fbb.CreateString(p.name), &pos, p.radius, p.target_zone));
  }
  const auto portals_vec = fbb.CreateVector(portals);
  const auto name = fbb.CreateString(z.name);
  const auto v = world.view(self);
  const auto record = world.record_of(self);
  const wire::Vec2 pos = to_wire(v ? v->pos : vec2{});
  const std::int32_t level = v ? v->level : 1;
  fbb.Finish(wire::CreateEnterZone(
      fbb, z.id, name, z.bounds.width, z.bounds.height, z.cell_size, rules.aoi_radius_cells,
      self, &pos, v ? v->hp : 0, v ? v->max_hp : 0, level, record ? record->xp : 0,
      xp_to_next_level(level), portals_vec, rules.movement.max_speed));
  return seal(fbb, wire::MessageType::EnterZone, 0);
}

net::frame encode_error(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                        std::uint16_t request_type, game_errc code, std::string_view message) {
  fbb.Clear();
  const auto text = fbb.CreateString(message.data(), message.size());
  fbb.Finish(wire::CreateError(fbb, to_wire(code), request_type, text));
  return seal(fbb, wire::MessageType::Error, seq);
}

net::frame encode_login_result(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                               game_errc code, std::uint64_t character_id,
                               std::string_view name, time_ms server_time,
                               std::uint16_t tick_rate, std::string_view session_token,
                               std::uint32_t session_token_ttl_s,
                               std::string_view resume_token, std::uint32_t resume_grace_s,
                               bool resumed) {
  fbb.Clear();
  const auto n = fbb.CreateString(name.data(), name.size());
  const auto str = [&](std::string_view v) {
    return v.empty() ? flatbuffers::Offset<flatbuffers::String>()
                     : fbb.CreateString(v.data(), v.size());
  };
  const auto t = str(session_token);
  const auto r = str(resume_token);
  fbb.Finish(wire::CreateLoginResult(fbb, to_wire(code), character_id, n, server_time, tick_rate,
                                     protocol_version, t, session_token_ttl_s, r,
                                     resume_token.empty() ? 0 : resume_grace_s, resumed));
  return seal(fbb, wire::MessageType::LoginResult, seq);
}

static_assert(protocol_version == static_cast<std::uint16_t>(wire::ProtocolVersion::Current));

net::frame encode_logged_out(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq) {
  fbb.Clear();
  fbb.Finish(wire::CreateLoggedOut(fbb));
  return seal(fbb, wire::MessageType::LoggedOut, seq);
}

net::frame encode_server_info(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                              const server_info& info) {
  fbb.Clear();
  std::vector<flatbuffers::Offset<wire::ZoneSummary>> zones;
  for (const auto& [id, name] : info.zones) {
    zones.push_back(wire::CreateZoneSummaryDirect(fbb, id, name.c_str()));
  }
  const auto version = fbb.CreateString("quay-zone-server " QUAY_GAME_VERSION);
  const auto zv = fbb.CreateVector(zones);
  fbb.Finish(wire::CreateServerInfo(
      fbb, protocol_version, version, zv, info.start_zone, info.tick_rate, info.max_players,
      static_cast<float>(info.message_burst), static_cast<float>(info.messages_per_second),
      info.chat_max_bytes, static_cast<float>(info.chat_burst),
      static_cast<float>(info.chat_per_second), info.max_frame_size));
  return seal(fbb, wire::MessageType::ServerInfo, seq);
}

net::frame encode_kicked(flatbuffers::FlatBufferBuilder& fbb, game_errc reason,
                         std::string_view message) {
  fbb.Clear();
  const auto text = fbb.CreateString(message.data(), message.size());
  fbb.Finish(wire::CreateKicked(fbb, to_wire(reason), text));
  return seal(fbb, wire::MessageType::Kicked, 0);
}

net::frame encode_move_correction(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                                  const move_result& result) {
  fbb.Clear();
  const wire::Vec2 pos = to_wire(result.pos);
  fbb.Finish(wire::CreateMoveCorrection(fbb, &pos,
                                        static_cast<wire::MoveVerdict>(result.verdict)));
  return seal(fbb, wire::MessageType::MoveCorrection, seq);
}

net::frame encode_combat_events(flatbuffers::FlatBufferBuilder& fbb,
                                std::span<const combat_event> hits,
                                std::span<const entity_id> respawned,
                                std::optional<vec2> respawn_position) {
  fbb.Clear();
  std::vector<wire::Hit> wire_hits;
  wire_hits.reserve(hits.size());
  for (const combat_event& h : hits) {
    wire_hits.emplace_back(h.attacker, h.target, h.damage, h.killed);
  }
  const auto hits_vec = fbb.CreateVectorOfStructs(wire_hits);
  const auto respawned_vec = fbb.CreateVector(respawned.data(), respawned.size());
  const wire::Vec2 at = to_wire(respawn_position.value_or(vec2{}));
  fbb.Finish(wire::CreateCombatEvents(fbb, hits_vec, respawned_vec,
                                      respawn_position ? &at : nullptr));
  return seal(fbb, wire::MessageType::CombatEvents, 0);
}

net::frame encode_progress(flatbuffers::FlatBufferBuilder& fbb, const progress_event& p,
                           std::int32_t max_hp) {
  fbb.Clear();
  fbb.Finish(wire::CreateProgress(fbb, p.xp_gained, p.xp, xp_to_next_level(p.level), p.level,
                                  p.levels_gained, max_hp));
  return seal(fbb, wire::MessageType::Progress, 0);
}

net::frame encode_chat_message(flatbuffers::FlatBufferBuilder& fbb, std::uint8_t channel,
                               entity_id from_id, std::string_view from_name,
                               std::string_view text, std::string_view to) {
  fbb.Clear();
  const auto from = fbb.CreateString(from_name.data(), from_name.size());
  const auto body = fbb.CreateString(text.data(), text.size());
  const auto recipient = fbb.CreateString(to.data(), to.size());
  fbb.Finish(wire::CreateChatMessage(fbb, static_cast<wire::ChatChannel>(channel), from_id, from,
                                     body, recipient));
  return seal(fbb, wire::MessageType::ChatMessage, 0);
}

}  // namespace quay::game
