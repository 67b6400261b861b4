#pragma once
// The non-blocking syscalls behind each socket operation. Each try_* runs with the socket's
// mutex held, returns true when the operation finished (its result recorded with set_result)
// and false when it must wait for readiness.

#include <system_error>

#include "backend/epoll/socket_table.hpp"
#include "quay/runtime/socket.hpp"
#include "socket_close.hpp"

namespace quay::detail {

bool try_recv(socket_state& s, recv_op& op) noexcept;
bool try_send(socket_state& s, send_op& op) noexcept;
bool try_accept(socket_state& s, accept_op& op) noexcept;
/// Called on a write edge while a connect is pending.
bool finish_connect(socket_state& s, connect_op& op) noexcept;

/// Takes a slot for the open descriptor `fd` and registers it with the backend's epoll set.
/// On failure closes `fd`, sets `ec` and returns nullptr.
socket_state* adopt_socket(native_backend& b, int fd, bool listener, std::error_code& ec) noexcept;

// close_socket(): declared in socket_close.hpp (called by the neutral tcp_socket.cpp).

}  // namespace quay::detail
