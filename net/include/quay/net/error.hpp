#pragma once

#include <system_error>

namespace quay::net {

/// Why the network layer refused a frame or ended a session. Every value is also a close
/// reason: a session closed by the SDK reports one of these (or a runtime code such as
/// quay::errc::connection_reset) to its owner and in the log.
enum class errc {
  ok = 0,
  zero_length_frame = 1,   ///< a frame header announced 0 bytes (never valid)
  frame_too_large,         ///< a frame header announced more than the session's max frame size
  invalid_envelope,        ///< the payload is not a valid quay.wire.Envelope flatbuffer
  unknown_message_type,    ///< no handler is registered for the envelope's type id
  invalid_payload,         ///< the nested payload failed verification for its registered root type
  slow_reader,             ///< the peer does not read: the send queue passed its high-water mark
  idle_timeout,            ///< nothing was received for the session's idle timeout
  connection_limit,        ///< accepted over the listener's connection limit and closed at once
  closed_by_owner,         ///< the owner called close() without a more specific reason
  closed_by_peer,          ///< the peer closed its side in order (FIN)
  shutting_down,           ///< the listener or the port is stopping
  session_gone,            ///< the session handle is stale: the session already ended
  send_queue_closed,       ///< the session is closing and accepts no more frames
  owner_gone,              ///< the owner actor no longer exists (a session event was a dead letter)
  no_owner,                ///< the listener's owner factory gave no owner for the session
  // WebSocket and HTTP on the game port (docs/protocol.md, "WebSocket transport").
  protocol_not_accepted,   ///< the first bytes are a protocol this listener does not accept
  handshake_timeout,       ///< the upgrade (or the HTTP answer) did not finish in time
  handshake_refused,       ///< the upgrade request was refused with an HTTP error
  websocket_protocol_error,  ///< RFC 6455 violation (close 1002/1007): unmasked, bad opcode...
  websocket_text_frame,    ///< a text frame (close 1003): Quay takes binary envelopes only
  websocket_too_big,       ///< a message over the max frame size (close 1009)
  websocket_policy,        ///< endless fragmentation or a ping flood (close 1008)
  http_answered,           ///< an HTTP request was answered and the connection closed
};

const std::error_category& net_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), net_category()};
}

}  // namespace quay::net

template <>
struct std::is_error_code_enum<quay::net::errc> : std::true_type {};
