#pragma once
// WebSocket and HTTP on the game port, inside a session (session_ws.cpp; session_ws_none.cpp
// where quay_net_ws is not built). A session of a listener that accepts only Quay has no
// ws_state and never calls these; one that accepts more classifies its first bytes and either
// drops its ws_state (a Quay stream: the plain TCP path from there on) or keeps it (WebSocket:
// handshake, then messages; HTTP: one request to the owner, one answer, close).
//
// All functions named *_locked need the session's mutex; the others are called with it held
// too unless said otherwise. See network_impl.hpp for the locking rules.

#include <optional>
#include <span>
#include <system_error>

#include "network_impl.hpp"

namespace quay::net::detail {

/// True where quay_net_ws was built (WebSocket and HTTP listeners can be opened).
bool ws_supported() noexcept;
/// A session's WebSocket/HTTP state for a listener that accepts more than Quay; null if it
/// accepts only Quay.
ws_ptr make_ws_state(const listen_options& o, port_time now);
/// Where the next receive (or the layer's read()) writes.
std::span<std::byte> ws_input_space(session& s);
/// The first `n` bytes of ws_input_space() arrived: classify, handshake or frame them. May
/// drop s.ws (a Quay stream: the bytes have moved into the framer).
void ws_input_locked(session& s, std::size_t n);
/// Before frames are taken: delivers a waiting HTTP request to the owner (the mutex is released
/// meanwhile). True if the session is an open WebSocket whose messages may be taken.
bool ws_ready_locked(session& s, session_lock& lk);
/// The next whole binary message as a frame (a copy, 8-aligned), or need_more.
decode_status ws_next_frame(session& s, frame& f);
/// A send on a session with a ws_state: set when the frame was handled here (held until the
/// protocol is known, or refused); nullopt to queue it normally (an open WebSocket).
std::optional<std::error_code> ws_send_locked(session& s, frame& f);
/// A graceful close of an open WebSocket by the server: queues the close frame.
void ws_closing_locked(session& s, std::error_code reason);
/// The handshake deadline, while one applies.
bool ws_deadline(const session& s, port_time& due) noexcept;
/// Closes a session past its handshake deadline; true if it did.
bool ws_expired_locked(session& s, port_time now);
/// network::respond.
std::error_code ws_respond_locked(session& s, const http_response& r);
/// The session speaks WebSocket (upgrade done).
bool ws_open(const session& s) noexcept;
/// Scratch for send_queue::gather's prefixes (stable while a write is in flight).
std::span<std::byte> ws_scratch(session& s) noexcept;

}  // namespace quay::net::detail
