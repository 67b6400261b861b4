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
};

const std::error_category& net_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), net_category()};
}

}  // namespace quay::net

template <>
struct std::is_error_code_enum<quay::net::errc> : std::true_type {};
