#pragma once
// Messages between the zone server's actors, and the context they share.
//
// Actors: one gateway (login, who is online, duplicate logins, shutdown), one persistence
// actor (the characters and their store: loads, ordered write batches on the blocking pool,
// retries), one chat actor (chat limits, whisper by name, relaying say/zone to the zone), one
// per zone (owns a zone_world, ticks at a fixed rate; each under its own supervisor), one per
// player session. Frames to clients go straight from the actor that produced them to the
// session through a net::session over the frame_sink (net::network in the server, a recorder
// in tests): a zone
// encodes each AOI batch once and sends the same frame to every observer.
//
// Ordering across actors: mailboxes are linearizable at the push (actors/src/mailbox_queue.hpp),
// so when A sends m1 to C and then (causally) B sends m2 to C, C handles m1 first. The release
// of a character (zone -> persistence -> gateway -> persistence) relies on it only through
// one actor's own program order: persistence stores the final record before it tells the
// gateway, so the gateway's next load sees it.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "account_secret.hpp"
#include "character_store.hpp"
#include "session_token.hpp"
#include "quay/actors/actor_ref.hpp"
#include "quay/game/login_limits.hpp"
#include "quay/game/rate_limit.hpp"
#include "quay/game/zone_world.hpp"
#include "quay/net/frame.hpp"
#include "quay/net/session.hpp"
#include "quay/net/session_ref.hpp"

namespace quay::game::server {

/// Where frames to clients go: the network in the server, a recorder in tests. Thread-safe:
/// every actor sends through it (as a net::session) from its own turns.
using frame_sink = net::session_port;

/// Settings every actor reads; immutable once the server runs, so sharing it is safe.
struct server_settings {
  world_rules rules;
  std::uint16_t tick_rate = 10;        ///< zone ticks per second
  /// Development mode: an unknown name creates its account at its first login. Off by default;
  /// the demo, scenarios, soak and benchmarks turn it on (--dev-accounts).
  bool dev_accounts = false;
  /// Argon2id cost of account secrets (account_secret.hpp); verification runs on the blocking
  /// pool, at most max_login_jobs at a time (queued or running), so a login flood leaves the
  /// pool to saves. Logins past that wait in the gateway, in arrival order, up to
  /// max_login_queue; only logins past both bounds are refused with LoginBusy.
  hash_params hash;
  std::size_t max_login_jobs = 4;
  std::size_t max_login_queue = 1024;
  /// Session token keys (session_token.hpp) and how long a token stays valid.
  session_keys session;
  std::uint32_t session_token_ttl_s = 3600;
  /// How long a character whose connection dropped stays in the world, standing still, for a
  /// resume (LoginRequest.resume_token); then it is saved and removed as at a logout. 0: no
  /// resume (a dropped connection logs out at once).
  std::uint32_t resume_grace_s = 20;
  /// The outer bound of a resume token's signed expiry (the grace period is enforced by the
  /// gateway holding the character; this only bounds a token that leaked long ago).
  std::uint32_t resume_token_ttl_s = 86'400;
  /// Back-off after failed logins (per account, per address) and connections per address.
  login_limit_rules login_limits;
  std::size_t max_players = 10'000;
  /// Connections beyond max_players that may be open at once (logging in, or waiting to be
  /// told the server is full). Over max_players + connection_slack a new connection gets
  /// Kicked{ServerFull} and is closed; over twice the slack the listener closes it bare.
  std::size_t connection_slack = 64;
  std::uint32_t stats_interval_s = 10; ///< how often zones log CCU and tick percentiles
  /// How often each zone saves everyone in it: a crash loses at most this much play.
  std::uint32_t save_interval_s = 30;
  /// Client messages per session: over this bucket the session is kicked (MessageFlood).
  rate_rule messages{100.0, 50.0};
  /// Well-formed messages in the wrong state (UnexpectedMessage) a session may send: over
  /// this bucket it is kicked with UnexpectedMessage.
  rate_rule unexpected{20.0, 0.5};
  /// First delay before a failed database write is retried; doubles up to save_retry_max_ms.
  std::uint32_t save_retry_ms = 100;
  std::uint32_t save_retry_max_ms = 5000;
  /// How long a player whose zone failed waits for the zone's restart before it is kicked.
  std::uint32_t zone_rejoin_wait_ms = 2000;
  /// The zones the server hosts (id, name) and where new characters start, for ServerInfo.
  std::vector<std::pair<std::uint32_t, std::string>> zones;
  std::uint32_t start_zone = 1;
  /// The largest frame payload sessions accept (net::session_options::max_frame_size).
  std::uint32_t max_frame_size = 64 * 1024;
};

/// What the actors share. Thread contract: every member is thread-safe or immutable.
struct server_context {
  frame_sink* sink = nullptr;
  /// Session `h` as a value to send and close through (no session without a sink).
  net::session session(net::session_handle h) const noexcept {
    return sink != nullptr ? net::session(*sink, h) : net::session();
  }
  /// The server's log (console + rotating file in the program); null: quay::log "game".
  spdlog::logger* log = nullptr;
  const server_settings* settings = nullptr;
  actor_ref gateway;
  actor_ref persistence;
  actor_ref chat;
  /// Player sessions open (each player actor counts itself from construction to destruction);
  /// null: not counted (tests on the fixture).
  std::atomic<std::size_t>* connections = nullptr;
  /// New connections per source address (thread-safe); null: not limited.
  connection_limiter* connection_rate = nullptr;
  /// The operators' figures (thread-safe); null: not recorded (tests on the fixture).
  class server_metrics* metrics = nullptr;
  /// The game port serves more than Quay over TCP (WebSocket, HTTP): a connection refused at
  /// start (ServerFull, ConnectionRateLimited) is told when it first speaks, since its framing
  /// is known only then. False: told at once (TCP only, the deterministic fixture).
  bool defer_refusals = false;
  /// The web client's files, served on the game port (null: none). Read-only once running.
  const class static_files* web = nullptr;
};

/// The key a character name is known by: names are unique regardless of case ("Ann" and "ANN"
/// are one character, shown as it was created). Names are ASCII ([A-Za-z0-9_-]), so folding
/// ASCII letters is the whole rule.
inline std::string name_key(std::string_view name) {
  std::string k(name);
  for (char& c : k) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return k;
}

/// The registry name of zone `id`'s actor.
inline std::string zone_actor_name(std::uint32_t id) { return "zone/" + std::to_string(id); }

// ---- player -> gateway -------------------------------------------------------------------
struct login_msg {
  actor_ref player;
  net::session_handle session;
  std::string name;
  std::string token;
  std::uint32_t seq = 0;
  std::string address;  ///< the client's source address (no port); empty: unknown
  std::string session_token;  ///< LoginRequest.session_token: replaces the secret when set
  std::string resume_token;   ///< LoginRequest.resume_token: a resume when set
  /// A resume that goes on as a login (its holder left first): the nonce of the resume token
  /// its LoginResult already carried, kept so that token stays the one that works.
  std::uint64_t resume_nonce = 0;
};
/// The player's session dropped while it was playing: the character stays in its zone for the
/// grace period, held by this (parked) player actor, waiting for a resume.
struct player_parked_msg {
  actor_ref player;
  std::string name;
};
/// The player's session ended (or it was kicked); sent once, before it stops, at any point of
/// its login: the gateway forgets a login still in progress for it.
struct player_offline_msg {
  actor_ref player;
  std::string name;
  /// A zone may hold the character (the player sent it a join): its final save releases the
  /// name. False: no zone ever will, so the name is free at once.
  bool joined = false;
};
/// Begin shutdown: kick everyone with ServerShuttingDown (external sender).
struct shutdown_msg {};

// ---- gateway -> player -------------------------------------------------------------------
struct login_granted_msg {
  player_record record;
  actor_ref zone;
  std::uint32_t seq = 0;
  std::string session_token;  ///< for LoginResult (empty: no key configured)
  std::string resume_token;   ///< for LoginResult (empty: no key, or no grace period)
};
/// A resume was accepted: the new player actor answers LoginResult{Ok, resumed} and asks the
/// player actor holding the character (`from`) to hand it over.
struct resume_granted_msg {
  std::uint32_t seq = 0;
  std::uint64_t character_id = 0;
  std::string name;
  actor_ref from;
  std::string session_token;
  std::string resume_token;
};
/// Player -> player holding the character: hand it (and its zone membership) over to
/// `player`, whose client is on `session`.
struct hand_over_msg {
  actor_ref player;
  net::session_handle session;
};
struct login_denied_msg {
  game_errc reason = game_errc::invalid_credentials;
  std::uint32_t seq = 0;
};
/// Tells a player to send Kicked and close (duplicate login, shutdown).
struct kick_msg {
  game_errc reason = game_errc::replaced_by_new_login;
};

// ---- gateway/zone/player -> persistence ------------------------------------------------
struct load_character_reply;
/// Asks for a character by name; creates it (with `secret`, an encoded argon2id hash, in
/// `start_zone`) when unknown and `create` is set. The gateway verifies the secret.
struct load_character_msg {
  using reply_type = load_character_reply;
  std::string name;
  std::string secret;
  bool create = false;
  std::uint32_t start_zone = 1;
};
struct load_character_reply {
  bool found = false;    ///< false: unknown and not created
  bool created = false;  ///< it did not exist and was created by this request
  stored_character character;
};
/// A character's latest state, to store (on leave, periodically, when its zone fails).
struct save_msg {
  player_record record;
  bool final = false;     ///< the character left the world
  actor_ref release_to;   ///< final: told (character_released_msg) once the record is stored
};

/// A new hash for a character's secret (a legacy plain token or old parameters rehashed after
/// a successful login): stored, and the plain token cleared.
struct set_secret_msg {
  std::string name;
  std::string secret;
};

// ---- persistence -> gateway --------------------------------------------------------------
/// The character's final state is stored (in memory, and queued for the database): a new
/// login of it may go ahead.
struct character_released_msg {
  std::string name;
};

// ---- player -> chat ----------------------------------------------------------------------
/// The player is in the world under `name` (sent when it enters its first zone).
struct chat_join_msg {
  std::string name;
  actor_ref player;
  net::session_handle session;
};
/// The player left the world (ignored unless `player` is the one registered under `name`).
struct chat_leave_msg {
  std::string name;
  actor_ref player;
};
/// A ChatSend, unchecked: the chat actor applies the rules and the rate limit.
struct chat_send_msg {
  std::string name;
  net::session_handle session;
  actor_ref zone;           ///< the sender's zone (say and zone channels)
  entity_id id = no_entity; ///< the sender's entity in that zone
  std::uint8_t channel = 0;
  std::string text;
  std::string to;
  std::uint32_t seq = 0;
  actor_ref player;         ///< the sender's player actor (a line its zone bounces goes back)
};

// ---- player <-> zone ---------------------------------------------------------------------
struct zone_join_msg {
  actor_ref player;
  net::session_handle session;
  player_record record;
  std::string spawn;  ///< non-empty: place at this spawn point (portal arrival)
};
/// The character of player `from` now belongs to `to` (a resume): the zone answers `to` with
/// zone_joined_msg (and the client with EnterZone and a full view) and `from` with
/// zone_rebound_msg. Ignored when `from` is not a member (a transfer is on its way: `from`
/// asks the next zone when that one's zone_joined_msg arrives).
struct zone_rebind_msg {
  actor_ref from;
  actor_ref to;
  net::session_handle session;
};
struct zone_rebound_msg {
  actor_ref zone;
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
  actor_ref player;  ///< the sender's player actor
};
/// A say/zone line whose sender was no longer in the zone when it arrived (it stepped through
/// a portal in the same write): back to the player, which relays it in its new zone. Its rate
/// budget is already spent.
struct chat_bounced_msg {
  actor_ref zone;           ///< the zone that bounced it
  entity_id id = no_entity; ///< the entity it named there
  std::uint8_t channel = 0;
  std::string text;
};
/// The player leaves (logout, disconnect, kick): the zone saves its record via persistence.
struct zone_leave_msg {
  entity_id id = no_entity;
};
/// The zone stopped abnormally (a handler threw, or its supervisor gave up): here is the
/// player's last state, already sent to persistence. The player re-enters the zone's restarted
/// incarnation, or is kicked (ZoneUnavailable) if it does not come back in time.
struct zone_lost_msg {
  actor_ref zone;
  player_record record;
};
/// Fault injection (tests, chaos runs): the zone's handler throws `what`. No client can send
/// it; it exists to prove that a failing zone is restarted and harms no other zone.
struct zone_fault_msg {
  std::string what;
};

// ---- operator -> zone ---------------------------------------------------------------------
/// An admin map view of the zone starts (subscribe) or ends: the zone sends a ZoneMap frame of
/// every entity to `session` a few times a second until it ends (or the session is gone).
struct map_subscribe_msg {
  net::session_handle session;
  bool subscribe = true;
  frame_sink* sink = nullptr;  ///< the operator listener's network (not the game port's)
};

// ---- timers ------------------------------------------------------------------------------
struct tick_msg {};
struct stats_msg {};
/// A zone's periodic save of everyone in it (every save_interval_s).
struct save_all_msg {};

}  // namespace quay::game::server
