#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>

#include "quay/actors/actor_ref.hpp"
#include "quay/net/error.hpp"
#include "quay/net/frame.hpp"
#include "quay/net/session.hpp"
#include "quay/net/session_ref.hpp"
#include "quay/runtime/socket.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay {
class io_port;
class actor_system;
}  // namespace quay

namespace quay::net {

namespace detail {
class network_impl;
}

/// The protocols a listener serves on its one port, told apart by the first bytes of each
/// connection (a Quay frame can never begin with "GET "; docs/protocol.md).
struct listen_protocols {
  bool quay = true;        ///< Quay frames over TCP (4-byte length + envelope)
  bool websocket = false;  ///< RFC 6455: one binary message = one envelope
  bool http = false;       ///< a plain GET (not an upgrade) goes to the owner as http_request
};

/// WebSocket and HTTP bounds of a listener. The largest message is session.max_frame_size.
struct websocket_options {
  /// From accept until the upgrade is answered (or the HTTP response queued); then the
  /// connection closes (handshake_timeout). Also bounds how long a peer may take to send its
  /// first bytes on a listener that accepts more than Quay.
  std::chrono::milliseconds handshake_timeout{5'000};
  std::size_t max_header_bytes = 8 * 1024;  ///< request line + headers: over it, 431
  std::size_t max_headers = 32;             ///< header fields: over it, 431
  std::size_t max_fragments = 64;           ///< frames in one message: over it, close 1008
  std::size_t max_pings_per_second = 16;    ///< client pings in one second: over it, close 1008
};

/// Where and how a listener accepts.
struct listen_options {
  /// The address to bind: loopback unless told otherwise (port 0 picks a free port).
  endpoint at = endpoint::loopback_v4(0);
  /// Sessions of this listener open at once. A connection over the limit is accepted and
  /// closed at once (reason connection_limit, logged); the server keeps serving the others.
  std::size_t max_connections = 10'000;
  int backlog = 1024;
  session_options session;
  listen_protocols protocols;
  websocket_options websocket;
};

/// Chooses the owner actor of a newly accepted session (typically spawns one). Returning a null
/// actor_ref refuses the session (closed with errc::no_owner). Called on a worker.
using owner_factory = unique_function<actor_ref(session_handle, const endpoint& peer)>;

/// A snapshot of one session, for metrics and tests.
struct session_info {
  std::size_t queued_bytes = 0;     ///< unsent bytes in the send queue
  std::size_t read_heap_bytes = 0;  ///< heap memory held by the read buffer
  bool reading_paused = false;      ///< receive backpressure is holding reads
  bool open = false;                ///< not closing or closed
  bool websocket = false;           ///< the session speaks WebSocket (upgrade done)
};

/// Counters of a network, for metrics and tests.
struct network_stats {
  std::uint64_t open_sessions = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused_over_limit = 0;
  std::uint64_t closed = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t read_pauses = 0;
};

/// The network SDK: listeners, connectors and the sessions they open, on one io_port.
///
/// Each session is owned either by an actor (events arrive as session_accepted,
/// session_frame and session_closed messages) or by a session_handler (events as direct calls
/// on the worker). All socket work completes on the port's workers. See docs/protocol.md for the
/// wire format and docs/architecture.md ("Network") for the session state machine.
///
/// Lifetime: shutdown, port stop and destruction may come in any order. The destructor shuts
/// down and waits until every completion that refers to the network has run (on a running
/// port, its workers run them; on a stopped one they already have). Destroying it on the
/// port's only worker cannot work and aborts with a critical log line. A session_handler must
/// outlive the network.
///
/// It is the session_port of its sessions: an owner actor sends through a net::session
/// (session_ref.hpp) made from it and the handle, without holding the network.
///
/// Thread contract: every member is thread-safe.
class network final : public session_port {
 public:
  /// `actors` may be null when every session is owned by a session_handler.
  network(io_port& port, actor_system* actors);
  ~network();
  network(const network&) = delete;
  network& operator=(const network&) = delete;

  /// Starts accepting at `o.at`; each session's owner comes from `factory`. Writes the bound
  /// address to `*bound` if given. Thread-safe.
  std::error_code listen(const listen_options& o, owner_factory factory, endpoint* bound = nullptr);
  /// Starts accepting; every session is reported to `handler`, which must outlive the network.
  /// Thread-safe.
  std::error_code listen(const listen_options& o, session_handler& handler,
                         endpoint* bound = nullptr);

  /// Connects to `target` (the bots' client side). Returns the session's handle at once; the
  /// owner receives session_accepted when connected or session_closed with the error. Frames
  /// sent before the connection is up are queued. Thread-safe.
  session_handle connect(const endpoint& target, actor_ref owner, const session_options& o = {});
  session_handle connect(const endpoint& target, session_handler& handler,
                         const session_options& o = {});

  /// Queues `f` on the session (shared, not copied) and starts a gather write if none is in
  /// flight. Errors: session_gone, send_queue_closed (closing), slow_reader (the queue passed
  /// its high-water mark: the session is being closed with that reason). Thread-safe.
  std::error_code send(session_handle s, frame f) override;
  /// Graceful close: stops reading, flushes what is queued, then closes (a hard close after
  /// session_options::close_linger). The owner then receives session_closed with `reason`.
  /// Thread-safe.
  std::error_code close(session_handle s, std::error_code reason = errc::closed_by_owner) override;
  /// Answers the session's http_request (once): the response goes out, then the connection
  /// closes (the owner receives session_closed with http_answered). Errors: session_gone,
  /// invalid_argument (not a session waiting for an HTTP answer). Thread-safe.
  std::error_code respond(session_handle s, const http_response& r) override;
  /// Hard close (RST, queued frames dropped), e.g. for a hostile peer. Thread-safe.
  std::error_code abort(session_handle s, std::error_code reason);

  /// Stops every listener and hard-closes every session (reason shutting_down). Idempotent.
  /// Thread-safe.
  void shutdown();
  /// Closes every listening socket (new connections are refused by the OS) and keeps the open
  /// sessions running, e.g. while a server saves and says goodbye. Idempotent. Thread-safe.
  void stop_listening();

  /// A snapshot of one session; nullopt if the handle is stale. Thread-safe.
  std::optional<session_info> info(session_handle s) const;
  /// Counters. Thread-safe.
  network_stats stats() const noexcept;
  /// The session value for `s`, for its owner actor to send and close through. Thread-safe.
  net::session session(session_handle s) noexcept { return {*this, s}; }

 private:
  std::unique_ptr<detail::network_impl> impl_;
};

}  // namespace quay::net
