// Account secrets (see account_secret.hpp).
#include "account_secret.hpp"

#include <sodium.h>

#include <algorithm>

namespace quay::game::server {

hash_params hash_params::minimum() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

hash_params hash_params::clamped() const {
  hash_params p = *this;
  p.ops_limit = std::clamp<std::uint64_t>(p.ops_limit, crypto_pwhash_OPSLIMIT_MIN,
                                          crypto_pwhash_OPSLIMIT_MAX);
  p.mem_limit = std::clamp<std::size_t>(p.mem_limit, crypto_pwhash_MEMLIMIT_MIN,
                                        std::min<std::size_t>(crypto_pwhash_MEMLIMIT_MAX,
                                                              std::size_t{1} << 32));
  return p;
}

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::string hash_secret(std::string_view secret, hash_params p) {
  if (!sodium_ready()) {
    return {};
  }
  p = p.clamped();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, secret.data(), secret.size(), p.ops_limit, p.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return {};
  }
  return out;
}

bool is_hashed_secret(std::string_view stored) {
  return stored.starts_with(crypto_pwhash_argon2id_STRPREFIX);
}

bool verify_secret(std::string_view encoded, std::string_view secret) {
  if (!sodium_ready() || !is_hashed_secret(encoded) || encoded.size() >= crypto_pwhash_STRBYTES) {
    return false;
  }
  // crypto_pwhash_str_verify wants a NUL-terminated string.
  char str[crypto_pwhash_STRBYTES] = {};
  std::copy(encoded.begin(), encoded.end(), str);
  return crypto_pwhash_str_verify(str, secret.data(), secret.size()) == 0;
}

bool needs_rehash(std::string_view encoded, hash_params p) {
  if (!sodium_ready() || encoded.size() >= crypto_pwhash_STRBYTES) {
    return true;
  }
  p = p.clamped();
  char str[crypto_pwhash_STRBYTES] = {};
  std::copy(encoded.begin(), encoded.end(), str);
  return crypto_pwhash_str_needs_rehash(str, p.ops_limit, p.mem_limit) != 0;
}

bool secrets_equal(std::string_view a, std::string_view b) {
  if (!sodium_ready()) {
    return false;
  }
  unsigned char da[crypto_generichash_BYTES];
  unsigned char db[crypto_generichash_BYTES];
  crypto_generichash(da, sizeof da, reinterpret_cast<const unsigned char*>(a.data()), a.size(),
                     nullptr, 0);
  crypto_generichash(db, sizeof db, reinterpret_cast<const unsigned char*>(b.data()), b.size(),
                     nullptr, 0);
  return sodium_memcmp(da, db, sizeof da) == 0;
}

}  // namespace quay::game::server
