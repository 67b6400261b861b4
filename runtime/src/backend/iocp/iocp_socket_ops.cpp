// The IOCP backend's side of each socket operation once it is in flight: opening and closing
// sockets, re-issuing a partial send, and finishing an operation when its packet arrives.
#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include "backend/iocp/iocp_backend.hpp"
#include "backend/iocp/iocp_socket.hpp"
#include "backend_access.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace quay::detail {

namespace {

std::error_code last_wsa_error() noexcept { return map_os_error(::WSAGetLastError()); }

void finish_recv(recv_op& op, DWORD error, DWORD bytes, bool abort) noexcept {
  if (abort) {
    op.set_result(make_error_code(errc::aborted), 0);
  } else if (error != 0) {
    op.set_result(map_os_error(static_cast<int>(error)), 0);
  } else if (bytes == 0) {
    // Zero-byte receives complete at their start, so 0 here is the peer's FIN.
    op.set_result(make_error_code(errc::end_of_stream), 0);
  } else {
    op.set_result({}, bytes);
  }
}

// Returns false when the send was continued (it stays pending).
bool finish_send(socket_state& s, send_op& op, DWORD error, DWORD bytes, bool abort) noexcept {
  op.sent_ += bytes;
  if (abort) {
    op.set_result(make_error_code(errc::aborted), op.sent_);
    return true;
  }
  if (error != 0) {
    op.set_result(map_os_error(static_cast<int>(error)), op.sent_);
    return true;
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < op.count; ++i) total += op.buffers[i].size;
  if (op.sent_ >= total) {
    op.set_result({}, op.sent_);
    return true;
  }
  // A partial completion (the kernel took less than everything, or a buffer was larger than
  // a WSABUF can describe): send the rest, same OVERLAPPED, same operation.
  if (const std::error_code ec = issue_send(s, op)) {
    op.set_result(ec, op.sent_);
    return true;
  }
  return false;
}

// Returns false on failure: the caller then closes op.peer, outside the listener's mutex.
bool finish_accept(socket_state& s, accept_op& op, DWORD error, bool abort) noexcept {
  std::error_code ec;
  if (abort) {
    ec = make_error_code(errc::aborted);
  } else if (error != 0) {
    ec = map_os_error(static_cast<int>(error));
    // The client reset before the accept finished: for the listener that is an aborted
    // connection (as accept() reports it on Linux), not a reset of a connection it owns.
    if (ec == errc::connection_reset) ec = make_error_code(errc::connection_aborted);
  } else {
    socket_state* peer = detail::backend_access::state(op.peer);
    // Gives the accepted socket the listener's properties; getpeername, shutdown and
    // setsockopt need it.
    if (::setsockopt(peer->sock, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT,
                     reinterpret_cast<const char*>(&s.sock), sizeof s.sock) != 0) {
      ec = last_wsa_error();
    } else {
      sockaddr* local = nullptr;
      sockaddr* remote = nullptr;
      int local_len = 0;
      int remote_len = 0;
      winsock().get_accept_ex_sockaddrs(s.accept_addresses, 0, accept_address_bytes,
                                        accept_address_bytes, &local, &local_len, &remote,
                                        &remote_len);
      const std::size_t n =
          std::min<std::size_t>(remote_len > 0 ? static_cast<std::size_t>(remote_len) : 0,
                                endpoint::capacity);
      if (remote != nullptr) std::memcpy(op.peer_endpoint.data(), remote, n);
      op.peer_endpoint.set_size(remote != nullptr ? n : 0);
    }
  }
  op.set_result(ec, 0);
  return !ec;
}

void finish_connect(socket_state& s, connect_op& op, DWORD error, bool abort) noexcept {
  if (abort) {
    op.set_result(make_error_code(errc::aborted), 0);
  } else if (error != 0) {
    op.set_result(map_os_error(static_cast<int>(error)), 0);
  } else if (::setsockopt(s.sock, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0) != 0) {
    // Without it getpeername and shutdown fail on the connected socket.
    op.set_result(last_wsa_error(), 0);
  } else {
    op.set_result({}, 0);
  }
}

}  // namespace

void socket_state::release() noexcept {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  backend.forget(*this);
  delete this;
}

socket_state* open_socket(native_backend& b, int family, bool listener,
                          std::error_code& ec) noexcept {
  const SOCKET sock = ::WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                                   WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (sock == INVALID_SOCKET) {
    ec = last_wsa_error();
    return nullptr;
  }
  auto* s = new (std::nothrow) socket_state(b, sock, family, listener);
  if (s == nullptr) {
    ::closesocket(sock);
    ec = std::make_error_code(std::errc::not_enough_memory);
    return nullptr;
  }
  ec = b.adopt(*s);
  if (ec) {
    ::closesocket(sock);
    delete s;  // never linked, never shared
    return nullptr;
  }
  return s;
}

// IOCP: cancels the pending operations (CancelIoEx; they complete with errc::aborted when their
// packets arrive), closes the handle (with RST if `hard`) and drops the owner's reference.
void close_socket(socket_state* s, bool hard) noexcept {
  {
    std::lock_guard lock(s->mu);
    if (s->sock != INVALID_SOCKET) {
      s->closed = true;
      if (hard) {
        linger lg{};
        lg.l_onoff = 1;
        lg.l_linger = 0;
        ::setsockopt(s->sock, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&lg),
                     sizeof lg);
      }
      // Every pending operation queues its packet with ERROR_OPERATION_ABORTED; the state
      // stays alive (their references) until the workers have dequeued them all.
      ::CancelIoEx(reinterpret_cast<HANDLE>(s->sock), nullptr);
      ::closesocket(s->sock);
      s->sock = INVALID_SOCKET;
    }
  }
  s->release();
}

std::error_code issue_send(socket_state& s, send_op& op) noexcept {
  // Rebuilt from the progress so far: a partial send may end inside a buffer. Winsock copies
  // the WSABUF array before WSASend returns, so it may live on the stack.
  // Not value-initialised (64 entries per call): only bufs[0, count) is passed, each fully
  // written below.
  std::array<WSABUF, max_send_buffers> bufs;
  std::size_t skip = op.sent_;
  DWORD count = 0;
  for (std::size_t i = 0; i < op.count; ++i) {
    const const_buffer& b = op.buffers[i];
    if (skip >= b.size) {
      skip -= b.size;
      continue;
    }
    // A WSABUF holds at most 4 GiB - 1; the rest of a larger buffer goes in a later WSASend.
    bufs[count].len = static_cast<ULONG>(std::min<std::size_t>(b.size - skip, ULONG_MAX));
    bufs[count].buf = const_cast<char*>(static_cast<const char*>(b.data) + skip);
    skip = 0;
    ++count;
    if (bufs[count - 1].len == ULONG_MAX) break;
  }
  s.backend.io_begin();
  if (::WSASend(s.sock, bufs.data(), count, nullptr, 0, fresh_overlapped(&op), nullptr) != 0) {
    const int err = ::WSAGetLastError();
    if (err != WSA_IO_PENDING) {
      s.backend.io_not_started();
      return map_os_error(err);
    }
  }
  return {};
}

completion* complete_socket_op(socket_state& s, completion* op, DWORD error, DWORD bytes,
                               bool aborting) noexcept {
  accept_op* failed_accept = nullptr;
  {
    std::lock_guard lock(s.mu);
    // After close() nothing in flight succeeds: its owner has let go of the socket.
    const bool abort = aborting || s.closed;
    if (op == s.read_op) {
      s.read_op = nullptr;
      if (s.listener) {
        auto* a = static_cast<accept_op*>(op);
        if (!finish_accept(s, *a, error, abort)) failed_accept = a;
      } else {
        finish_recv(*static_cast<recv_op*>(op), error, bytes, abort);
      }
    } else if (op == s.write_op) {
      if (s.connecting) {
        s.connecting = false;
        finish_connect(s, *static_cast<connect_op*>(op), error, abort);
      } else if (!finish_send(s, *static_cast<send_op*>(op), error, bytes, abort)) {
        return nullptr;  // continued: still parked, still holding its reference
      }
      s.write_op = nullptr;
    } else {
      // Every packet with this key belongs to an operation parked in the slot until now; a
      // packet for anything else means memory corruption, and running it could only spread it.
      log::get("runtime")->critical("IOCP packet for an operation this socket does not own");
      std::terminate();
    }
  }
  // Closed after s.mu is released: a socket's mutex is held as briefly as possible.
  if (failed_accept != nullptr) failed_accept->peer.close();
  s.release();  // the operation's reference; may free `s`
  return op;
}

}  // namespace quay::detail
