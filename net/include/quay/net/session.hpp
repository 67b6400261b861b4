#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <system_error>

#include "quay/net/envelope.hpp"
#include "quay/net/frame.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::net {

namespace detail {
class stream_layer;
}

/// Makes a session's transport layer (TLS: net/src/stream_layer.hpp), once per session, on the
/// worker that starts it. An extension point for net's own layers and tests, not for games.
using stream_layer_factory = std::function<std::unique_ptr<detail::stream_layer>()>;

/// Names one session: a slot and a generation, like an actor_ref. A handle whose session has
/// ended is stale: operations on it fail with errc::session_gone, and it never names a later
/// session that reuses the slot. A value; pass it freely between threads.
struct session_handle {
  std::uint32_t slot = 0;
  /// 0 is the null handle; live generations start at 1.
  std::uint32_t generation = 0;
  explicit operator bool() const noexcept { return generation != 0; }
  friend bool operator==(const session_handle&, const session_handle&) = default;
};

/// Limits and timers of one session, fixed when it starts.
struct session_options {
  /// Largest frame payload accepted, in bytes (clamped to [1, frame_size_cap]). A header
  /// announcing more closes the session (frame_too_large) before anything is allocated.
  std::size_t max_frame_size = 64 * 1024;
  /// Unsent bytes allowed in the send queue; a send past it closes the session (slow_reader).
  std::size_t send_high_water = 1024 * 1024;
  /// Nothing received for this long closes the session (idle_timeout). 0 disables.
  std::chrono::milliseconds idle_timeout{30'000};
  /// Nothing received for this long sends a ping (the peer answers with a pong, which counts as
  /// received). 0 disables. Should be below idle_timeout.
  std::chrono::milliseconds heartbeat_interval{10'000};
  /// A graceful close that cannot flush within this time becomes a hard close.
  std::chrono::milliseconds close_linger{5'000};
  /// Receive backpressure: reading stops while the owner actor's mailbox holds more than
  /// `mailbox_high_water` messages, and resumes when it is down to `mailbox_low_water`.
  std::uint64_t mailbox_high_water = 1024;
  std::uint64_t mailbox_low_water = 256;
  /// TCP_NODELAY (on: frames are small and latency matters).
  bool no_delay = true;
  /// A transport layer between the socket and the framing (TLS), or empty for plain TCP.
  stream_layer_factory layer;
};

// The messages a session's owner actor receives. Each carries the session's handle.

/// The session is open: accepted by a listener, or connected by network::connect.
struct session_accepted {
  session_handle session;
  endpoint peer;
};

/// One verified frame. `envelope` has been verified as an Envelope; its payload points into
/// `data`, which keeps the bytes alive (so copies of this message stay valid). Verify and
/// dispatch the payload with a dispatcher. `data` can be sent back or to other sessions as is.
struct session_frame {
  session_handle session;
  envelope_view envelope;
  frame data;
};

/// The session has ended; `reason` says why (a net::errc, or a runtime code such as
/// quay::errc::connection_reset). The last message about this session.
struct session_closed {
  session_handle session;
  std::error_code reason;
};

/// A plain HTTP GET (not an upgrade) on a listener that accepts http: the request line and a few
/// headers. The owner answers with network::respond (once); the connection then closes (no
/// keep-alive). Unanswered, the listener's handshake timeout closes it.
struct http_request {
  session_handle session;
  std::string method;  ///< always "GET" (the only method the port tells from a Quay stream)
  std::string target;  ///< e.g. "/metrics?x=1", as sent
  std::string host;
  std::string origin;
  std::string authorization;  ///< the Authorization header, as sent (an operator token)
  std::string accept;
};

/// The answer to an http_request. Sent with Content-Length and `Connection: close`.
struct http_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// Extra header lines (name, value), e.g. Cache-Control. Names and values must not hold CR/LF
  /// (such a header is dropped).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Direct session events, an alternative to an owner actor for code that answers inline (the
/// session-level echo benchmark, protocol tests). Called on the port's workers, one call at a
/// time per session, never concurrently for one session; must not block. A handler may call
/// network::send/close for any session, including this one.
///
/// Thread contract: called on workers only; implementations are shared between sessions and so
/// must be thread-safe across sessions.
class session_handler {
 public:
  virtual ~session_handler() = default;
  virtual void on_accepted(session_handle s, const endpoint& peer) = 0;
  virtual void on_frame(session_handle s, const frame& data, const envelope_view& env) = 0;
  virtual void on_closed(session_handle s, std::error_code reason) = 0;
  /// A plain HTTP GET (listeners that accept http). Answer with network::respond and return
  /// true; returning false has the session answer 404.
  virtual bool on_http_request(session_handle s, const http_request& r) {
    (void)s;
    (void)r;
    return false;
  }
};

}  // namespace quay::net

template <>
struct std::hash<quay::net::session_handle> {
  std::size_t operator()(const quay::net::session_handle& h) const noexcept {
    return std::hash<std::uint64_t>{}((std::uint64_t{h.slot} << 32) | h.generation);
  }
};
