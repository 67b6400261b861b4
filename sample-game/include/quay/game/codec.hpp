#pragma once
// Encoding of the game's server-to-client messages (schemas/*.fbs) into frames ready for
// net::network::send. Each function builds one flatbuffer and wraps it in the envelope; a
// WorldUpdate is encoded once per AOI batch and the same frames go to every observer of it.
//
// Thread contract: the functions are pure apart from the scratch builder, which belongs to the
// caller (one per actor).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "quay/game/zone_world.hpp"
#include "quay/net/frame.hpp"
#include "quay/schemas/message_ids_generated.h"

namespace quay::game {

/// Envelope type id of a message type.
inline constexpr std::uint16_t type_id(wire::MessageType t) {
  return static_cast<std::uint16_t>(t);
}

/// The protocol version the server speaks (schemas/login.fbs ProtocolVersion::Current).
inline constexpr std::uint16_t protocol_version = 1;

/// Payload bytes a WorldUpdate frame stays under: the protocol's receivers take frames up to
/// 64 KiB (docs/protocol.md), and the envelope and the estimate's slack fit in the rest.
inline constexpr std::size_t world_update_budget = 48 * 1024;

/// One tick's batch for its observers, appended to `out` as WorldUpdate frames of the same
/// tick: one frame, unless the batch would pass `budget` payload bytes (a newcomer's first view
/// of a crowded zone holds every entity near it), then as many as it takes, each under it.
/// Every entity id of the batch is in exactly one of the frames.
void encode_world_update(flatbuffers::FlatBufferBuilder& fbb, const zone_world& world,
                         const aoi_batch& batch, std::uint32_t tick, time_ms now,
                         std::vector<net::frame>& out, std::size_t budget = world_update_budget);

/// The zone a player just entered, with its own state.
net::frame encode_enter_zone(flatbuffers::FlatBufferBuilder& fbb, const zone_world& world,
                             entity_id self, const world_rules& rules);

/// A refused request (seq and type of the request).
net::frame encode_error(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                        std::uint16_t request_type, game_errc code, std::string_view message);

/// The answer to a login (it always carries the server's protocol_version).
net::frame encode_login_result(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                               game_errc code, std::uint64_t character_id,
                               std::string_view name, time_ms server_time,
                               std::uint16_t tick_rate,
                               std::string_view session_token = {},
                               std::uint32_t session_token_ttl_s = 0,
                               std::string_view resume_token = {},
                               std::uint32_t resume_grace_s = 0, bool resumed = false);

/// The acknowledgement of a Logout (seq = the Logout's).
net::frame encode_logged_out(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq);

/// What ServerInfo reports (schemas/server_info.fbs).
struct server_info {
  std::vector<std::pair<std::uint32_t, std::string>> zones;  ///< id, name
  std::uint32_t start_zone = 1;
  std::uint16_t tick_rate = 10;
  std::uint32_t max_players = 0;
  double message_burst = 0;
  double messages_per_second = 0;
  std::uint32_t chat_max_bytes = 0;
  double chat_burst = 0;
  double chat_per_second = 0;
  std::uint32_t max_frame_size = 0;
};

/// The answer to a ServerInfoRequest (seq = the request's).
net::frame encode_server_info(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                              const server_info& info);

/// The last message before the server closes a session.
net::frame encode_kicked(flatbuffers::FlatBufferBuilder& fbb, game_errc reason,
                         std::string_view message);

/// The authoritative position after a corrected move.
net::frame encode_move_correction(flatbuffers::FlatBufferBuilder& fbb, std::uint32_t seq,
                                  const move_result& result);

/// Hits that concern one player and, when it came back to life in this tick, its own respawn:
/// `respawned` is then its id and `respawn_position` where it stands now.
net::frame encode_combat_events(flatbuffers::FlatBufferBuilder& fbb,
                                std::span<const combat_event> hits,
                                std::span<const entity_id> respawned,
                                std::optional<vec2> respawn_position);

/// Experience gained.
net::frame encode_progress(flatbuffers::FlatBufferBuilder& fbb, const progress_event& p,
                           std::int32_t max_hp);

/// A chat line as delivered.
net::frame encode_chat_message(flatbuffers::FlatBufferBuilder& fbb, std::uint8_t channel,
                               entity_id from_id, std::string_view from_name,
                               std::string_view text, std::string_view to);

}  // namespace quay::game
