#pragma once

// The backends' way into the internals of the public socket and port types, which keep them
// private so that nothing above runtime/ can reach them.

#include "quay/runtime/io_port.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::detail {

/// Internal to runtime/src: the backend state of a socket, a socket made from backend state,
/// the Debug owner check the operation starts use, and a port's backend. Thread contract: as
/// the member each one reads (owner only for the sockets).
struct backend_access {
  static socket_state* state(const tcp_socket& s) noexcept { return s.state_; }
  static tcp_socket adopt(socket_state* s) noexcept { return tcp_socket(s); }
  static const owner_check& owner(const tcp_socket& s) noexcept { return s.owner_; }
  static native_backend& backend(io_port& p) noexcept { return *p.backend_; }
};

}  // namespace quay::detail
