#pragma once
/// The one backend-selection header: the only public place that looks at the platform.
/// Everything platform-specific lives in runtime/src/backend/<platform>/.

#include <cstddef>

#if defined(_WIN32)
#define QUAY_BACKEND_IOCP 1
#else
#define QUAY_BACKEND_EPOLL 1
#endif

namespace quay::detail {

#if defined(QUAY_BACKEND_IOCP)
/// Bytes at the front of every completion that the backend owns. On Windows the kernel writes
/// the OVERLAPPED there, so a completion *is* an OVERLAPPED (checked by the IOCP backend).
inline constexpr std::size_t completion_os_bytes = 32;
/// The OS socket handle type (SOCKET).
using native_socket = unsigned long long;
inline constexpr native_socket invalid_native_socket = ~native_socket{0};
#else
inline constexpr std::size_t completion_os_bytes = 0;
using native_socket = int;
inline constexpr native_socket invalid_native_socket = -1;
#endif

}  // namespace quay::detail
