// Where quay_net_ws is not built (no libwslay/libhttp-parser: the Windows cross-build): no
// session has a ws_state, and listeners that ask for WebSocket or HTTP are refused
// (network::listen), so nothing below is reached.
#include <cstdlib>

#include "session_ws.hpp"

namespace quay::net::detail {

struct ws_state {};
void ws_state_free::operator()(ws_state* w) const noexcept { delete w; }
bool ws_supported() noexcept { return false; }
ws_ptr make_ws_state(const listen_options&, port_time) { return nullptr; }
std::span<std::byte> ws_input_space(session&) { std::abort(); }
void ws_input_locked(session&, std::size_t) { std::abort(); }
bool ws_ready_locked(session&, session_lock&) { std::abort(); }
decode_status ws_next_frame(session&, frame&) { std::abort(); }
std::optional<std::error_code> ws_send_locked(session&, frame&) { std::abort(); }
void ws_closing_locked(session&, std::error_code) { std::abort(); }
bool ws_deadline(const session&, port_time&) noexcept { return false; }
bool ws_expired_locked(session&, port_time) { return false; }
std::error_code ws_respond_locked(session&, const http_response&) {
  return std::make_error_code(std::errc::invalid_argument);
}
bool ws_open(const session&) noexcept { return false; }
std::span<std::byte> ws_scratch(session&) noexcept { return {}; }

}  // namespace quay::net::detail
