#pragma once
// The Winsock address API, for the platform-neutral endpoint code (backend/os_sockets.hpp).
#include "backend/iocp/iocp_socket.hpp"
#include "backend/iocp/win32.hpp"

namespace quay::detail {

using os_family_t = ADDRESS_FAMILY;
/// Winsock must be started (WSAStartup) before inet_pton and friends may be called.
inline bool os_sockets_ready() noexcept { return winsock_started(); }

}  // namespace quay::detail
