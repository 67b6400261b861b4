#pragma once
// The POSIX socket address API, for the platform-neutral endpoint code (backend/os_sockets.hpp).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace quay::detail {

using os_family_t = sa_family_t;
/// The POSIX socket API needs no start-up.
inline bool os_sockets_ready() noexcept { return true; }

}  // namespace quay::detail
