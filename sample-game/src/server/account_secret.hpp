#pragma once
// Account secrets: argon2id hashes (libsodium crypto_pwhash) and constant-time comparisons.
// A stored secret is the encoded crypto_pwhash_str form ("$argon2id$v=19$m=...,t=...,p=1$salt$
// hash"): it carries its own random salt and the parameters it was made with, so parameters
// can change in the configuration and old hashes still verify (and are rehashed at the next
// successful login). Every function here may be slow on purpose (hashing); the server calls
// them only on the blocking pool, never on a worker. All of them are thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace quay::game::server {

/// Argon2id cost: passes over memory and memory in bytes (crypto_pwhash opslimit/memlimit).
struct hash_params {
  std::uint64_t ops_limit = 2;             ///< crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t mem_limit = 64u << 20;       ///< crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB)
  /// The cheapest parameters libsodium accepts (tests and load benchmarks only).
  static hash_params minimum();
  /// Clamps both values into libsodium's accepted range.
  hash_params clamped() const;
};

/// Initialises libsodium (idempotent, thread-safe). False: it cannot run here.
bool sodium_ready();

/// The encoded argon2id hash of `secret` with a fresh random salt. Empty when hashing failed
/// (out of memory for `mem_limit`).
std::string hash_secret(std::string_view secret, hash_params p);

/// True when `stored` is an encoded argon2id hash (not a legacy plain token).
bool is_hashed_secret(std::string_view stored);

/// True when `secret` matches the encoded hash (libsodium compares in constant time).
bool verify_secret(std::string_view encoded, std::string_view secret);

/// True when the encoded hash was made with other parameters than `p` (rehash it).
bool needs_rehash(std::string_view encoded, hash_params p);

/// Constant-time equality of two secrets of any lengths: both are reduced to fixed-size
/// BLAKE2b digests first, so neither the position of the first difference nor the lengths show
/// in the time taken.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace quay::game::server
