#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace quay::net::ws {

/// Bounds on an upgrade request. A request over either bound is refused with 431 before
/// the parser buffers more of it.
struct handshake_limits {
  std::size_t max_header_bytes = 8 * 1024;  ///< request line + headers + the blank line
  std::size_t max_headers = 32;             ///< header fields
};

/// Why an upgrade request was refused; each maps to one HTTP status (http_status()).
enum class handshake_error : std::uint8_t {
  none = 0,
  malformed,                  ///< 400: not parseable as HTTP/1.x (libhttp-parser's verdict)
  not_get,                    ///< 405: the method is not GET
  not_http11,                 ///< 505: the version is not HTTP/1.1
  has_body,                   ///< 400: Content-Length or Transfer-Encoding on an upgrade
  missing_host,               ///< 400: no Host header (RFC 6455 4.1)
  not_websocket_upgrade,      ///< 426: no `Upgrade: websocket`, or Connection lacks `Upgrade`
  unsupported_version,        ///< 426: Sec-WebSocket-Version is not 13 (answered with 13)
  bad_key,                    ///< 400: Sec-WebSocket-Key missing, repeated or not base64 of 16 bytes
  headers_too_large,          ///< 431: over handshake_limits::max_header_bytes
  too_many_headers,           ///< 431: over handshake_limits::max_headers
};

/// A short English reason for logs and for the refusal's body. Thread-safe (pure).
std::string_view describe(handshake_error e) noexcept;
/// The HTTP status a refusal is answered with (101 for none). Thread-safe (pure).
int http_status(handshake_error e) noexcept;

/// What handshake::feed() found.
enum class handshake_status : std::uint8_t {
  need_more,  ///< the headers are not complete yet
  accepted,   ///< a valid upgrade: send response(), then the stream is WebSocket frames
  refused,    ///< send response() (an HTTP error), then close the connection; sticky
};

/// True when `key` is a valid Sec-WebSocket-Key: the canonical base64 of exactly 16 bytes
/// (24 characters, the last two `=`). Thread-safe (pure).
bool valid_key(std::string_view key) noexcept;
/// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + RFC 6455's GUID)), using libcrypto.
/// Thread-safe (pure).
std::string accept_key(std::string_view key);

/// The server side of the RFC 6455 opening handshake, parsed with libhttp-parser.
///
/// A pure core: no I/O, no clock. The owner feeds received bytes until the status is not
/// need_more, sends response() and then, if accepted, hands the bytes after the request (a
/// client may send frames right behind it) to a ws::connection. A request that never ends is
/// bounded in bytes here; in time by the owner's handshake deadline (the core reads no clock).
///
/// Thread contract: owner only (no internal synchronisation).
class handshake {
 public:
  explicit handshake(handshake_limits limits = {});
  handshake(handshake&&) noexcept;
  handshake& operator=(handshake&&) noexcept;
  ~handshake();

  /// Parses the next bytes. `consumed` is set to how many of them belong to the request:
  /// on accepted, `bytes.subspan(consumed)` are the first WebSocket bytes. Once accepted or
  /// refused, further calls change nothing and consume nothing.
  handshake_status feed(std::span<const std::byte> bytes, std::size_t& consumed);

  handshake_status status() const noexcept;
  handshake_error error() const noexcept;
  /// The bytes to send: `101 Switching Protocols` with Sec-WebSocket-Accept when accepted, an
  /// HTTP error with `Connection: close` (and `Sec-WebSocket-Version: 13` for 426) when
  /// refused, empty while need_more.
  std::string response() const;

  /// The request target (e.g. `/play`), the Origin header (empty if none) and the Host
  /// header, for the owner's policy. Valid once accepted (or plain_get()).
  std::string_view target() const noexcept;
  std::string_view origin() const noexcept;
  std::string_view host() const noexcept;
  /// Authorization and Accept as sent (empty if none). Valid once accepted or refused.
  std::string_view authorization() const noexcept;
  std::string_view accept() const noexcept;
  /// True when the request was refused only for not asking to upgrade: a valid HTTP/1.1 GET
  /// with a Host and no Upgrade header (a browser fetching a page). target() and the headers
  /// above are then valid, for an HTTP answer instead of the refusal.
  bool plain_get() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace quay::net::ws
