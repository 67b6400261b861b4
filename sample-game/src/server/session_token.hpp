#pragma once
// Signed, expiring session tokens (libsodium crypto_auth: HMAC-SHA-512-256). A token names a
// character and an expiry time (wall clock, milliseconds since the Unix epoch, so any gateway
// of a cluster sharing the key accepts it without a shared session table) and carries the id
// of the key that signed it. Two keys are accepted at once (the current one signs; the previous
// one still verifies), so a key is rotated without logging everyone out. Every function is
// thread-safe and fast (one HMAC).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quay::game::server {

/// A 32-byte session key (crypto_auth_KEYBYTES).
using session_key = std::array<unsigned char, 32>;

/// The keys a server signs and verifies with.
struct session_keys {
  session_key current{};
  std::optional<session_key> previous;  ///< still accepted (rotation), never used to sign
  bool ready = false;                   ///< false: no key loaded (tokens are neither issued nor accepted)
};

/// Why a token was not accepted.
enum class token_status { ok, malformed, bad_signature, expired, wrong_character };

/// A token for `name_key` (the character's name key) valid until `expires_unix_ms`.
std::string issue_session_token(const session_keys& keys, std::uint64_t character_id,
                                std::string_view name_key, std::int64_t expires_unix_ms);

/// Checks a token for `name_key` at `now_unix_ms`; on ok sets `character_id`. The signature is
/// compared in constant time (crypto_auth_verify), against the current key then the previous.
token_status check_session_token(const session_keys& keys, std::string_view token,
                                 std::string_view name_key, std::int64_t now_unix_ms,
                                 std::uint64_t* character_id = nullptr);

/// A one-time resume token for `name_key`: the session token's format with version 2 and a
/// 64-bit `nonce` after the expiry (inside the MAC), so neither kind passes for the other. The
/// signature and expiry are checked by any gateway holding the key; that the nonce is the
/// current one (one-time use) is checked by the character's owner (the gateway that holds it).
std::string issue_resume_token(const session_keys& keys, std::uint64_t character_id,
                               std::string_view name_key, std::uint64_t nonce,
                               std::int64_t expires_unix_ms);

/// Checks a resume token's signature, character and expiry; on ok sets `character_id` and
/// `nonce`. Constant-time like check_session_token.
token_status check_resume_token(const session_keys& keys, std::string_view token,
                                std::string_view name_key, std::int64_t now_unix_ms,
                                std::uint64_t* character_id, std::uint64_t* nonce);

/// A random non-zero nonce for a resume token.
std::uint64_t random_resume_nonce();

/// A fresh random key.
session_key random_session_key();

/// Parses 64 hex digits. nullopt if it is not that.
std::optional<session_key> parse_session_key(std::string_view hex);

/// Reads the key file at `path` (64 hex digits), or, when it does not exist, creates it with a
/// random key and mode 0600. Returns an error message, empty on success.
std::string load_or_create_key_file(const std::string& path, session_key& out);

}  // namespace quay::game::server
