#pragma once
// What each backend's socket code provides to the platform-neutral tcp_socket members
// (runtime/src/tcp_socket.cpp).

namespace quay::detail {

class socket_state;

/// Closes the socket held by `s`: pending operations complete with errc::aborted, the OS
/// socket is closed (with RST if `hard`) and the backend's state for it released. Defined by
/// each backend (epoll_socket_ops.cpp, iocp_socket_ops.cpp).
void close_socket(socket_state* s, bool hard) noexcept;

}  // namespace quay::detail
