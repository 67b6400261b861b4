// Session tokens (see session_token.hpp).
#include "session_token.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

#include "account_secret.hpp"

namespace quay::game::server {

namespace {

static_assert(crypto_auth_KEYBYTES == 32);
constexpr unsigned char token_version = 1;
constexpr unsigned char resume_version = 2;
// version, key id, character id, expiry, name length; then the name, then the MAC.
constexpr std::size_t header_size = 1 + 1 + 8 + 8 + 1;
constexpr auto b64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

unsigned char key_id(const session_key& k) {
  // A public hint of which key signed (a byte of the key's hash): verification tries that key
  // first, but both are tried, so a collision costs one more HMAC and nothing else.
  unsigned char h[crypto_generichash_BYTES_MIN];
  crypto_generichash(h, sizeof h, k.data(), k.size(), nullptr, 0);
  return h[0];
}

void put64(std::vector<unsigned char>& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out.push_back(static_cast<unsigned char>(v >> (8 * i)));
  }
}
std::uint64_t get64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

}  // namespace

namespace {

// One encoder and one checker for both kinds: version 1 (session) has no nonce, version 2
// (resume) carries 8 bytes of nonce after the expiry.
std::string issue_token(const session_keys& keys, unsigned char version,
                        std::uint64_t character_id, std::string_view name_key,
                        std::uint64_t nonce, std::int64_t expires_unix_ms) {
  if (!keys.ready || !sodium_ready() || name_key.size() > 255) {
    return {};
  }
  std::vector<unsigned char> b;
  b.push_back(version);
  b.push_back(key_id(keys.current));
  put64(b, character_id);
  put64(b, static_cast<std::uint64_t>(expires_unix_ms));
  if (version == resume_version) {
    put64(b, nonce);
  }
  b.push_back(static_cast<unsigned char>(name_key.size()));
  b.insert(b.end(), name_key.begin(), name_key.end());
  unsigned char mac[crypto_auth_BYTES];
  crypto_auth(mac, b.data(), b.size(), keys.current.data());
  b.insert(b.end(), mac, mac + sizeof mac);
  std::string out(sodium_base64_encoded_len(b.size(), b64), '\0');
  sodium_bin2base64(out.data(), out.size(), b.data(), b.size(), b64);
  out.resize(std::strlen(out.c_str()));
  return out;
}

token_status check_token(const session_keys& keys, unsigned char version, std::string_view token,
                         std::string_view name_key, std::int64_t now_unix_ms,
                         std::uint64_t* character_id, std::uint64_t* nonce) {
  if (!keys.ready || !sodium_ready() || token.empty() || token.size() > 512) {
    return token_status::malformed;
  }
  const std::size_t header = header_size + (version == resume_version ? 8 : 0);
  std::vector<unsigned char> b(token.size());
  std::size_t len = 0;
  if (sodium_base642bin(b.data(), b.size(), token.data(), token.size(), nullptr, &len, nullptr,
                        b64) != 0 ||
      len < header + crypto_auth_BYTES || b[0] != version) {
    return token_status::malformed;
  }
  b.resize(len);
  const std::size_t body = len - crypto_auth_BYTES;
  if (header + b[header - 1] != body) {
    return token_status::malformed;
  }
  const unsigned char* mac = b.data() + body;
  bool signed_ok = crypto_auth_verify(mac, b.data(), body, keys.current.data()) == 0;
  if (!signed_ok && keys.previous) {
    signed_ok = crypto_auth_verify(mac, b.data(), body, keys.previous->data()) == 0;
  }
  if (!signed_ok) {
    return token_status::bad_signature;
  }
  // Signed by us: the fields can be trusted from here on.
  const std::string_view name(reinterpret_cast<const char*>(b.data() + header), b[header - 1]);
  if (name != name_key) {
    return token_status::wrong_character;
  }
  if (static_cast<std::int64_t>(get64(b.data() + 10)) <= now_unix_ms) {
    return token_status::expired;
  }
  if (character_id != nullptr) {
    *character_id = get64(b.data() + 2);
  }
  if (nonce != nullptr && version == resume_version) {
    *nonce = get64(b.data() + 18);
  }
  return token_status::ok;
}

}  // namespace

std::string issue_session_token(const session_keys& keys, std::uint64_t character_id,
                                std::string_view name_key, std::int64_t expires_unix_ms) {
  return issue_token(keys, token_version, character_id, name_key, 0, expires_unix_ms);
}

token_status check_session_token(const session_keys& keys, std::string_view token,
                                 std::string_view name_key, std::int64_t now_unix_ms,
                                 std::uint64_t* character_id) {
  return check_token(keys, token_version, token, name_key, now_unix_ms, character_id, nullptr);
}

std::string issue_resume_token(const session_keys& keys, std::uint64_t character_id,
                               std::string_view name_key, std::uint64_t nonce,
                               std::int64_t expires_unix_ms) {
  return issue_token(keys, resume_version, character_id, name_key, nonce, expires_unix_ms);
}

token_status check_resume_token(const session_keys& keys, std::string_view token,
                                std::string_view name_key, std::int64_t now_unix_ms,
                                std::uint64_t* character_id, std::uint64_t* nonce) {
  return check_token(keys, resume_version, token, name_key, now_unix_ms, character_id, nonce);
}

std::uint64_t random_resume_nonce() {
  std::uint64_t n = 0;
  while (n == 0 && sodium_ready()) {
    randombytes_buf(&n, sizeof n);
  }
  return n;
}

session_key random_session_key() {
  session_key k{};
  if (sodium_ready()) {
    crypto_auth_keygen(k.data());
  }
  return k;
}

std::optional<session_key> parse_session_key(std::string_view hex) {
  session_key k{};
  std::size_t len = 0;
  if (hex.size() != 64 || !sodium_ready() ||
      sodium_hex2bin(k.data(), k.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != k.size()) {
    return std::nullopt;
  }
  return k;
}

std::string load_or_create_key_file(const std::string& path, session_key& out) {
  if (!sodium_ready()) {
    return "libsodium could not be initialised";
  }
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char hex[65] = {};
    const std::size_t n = std::fread(hex, 1, 64, f);
    std::fclose(f);
    const auto k = parse_session_key(std::string_view(hex, n));
    if (!k) {
      return path + ": not a session key (64 hex digits)";
    }
    out = *k;
    return {};
  }
  // O_EXCL: two servers starting at once on one data dir cannot both write a key.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return path + ": " + std::strerror(errno);
  }
  out = random_session_key();
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, out.data(), out.size());
  const bool ok = ::write(fd, hex, 64) == 64 && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? std::string() : path + ": could not write the key";
}

}  // namespace quay::game::server
