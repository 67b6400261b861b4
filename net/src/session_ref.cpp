// Delivery of a session's frames to its owner's typed handlers (see session_ref.hpp).
#include "quay/net/session_ref.hpp"

namespace quay::net {

std::error_code deliver(actor& self, const session_frame& f) {
  // Only a view decode_envelope() verified (and nobody re-pointed since) is delivered: no
  // handler reaches a payload that did not pass through both verifiers.
  if (!f.envelope.verified()) {
    return errc::invalid_envelope;
  }
  const std::error_code ec =
      wire::deliver(self, f.envelope.type, f.envelope.payload,
                    session_origin(f.session, f.envelope.type, f.envelope.seq));
  // The session layer's own codes, as a session owner expects them (close reasons).
  if (ec == wire_errc::unknown_wire_id) {
    return errc::unknown_message_type;
  }
  if (ec == wire_errc::invalid_payload) {
    return errc::invalid_payload;
  }
  return ec;
}

}  // namespace quay::net
