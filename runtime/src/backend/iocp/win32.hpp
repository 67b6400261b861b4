#pragma once
// The Windows headers, included one way for the whole IOCP backend: winsock2.h before
// windows.h (or windows.h drags in the old winsock.h), without min/max macros, without the
// rarely used APIs. Only files in backend/iocp/ include this.

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif

// clang-format off
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <winternl.h>
// clang-format on

#include <cstddef>
#include <new>

#include "quay/runtime/completion.hpp"
#include "quay/runtime/platform.hpp"

namespace quay::detail {

// A completion *is* an OVERLAPPED: its first completion_os_bytes belong to the backend, and
// the kernel writes the OVERLAPPED there. Converting is a cast of the same address.
static_assert(sizeof(OVERLAPPED) <= completion_os_bytes,
              "completion_os_bytes must hold an OVERLAPPED");
static_assert(alignof(OVERLAPPED) <= 8, "completion's os storage is 8-byte aligned");
static_assert(sizeof(native_socket) == sizeof(SOCKET), "native_socket must hold a SOCKET");
static_assert(invalid_native_socket == static_cast<native_socket>(INVALID_SOCKET));

inline OVERLAPPED* to_overlapped(completion* c) noexcept {
  return static_cast<OVERLAPPED*>(c->os_storage());
}
inline completion* from_overlapped(OVERLAPPED* ov) noexcept {
  // os_storage() is the completion's own address (its first member), so this undoes it.
  return static_cast<completion*>(static_cast<void*>(ov));
}
/// Clears the OVERLAPPED before an operation is started with it (the kernel requires
/// Offset, OffsetHigh and hEvent to be zero for a socket with a completion port).
inline OVERLAPPED* fresh_overlapped(completion* c) noexcept {
  return ::new (c->os_storage()) OVERLAPPED{};
}

}  // namespace quay::detail
