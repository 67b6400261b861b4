#pragma once

// The game protocol's state for one bot: what the client knows of itself and of the entities in
// view, kept up to date from every message (so scripts can ask "where is bob" at any time), and
// the requests in flight whose replies feed the statistics.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <flatbuffers/flatbuffers.h>
#include <lua.hpp>

#include "quay/actors/wire.hpp"
#include "quay/bots/game_protocol.hpp"

namespace quay::bots::detail {

struct entity_info {
  std::uint32_t id = 0;
  bool npc = false;
  std::string name;
  float x = 0;
  float y = 0;
  std::int32_t hp = 0;
  std::int32_t max_hp = 0;
  std::int32_t level = 0;
};

struct portal_info {
  std::string name;
  float x = 0;
  float y = 0;
  float radius = 0;
  std::uint32_t target_zone = 0;
};

struct self_info {
  bool in_zone = false;
  std::string name;
  std::uint64_t character_id = 0;
  std::uint32_t id = 0;
  std::uint32_t zone = 0;
  std::string zone_name;
  float width = 0;
  float height = 0;
  float cell_size = 0;
  std::int32_t aoi_radius = 0;
  float max_speed = 7;
  float x = 0;
  float y = 0;
  std::int32_t hp = 0;
  std::int32_t max_hp = 0;
  std::int32_t level = 0;
  std::int64_t xp = 0;
  std::int64_t xp_to_next = 0;
  std::vector<portal_info> portals;
  /// The last position the server itself stated for this player (EnterZone, MoveCorrection,
  /// a WorldUpdate that includes it, a respawn) and when it arrived: unlike x/y, never a
  /// client-side prediction.
  float ack_x = 0;
  float ack_y = 0;
  port_time ack_at{};
  bool acked = false;

  /// Records x/y, just set from a server message, as acknowledged at `at`.
  void acknowledge(port_time at) {
    ack_x = x;
    ack_y = y;
    ack_at = at;
    acked = true;
  }
};

class game_protocol final : public bot_protocol {
 public:
  explicit game_protocol(run_stats& s) : stats(s) {}

  void install(lua_State* L) override;                         // game_api.cpp
  void on_message(bot& b, const net::frame& message) override;  // game_decode.cpp
  void on_closed(bot& b) override;

  /// Encodes and sends one message; returns its seq (0 when it could not be sent).
  std::uint32_t send(bot& b, std::uint16_t type, const std::uint8_t* payload, std::size_t size);
  /// Encodes a client message by its wire form (quay/game/client_messages.hpp) and sends it;
  /// returns its seq (0 when it could not be sent).
  template <wire_message M>
  std::uint32_t send(bot& b, const M& m) {
    const auto bytes = wire::encode(fbb, m);
    const auto seq = send(b, wire_form<M>::id, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                          bytes.size());
    fbb.Clear();
    return seq;
  }

  run_stats& stats;
  flatbuffers::FlatBufferBuilder fbb{256};
  std::uint32_t next_seq = 1;
  self_info me;
  std::unordered_map<std::uint32_t, entity_info> entities;
  /// False after the script's track_entities(false): the map above stays empty and entities(),
  /// entity(), find_entity() raise an error. A load script that never looks at the others
  /// saves the bots a hash-map write per entity per update (N x view size per tick).
  bool track_entities = true;
  /// The events of the message being decoded; kept between messages for its capacity.
  std::vector<event> scratch;
  // ping() requests in flight: seq -> sent at (bot_env::precise_now()).
  std::vector<std::pair<std::uint32_t, std::chrono::microseconds>> pings;
  std::uint32_t login_seq = 0;
  // The resume token of the latest LoginResult{Ok} (empty: none), for resume().
  std::string resume_token;
  port_time login_sent{};
  // Server clock minus ours, estimated at login (half the login round trip assumed one way).
  bool have_offset = false;
  std::int64_t offset_ms = 0;
};

/// "OnCooldown" -> "on_cooldown".
std::string snake(const char* camel);

// Field setters for the table on top of the Lua stack (events, me_state(), entity()).
inline void set_int(lua_State* L, const char* k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}
inline void set_num(lua_State* L, const char* k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}
inline void set_str(lua_State* L, const char* k, std::string_view v) {
  lua_pushlstring(L, v.data(), v.size());
  lua_setfield(L, -2, k);
}

}  // namespace quay::bots::detail
