#include "handshake.hpp"

#include <http_parser.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace quay::net::ws {

namespace {

constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// True when the comma-separated token list `list` holds `token` (case-insensitive): the
// Connection header is a list (`keep-alive, Upgrade` from Firefox).
bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int base64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The headers the handshake reads; every other header is counted and skipped.
enum class field : std::uint8_t { other, host, upgrade, connection, key, version, origin,
                                  content_length, transfer_encoding, authorization, accept };

field classify(std::string_view name) noexcept {
  static constexpr std::pair<std::string_view, field> known[] = {
      {"host", field::host},
      {"upgrade", field::upgrade},
      {"connection", field::connection},
      {"sec-websocket-key", field::key},
      {"sec-websocket-version", field::version},
      {"origin", field::origin},
      {"content-length", field::content_length},
      {"transfer-encoding", field::transfer_encoding},
      {"authorization", field::authorization},
      {"accept", field::accept},
  };
  for (const auto& [n, f] : known)
    if (iequals(name, n)) return f;
  return field::other;
}

}  // namespace

std::string_view describe(handshake_error e) noexcept {
  switch (e) {
    case handshake_error::none: return "accepted";
    case handshake_error::malformed: return "the request is not valid HTTP/1.1";
    case handshake_error::not_get: return "the method is not GET";
    case handshake_error::not_http11: return "the HTTP version is not 1.1";
    case handshake_error::has_body: return "an upgrade request has no body";
    case handshake_error::missing_host: return "the Host header is missing";
    case handshake_error::not_websocket_upgrade:
      return "not a WebSocket upgrade (Upgrade: websocket and Connection: Upgrade)";
    case handshake_error::unsupported_version: return "Sec-WebSocket-Version must be 13";
    case handshake_error::bad_key: return "Sec-WebSocket-Key must be the base64 of 16 bytes, once";
    case handshake_error::headers_too_large: return "the request headers are too large";
    case handshake_error::too_many_headers: return "the request has too many headers";
  }
  return "unknown";
}

int http_status(handshake_error e) noexcept {
  switch (e) {
    case handshake_error::none: return 101;
    case handshake_error::not_get: return 405;
    case handshake_error::not_http11: return 505;
    case handshake_error::not_websocket_upgrade:
    case handshake_error::unsupported_version: return 426;
    case handshake_error::headers_too_large:
    case handshake_error::too_many_headers: return 431;
    case handshake_error::malformed:
    case handshake_error::has_body:
    case handshake_error::missing_host:
    case handshake_error::bad_key: return 400;
  }
  return 400;
}

bool valid_key(std::string_view key) noexcept {
  // base64 of 16 bytes: 21 full sextets + one carrying the last 2 bits (its low 4 bits zero
  // in the canonical form), then "==".
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i)
    if (base64_value(key[i]) < 0) return false;
  return (base64_value(key[21]) & 0x0f) == 0;
}

std::string accept_key(std::string_view key) {
  std::string input;
  input.reserve(key.size() + guid.size());
  input.append(key).append(guid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &digest_len, EVP_sha1(), nullptr);
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> out{};
  const int n = EVP_EncodeBlock(out.data(), digest.data(), static_cast<int>(digest_len));
  return std::string(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
}

struct handshake::state {
  handshake_limits limits;
  http_parser parser{};
  http_parser_settings settings{};
  handshake_status status = handshake_status::need_more;
  handshake_error error = handshake_error::none;
  std::size_t header_bytes = 0;
  std::size_t headers = 0;
  bool in_value = false;  // the last callback was on_header_value: a field name starts anew
  bool headers_complete = false;
  field current = field::other;
  std::string name;  // the field name being received (names may arrive in pieces)
  std::string target, host, upgrade, connection, key, version, origin, authorization, accept;
  int keys = 0;
  bool body = false;

  explicit state(handshake_limits l) : limits(l) {
    http_parser_init(&parser, HTTP_REQUEST);
    parser.data = this;
    http_parser_settings_init(&settings);
    settings.on_url = [](http_parser* p, const char* at, std::size_t n) {
      self(p).target.append(at, n);
      return 0;
    };
    settings.on_header_field = [](http_parser* p, const char* at, std::size_t n) {
      auto& s = self(p);
      if (s.in_value || s.headers == 0) {
        s.in_value = false;
        s.name.clear();
        if (++s.headers > s.limits.max_headers) {
          s.error = handshake_error::too_many_headers;
          return 1;
        }
      }
      s.name.append(at, n);
      return 0;
    };
    settings.on_header_value = [](http_parser* p, const char* at, std::size_t n) {
      auto& s = self(p);
      if (!s.in_value) {
        s.in_value = true;
        s.current = classify(s.name);
        if (s.current == field::key) ++s.keys;
        // A repeated list header is the same as one joined with commas (RFC 9110 5.3).
        std::string* v = s.value_of(s.current);
        if (v != nullptr && !v->empty()) v->append(",");
        if (s.current == field::content_length || s.current == field::transfer_encoding) s.body = true;
      }
      if (std::string* v = s.value_of(s.current)) v->append(at, n);
      return 0;
    };
    settings.on_headers_complete = [](http_parser* p) {
      auto& s = self(p);
      s.headers_complete = true;
      s.error = s.validate();
      // Stop here whatever follows: the rest is WebSocket frames, not HTTP.
      http_parser_pause(p, 1);
      return 0;
    };
  }

  static state& self(http_parser* p) { return *static_cast<state*>(p->data); }

  std::string* value_of(field f) noexcept {
    switch (f) {
      case field::host: return &host;
      case field::upgrade: return &upgrade;
      case field::connection: return &connection;
      case field::key: return &key;
      case field::version: return &version;
      case field::origin: return &origin;
      case field::authorization: return &authorization;
      case field::accept: return &accept;
      default: return nullptr;
    }
  }

  handshake_error validate() const {
    if (parser.method != HTTP_GET) return handshake_error::not_get;
    if (parser.http_major != 1 || parser.http_minor != 1) return handshake_error::not_http11;
    if (body) return handshake_error::has_body;
    if (trim(host).empty()) return handshake_error::missing_host;
    if (!has_token(upgrade, "websocket") || !has_token(connection, "upgrade"))
      return handshake_error::not_websocket_upgrade;
    if (trim(version) != "13") return handshake_error::unsupported_version;
    if (keys != 1 || !valid_key(trim(key))) return handshake_error::bad_key;
    return handshake_error::none;
  }

  void refuse(handshake_error e) {
    error = e;
    status = handshake_status::refused;
  }
};

handshake::handshake(handshake_limits limits) : s_(std::make_unique<state>(limits)) {}
handshake::handshake(handshake&&) noexcept = default;
handshake& handshake::operator=(handshake&&) noexcept = default;
handshake::~handshake() = default;

handshake_status handshake::feed(std::span<const std::byte> bytes, std::size_t& consumed) {
  consumed = 0;
  state& s = *s_;
  if (s.status != handshake_status::need_more) return s.status;
  // Give the parser at most one byte past the budget, so an oversized request is found
  // without parsing (or buffering) the rest of it.
  const std::size_t budget = s.limits.max_header_bytes - std::min(s.header_bytes, s.limits.max_header_bytes);
  const std::size_t n = std::min(bytes.size(), budget + 1);
  const std::size_t parsed =
      http_parser_execute(&s.parser, &s.settings, reinterpret_cast<const char*>(bytes.data()), n);
  const auto err = HTTP_PARSER_ERRNO(&s.parser);
  if (s.headers_complete) {
    // Paused in on_headers_complete: libhttp-parser returns the offset of the byte it was on,
    // the LF that ends the blank line, which belongs to the request too.
    consumed = parsed < n && bytes[parsed] == std::byte{'\n'} ? parsed + 1 : parsed;
    s.header_bytes += consumed;
    if (s.header_bytes > s.limits.max_header_bytes) {
      s.refuse(handshake_error::headers_too_large);
    } else if (s.error != handshake_error::none) {
      s.refuse(s.error);
    } else {
      s.status = handshake_status::accepted;
    }
    return s.status;
  }
  consumed = parsed;
  s.header_bytes += parsed;
  if (s.error == handshake_error::too_many_headers) {
    s.refuse(s.error);
  } else if (err != HPE_OK) {
    s.refuse(err == HPE_HEADER_OVERFLOW ? handshake_error::headers_too_large : handshake_error::malformed);
  } else if (s.header_bytes > s.limits.max_header_bytes) {
    s.refuse(handshake_error::headers_too_large);
  }
  return s.status;
}

handshake_status handshake::status() const noexcept { return s_->status; }
handshake_error handshake::error() const noexcept { return s_->error; }
std::string_view handshake::target() const noexcept { return s_->target; }
std::string_view handshake::origin() const noexcept { return trim(s_->origin); }
std::string_view handshake::host() const noexcept { return trim(s_->host); }
std::string_view handshake::authorization() const noexcept { return trim(s_->authorization); }
std::string_view handshake::accept() const noexcept { return trim(s_->accept); }
bool handshake::plain_get() const noexcept {
  const state& s = *s_;
  return s.status == handshake_status::refused && s.error == handshake_error::not_websocket_upgrade &&
         trim(s.upgrade).empty();
}

std::string handshake::response() const {
  const state& s = *s_;
  if (s.status == handshake_status::need_more) return {};
  if (s.status == handshake_status::accepted) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + accept_key(trim(s.key)) + "\r\n\r\n";
  }
  const int code = http_status(s.error);
  const char* phrase = code == 405   ? "Method Not Allowed"
                       : code == 426 ? "Upgrade Required"
                       : code == 431 ? "Request Header Fields Too Large"
                       : code == 505 ? "HTTP Version Not Supported"
                                     : "Bad Request";
  const std::string body = std::string(describe(s.error)) + "\n";
  std::string r = "HTTP/1.1 " + std::to_string(code) + " " + phrase + "\r\n";
  if (code == 426) r += "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
  r += "Connection: close\r\nContent-Type: text/plain\r\nContent-Length: " +
       std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

}  // namespace quay::net::ws
