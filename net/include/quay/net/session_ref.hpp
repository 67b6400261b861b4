#pragma once

// The actor side of a session: a session value to send frames and typed wire messages through,
// and the delivery of a session's frames to the owner's typed handlers. See docs/sdk.md
// ("Messages from clients and other processes").

#include <cstdint>
#include <span>
#include <system_error>
#include <utility>

#include <flatbuffers/flatbuffers.h>

#include "quay/actors/wire.hpp"
#include "quay/net/envelope.hpp"
#include "quay/net/error.hpp"
#include "quay/net/frame.hpp"
#include "quay/net/session.hpp"

namespace quay::net {

/// Where a session's frames go: net::network implements it; tests implement it with a
/// recorder. Thread contract: implementations are thread-safe.
class session_port {
 public:
  /// Queues `f` on session `s` (shared, not copied). Thread-safe.
  virtual std::error_code send(session_handle s, frame f) = 0;
  /// Closes `s` gracefully after what is queued. Thread-safe.
  virtual std::error_code close(session_handle s, std::error_code reason) = 0;
  /// Answers a session's plain HTTP GET (the connection then closes). Thread-safe. A port that
  /// carries no HTTP (a test recorder) keeps this default: errc::protocol_not_accepted.
  virtual std::error_code respond(session_handle, const http_response&) {
    return errc::protocol_not_accepted;
  }

 protected:
  ~session_port() = default;
};

/// Encodes `m` as a frame (an Envelope of wire_form<M>::id and `seq`, its payload the
/// flatbuffer of M) with a per-thread builder. Encode once and send the frame to many sessions:
/// they share the bytes. Returns an empty frame if it would exceed frame_size_cap. Thread-safe.
template <wire_message M>
frame encode_frame(const M& m, std::uint32_t seq = 0) {
  thread_local flatbuffers::FlatBufferBuilder b(256);
  frame f = encode_envelope(wire_form<M>::id, seq, wire::encode(b, m));
  if (b.GetSize() > 64 * 1024) {
    b.Reset();  // one huge message does not pin its buffer on this thread for good
  }
  return f;
}

/// One session as its owner actor sees it: a handle and the port it goes through. A value;
/// copy it freely. Operations on a session that has ended fail with errc::session_gone (or are
/// dropped by a recorder). The port must outlive every use (the network outlives the actors
/// whose sessions it carries, or their sends fail cleanly once it has shut down).
///
/// Thread contract: thread-safe (the port is).
class session {
 public:
  session() noexcept = default;
  session(session_port& port, session_handle h) noexcept : port_(&port), handle_(h) {}

  /// Queues an encoded frame (shared, not copied: send one frame to many sessions for a
  /// broadcast). Thread-safe.
  std::error_code send(frame f) const {
    return port_ != nullptr ? port_->send(handle_, std::move(f)) : errc::session_gone;
  }
  /// Encodes `m` (its wire form) and queues it; `seq` answers a client's request. Thread-safe.
  template <wire_message M>
  std::error_code send(const M& m, std::uint32_t seq = 0) const {
    return send(encode_frame(m, seq));
  }
  /// Answers this session's plain HTTP GET (http_request); the connection closes once the
  /// answer is out. Thread-safe.
  std::error_code respond(const http_response& r) const {
    return port_ != nullptr ? port_->respond(handle_, r) : errc::session_gone;
  }
  /// Graceful close after what is queued. Thread-safe.
  std::error_code close(std::error_code reason = errc::closed_by_owner) const {
    return port_ != nullptr ? port_->close(handle_, reason) : errc::session_gone;
  }

  session_handle handle() const noexcept { return handle_; }
  explicit operator bool() const noexcept { return port_ != nullptr && bool(handle_); }

 private:
  session_port* port_ = nullptr;
  session_handle handle_{};
};

/// The origin of a message from session `s` (the `id` encodes the handle).
inline message_origin session_origin(session_handle s, std::uint16_t wire_id,
                                     std::uint32_t seq) noexcept {
  return {message_origin::source::session, wire_id, seq,
          (std::uint64_t{s.slot} << 32) | s.generation};
}
/// The session a message came from; the null handle if it did not come from a session.
inline session_handle session_of(const message_origin& o) noexcept {
  if (o.from != message_origin::source::session) {
    return {};
  }
  return {static_cast<std::uint32_t>(o.id >> 32), static_cast<std::uint32_t>(o.id)};
}

/// Delivers a session frame to its owner's typed handler: the on<> handler registered for the
/// message type whose wire id is the envelope's type, with origin() naming the session and the
/// envelope's seq. Call it from the owner's session_frame handler (after the owner's own checks:
/// rate limits, state). Errors, and no handler runs: errc::invalid_envelope (a view that
/// decode_envelope did not verify), errc::unknown_message_type (no handler for the id: counted
/// in actor_system::unhandled() and wire::stats(), logged), errc::invalid_payload (the payload
/// did not pass flatbuffers::Verifier: counted, logged). What to do next is the owner's choice
/// (the usual answer: close the session with that reason).
/// Owner only (in `self`'s turn).
std::error_code deliver(actor& self, const session_frame& f);

}  // namespace quay::net
