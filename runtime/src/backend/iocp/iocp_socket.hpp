#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>

#include "backend/iocp/win32.hpp"
#include "quay/runtime/completion.hpp"
#include "quay/runtime/socket.hpp"
#include "socket_close.hpp"

namespace quay::detail {

class native_backend;

/// Winsock's extension functions, loaded once per process through WSAIoctl.
struct winsock_ext {
  LPFN_ACCEPTEX accept_ex = nullptr;
  LPFN_CONNECTEX connect_ex = nullptr;
  LPFN_GETACCEPTEXSOCKADDRS get_accept_ex_sockaddrs = nullptr;
};
/// Starts Winsock (once per process; never cleaned up, Winsock counts its users) and loads the
/// extensions. Throws std::system_error if Winsock cannot start. Thread-safe.
const winsock_ext& winsock();
/// Starts Winsock without throwing (for endpoint parsing). Thread-safe.
bool winsock_started() noexcept;

/// Bytes AcceptEx needs for one address: the largest sockaddr plus 16, as its doc demands.
inline constexpr DWORD accept_address_bytes = sizeof(sockaddr_in6) + 16;

/// The IOCP backend's state for one socket.
///
/// Its address is the completion key of every packet the socket's operations queue, so it lives
/// until the last of them has been dequeued: it counts one reference for the owning tcp_socket
/// and one per started operation, and frees itself at zero.
///
/// Thread contract: `backend`, `family` and `listener` are immutable; `refs` is atomic; the
/// list links are guarded by the backend's socket list mutex; the rest by `mu`.
class socket_state {
 public:
  socket_state(native_backend& b, SOCKET s, int fam, bool is_listener) noexcept
      : backend(b), family(fam), listener(is_listener), sock(s) {}
  socket_state(const socket_state&) = delete;
  socket_state& operator=(const socket_state&) = delete;

  native_backend& backend;
  const int family;
  const bool listener;

  std::mutex mu;
  /// INVALID_SOCKET once closed.
  SOCKET sock;
  /// close() was called: operations still in flight complete with errc::aborted.
  bool closed = false;
  /// A ConnectEx is pending in write_op (not a send).
  bool connecting = false;
  /// The pending receive (recv_op) or accept (accept_op, when `listener`).
  completion* read_op = nullptr;
  /// The pending send (send_op) or connect (connect_op, when `connecting`).
  completion* write_op = nullptr;
  /// Where AcceptEx writes the local and remote addresses (listener only).
  alignas(8) unsigned char accept_addresses[2 * accept_address_bytes] = {};

  std::atomic<std::uint32_t> refs{1};
  socket_state* prev = nullptr;
  socket_state* next = nullptr;

  void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  /// Adds a reference unless the count already reached zero (the state is being freed).
  bool try_add_ref() noexcept {
    std::uint32_t n = refs.load(std::memory_order_relaxed);
    while (n != 0) {
      if (refs.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }
  /// Drops a reference; the last one unlinks the state from its backend and frees it.
  void release() noexcept;
};

/// Creates an overlapped TCP socket of `family`, wraps it in a socket_state and associates it
/// with the backend's port. On failure returns nullptr and sets `ec` (the socket is closed).
socket_state* open_socket(native_backend& b, int family, bool listener,
                          std::error_code& ec) noexcept;

// close_socket(): declared in socket_close.hpp (called by the neutral tcp_socket.cpp).

/// Finishes the operation whose packet just arrived for `s`, with the packet's Win32 error and
/// byte count: records the result in it and returns it for the worker to run, or returns
/// nullptr when a partial send was continued (its next packet will come). `aborting` (stop's
/// drain) forces errc::aborted. Worker or stop() only.
completion* complete_socket_op(socket_state& s, completion* op, DWORD error, DWORD bytes,
                               bool aborting) noexcept;

/// Issues WSASend for what remains of `op` (its progress is op.sent_). Caller holds s.mu and has
/// checked that the port is open. Returns the error if the call failed at once.
std::error_code issue_send(socket_state& s, send_op& op) noexcept;

}  // namespace quay::detail
