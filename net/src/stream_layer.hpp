#pragma once
// The seam in a session's byte path for a transport layer below the framing (TLS over OpenSSL
// memory BIOs; tests use a trivial one). See /work/notes/seam.md and docs/architecture.md.
//
//   socket --recv--> layer.recv_space()/received() --read()--> framing (Quay framer or
//   WebSocket) --> envelopes to the owner
//   owner's frames --> send queue --gathered plaintext iovecs--> layer.write() -->
//   layer.output() --send--> socket
//
// A session without a layer (plain TCP) never touches this: its receives go straight into the
// framer and its gather writes straight from the send queue, as before.

#include <chrono>
#include <cstddef>
#include <span>
#include <system_error>

#include "quay/runtime/socket.hpp"

namespace quay::net::detail {

/// A byte-stream transformation between the socket (below) and the session's framing (above).
///
/// A pure core by contract: no I/O, no clock, no locks. The session calls it with its mutex
/// held, on whichever worker runs the session's completion, one call at a time (owner only).
///
/// Failure: a layer that cannot go on (a bad record, a failed handshake) sets failure() and
/// may leave bytes in output() (an alert). The session then drops its queued plaintext, sends
/// what output() holds, and closes with failure() as the owner's close reason.
class stream_layer {
 public:
  virtual ~stream_layer() = default;

  // ---- receive (below -> above)
  /// Where the next socket receive writes. Never empty while failure() is clear. The span stays
  /// valid until received() (the receive writes into it meanwhile).
  virtual std::span<std::byte> recv_space() = 0;
  /// The receive filled the first `n` bytes of the last recv_space() (n > 0).
  virtual void received(std::size_t n) = 0;
  /// Moves decoded bytes into `plain` (the framing's free space); returns how many (0: none
  /// ready now). The session calls it until it returns 0 or the framing stops taking bytes
  /// (the owner's mailbox is full: reading is paused; what the layer holds waits there and is
  /// read after the drain, before the next socket receive).
  virtual std::size_t read(std::span<std::byte> plain) = 0;
  /// True when read() may return bytes without a new receive (records already buffered).
  virtual bool readable() const noexcept = 0;

  // ---- send (above -> below)
  /// Takes plaintext from `plain` (in order, the framing's wire bytes), returns how many bytes
  /// it took (may be fewer than offered: the layer bounds what it buffers; 0 while it cannot
  /// take data yet, e.g. during a TLS handshake). Taken bytes are consumed from the session's
  /// send queue at once, so the layer must copy (encrypt) them now.
  virtual std::size_t write(std::span<const const_buffer> plain) = 0;
  /// Bytes to send on the socket (records, handshake messages, alerts), in order.
  virtual std::span<const std::byte> output() const noexcept = 0;
  /// The first `n` bytes of output() were sent.
  virtual void consume_output(std::size_t n) noexcept = 0;

  // ---- close
  /// The session is closing gracefully and its plaintext is flushed: queue the layer's own end
  /// (TLS close_notify) in output(). Called once.
  virtual void shutdown() = 0;
  /// Why the layer cannot go on, or empty.
  virtual std::error_code failure() const noexcept = 0;

  // ---- end of the transport and the negotiation deadline (optional; plain layers keep these)
  /// The socket's receive ended (`transport`: closed_by_peer, a reset...). Returns the close
  /// reason to report: a layer may sort the end (TLS: inside a record is a reset mid-record).
  virtual std::error_code transport_ended(std::error_code transport) noexcept { return transport; }
  /// True while the layer negotiates (a TLS handshake) and carries no data yet.
  virtual bool negotiating() const noexcept { return false; }
  /// How long negotiating() may last from the session's open (0: no deadline). The session's
  /// sweep hard-closes a session past it with negotiation_expired().
  virtual std::chrono::milliseconds negotiation_timeout() const noexcept { return {}; }
  /// The negotiation deadline passed: the close reason to report.
  virtual std::error_code negotiation_expired() noexcept {
    return std::make_error_code(std::errc::timed_out);
  }
};

}  // namespace quay::net::detail
