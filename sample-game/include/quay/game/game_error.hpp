#pragma once
// The game's error codes. The same numbers travel on the wire (schemas/error.fbs, ErrorCode)
// so a client can show what went wrong; docs/protocol.md lists them.

#include <cstdint>
#include <string_view>
#include <system_error>

namespace quay::game {

/// Why a request was refused. Values are stable: they are part of the protocol.
enum class game_errc : std::uint16_t {
  ok = 0,
  malformed_message = 1,     ///< the payload did not verify or a field was out of range
  unexpected_message = 2,    ///< valid message in the wrong session state (e.g. move before login)
  message_flood = 3,         ///< over the per-session message rate (Kicked, then closed)
  invalid_credentials = 10,  ///< unknown account or wrong token
  invalid_name = 11,         ///< name empty, too long or with characters outside [A-Za-z0-9_-]
  replaced_by_new_login = 12,///< a newer login of the same character took over this session
  server_full = 13,
  server_shutting_down = 14,
  unsupported_protocol_version = 15,  ///< LoginRequest.protocol_version is not the server's
  login_busy = 16,           ///< too many logins being verified at once: try again shortly
  account_disabled = 17,     ///< the right secret, but an operator disabled the account
  login_throttled = 18,      ///< the account or the address is in back-off after failed logins
  connection_rate_limited = 19,  ///< too many new connections from this address (Kicked)
  unknown_target = 20,       ///< no such entity in the zone
  out_of_range = 21,
  on_cooldown = 22,
  target_dead = 23,
  self_dead = 24,
  invalid_target = 25,       ///< e.g. attacking oneself
  chat_empty = 30,
  chat_too_long = 31,
  chat_rate_limited = 32,
  unknown_recipient = 33,    ///< whisper to a name that is not online
  not_on_portal = 40,
  unknown_zone = 41,
  zone_unavailable = 42,     ///< the player's zone failed and did not come back (Kicked)
  internal_error = 50,
  session_token_invalid = 60,  ///< forged, malformed, for another character, or an unknown key
  session_token_expired = 61,  ///< past its expiry: log in with the secret again
  resume_token_used = 62,      ///< a resume token presented again (it works once)
  resume_unavailable = 63,     ///< nothing to resume: the grace period ended, or it logged out
};

/// The category that names game errors ("quay.game").
const std::error_category& game_category() noexcept;

/// A short, stable, human-readable name for a code ("on_cooldown").
std::string_view to_string(game_errc e) noexcept;

/// Makes game_errc usable as std::error_code.
inline std::error_code make_error_code(game_errc e) noexcept {
  return {static_cast<int>(e), game_category()};
}

}  // namespace quay::game

template <>
struct std::is_error_code_enum<quay::game::game_errc> : std::true_type {};
