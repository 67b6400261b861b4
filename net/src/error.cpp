#include "quay/net/error.hpp"

#include <string>
#include <string_view>

namespace quay::net {

namespace {

std::string_view name_of(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::zero_length_frame: return "zero-length frame";
    case errc::frame_too_large: return "frame too large";
    case errc::invalid_envelope: return "invalid envelope";
    case errc::unknown_message_type: return "unknown message type";
    case errc::invalid_payload: return "invalid payload";
    case errc::slow_reader: return "slow reader";
    case errc::idle_timeout: return "idle timeout";
    case errc::connection_limit: return "connection limit";
    case errc::closed_by_owner: return "closed by owner";
    case errc::closed_by_peer: return "closed by peer";
    case errc::shutting_down: return "shutting down";
    case errc::session_gone: return "session gone";
    case errc::send_queue_closed: return "send queue closed";
    case errc::owner_gone: return "owner gone";
    case errc::no_owner: return "no owner";
    case errc::protocol_not_accepted: return "protocol not accepted on this listener";
    case errc::handshake_timeout: return "handshake timeout";
    case errc::handshake_refused: return "handshake refused";
    case errc::websocket_protocol_error: return "websocket protocol error";
    case errc::websocket_text_frame: return "websocket text frame";
    case errc::websocket_too_big: return "websocket message too big";
    case errc::websocket_policy: return "websocket policy violation";
    case errc::http_answered: return "http request answered";
  }
  return "unknown net error";
}

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "quay.net"; }
  std::string message(int v) const override { return std::string(name_of(static_cast<errc>(v))); }
};

}  // namespace

const std::error_category& net_category() noexcept {
  static const category c;
  return c;
}

}  // namespace quay::net
