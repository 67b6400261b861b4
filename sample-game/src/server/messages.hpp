#pragma once
// Messages between the zone server's actors, and the context they share.
//
// Actors: one gateway (login, who is online, the character store, whisper routing), one per
// zone (owns a zone_world, ticks at a fixed rate), one per player session. Frames to clients
// go straight from the actor that produced them to the session through a frame_sink
// (net::network in the server, a recorder in tests): a zone encodes each AOI batch once and
// sends the same frame to every observer.

#include <cstdint>
#include <string>
#include <system_error>

#include <spdlog/spdlog.h>

#include "quay/actors/actor_ref.hpp"
#include "quay/game/zone_world.hpp"
#include "quay/net/frame.hpp"
#include "quay/net/session.hpp"

namespace quay::game::server {

/// Where frames to clients go. Thread-safe: every actor calls it from its own turns.
class frame_sink {
public:
  virtual ~frame_sink() = default;
  /// Queues a frame on a session (shared, not copied). Thread-safe.
  virtual void send(net::session_handle s, net::frame f) = 0;
  /// Closes a session gracefully after what is queued. Thread-safe.
  virtual void close(net::session_handle s, std::error_code reason) = 0;
};

/// Settings every actor reads; immutable once the server runs, so sharing it is safe.
struct server_settings {
  world_rules rules;
  std::uint16_t tick_rate = 10;        ///< zone ticks per second
  bool dev_accounts = true;            ///< unknown names create accounts on first login
  std::size_t max_players = 10'000;
  std::uint32_t stats_interval_s = 10; ///< how often zones log CCU and tick percentiles
};

/// What the actors share. Thread contract: every member is thread-safe or immutable.
struct server_context {
  frame_sink* sink = nullptr;
  /// The server's log (console + rotating file in the program); null: quay::log "game".
  spdlog::logger* log = nullptr;
  const server_settings* settings = nullptr;
  actor_ref gateway;
};

/// The registry name of zone `id`'s actor.
inline std::string zone_actor_name(std::uint32_t id) { return "zone/" + std::to_string(id); }

// ---- player -> gateway -------------------------------------------------------------------
struct login_msg {
  actor_ref player;
  net::session_handle session;
  std::string name;
  std::string token;
  std::uint32_t seq = 0;
};
/// The player's session ended (or it was kicked); sent once, before it stops.
struct player_offline_msg {
  actor_ref player;
  std::string name;
};
/// A whisper to route by name.
struct whisper_msg {
  actor_ref from_player;
  net::session_handle from_session;
  entity_id from_id = no_entity;
  std::string from_name;
  std::string to;
  std::string text;
  std::uint32_t seq = 0;
};
/// Begin shutdown: kick everyone with ServerShuttingDown (external sender).
struct shutdown_msg {};

// ---- gateway -> player -------------------------------------------------------------------
struct login_granted_msg {
  player_record record;
  actor_ref zone;
  std::uint32_t seq = 0;
};
struct login_denied_msg {
  game_errc reason = game_errc::invalid_credentials;
  std::uint32_t seq = 0;
};
/// Tells a player to send Kicked and close (duplicate login, shutdown).
struct kick_msg {
  game_errc reason = game_errc::replaced_by_new_login;
};

// ---- player <-> zone ---------------------------------------------------------------------
struct zone_join_msg {
  actor_ref player;
  net::session_handle session;
  player_record record;
  std::string spawn;  ///< non-empty: place at this spawn point (portal arrival)
};
struct zone_joined_msg {
  actor_ref zone;
  entity_id id = no_entity;
};
struct zone_move_msg {
  entity_id id = no_entity;
  vec2 pos;
  std::uint32_t seq = 0;
};
struct zone_attack_msg {
  entity_id id = no_entity;
  entity_id target = no_entity;
  std::uint32_t seq = 0;
};
struct zone_portal_msg {
  entity_id id = no_entity;
  std::uint32_t seq = 0;
};
/// Say (channel 0) or zone-wide (channel 1) chat, already checked by the player actor.
struct zone_chat_msg {
  entity_id id = no_entity;
  std::uint8_t channel = 0;
  std::string text;
};
/// The player leaves (logout, disconnect, kick): the zone saves its record via the gateway.
struct zone_leave_msg {
  entity_id id = no_entity;
};

// ---- zone -> gateway ---------------------------------------------------------------------
/// A character's latest state, to store (on leave, and periodically).
struct save_msg {
  player_record record;
  bool final = false;  ///< the character left the world (logout): the gateway may release it
};

// ---- timers ------------------------------------------------------------------------------
struct tick_msg {};
struct stats_msg {};

}  // namespace quay::game::server
