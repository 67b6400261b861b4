// The socket API of quay/runtime/socket.hpp on the IOCP backend: starting operations.
//
// Every start takes the socket's mutex, parks the operation in the socket's slot, counts a
// reference for it and issues the overlapped call. Without FILE_SKIP_COMPLETION_PORT_ON_SUCCESS
// the kernel queues a packet even when the call succeeds at once, so an operation never
// completes inside its starting call. The packet may reach a worker before the call returns:
// the worker then waits on the socket's mutex, which the starter holds until it no longer
// touches the operation (the race Asio handles with its "ready" handshake).
#include <algorithm>
#include <climits>
#include <utility>

#include "backend/iocp/iocp_backend.hpp"
#include "backend/iocp/iocp_socket.hpp"
#include "backend_access.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/socket.hpp"

namespace quay {

using detail::native_backend;
using detail::socket_state;

namespace {

// A start on a socket that is not open has no port to post to: the one case where the
// completion runs inside the starting call (with errc::not_connected).
void fail_unopened(completion& op) { op.invoke(make_error_code(errc::not_connected), 0); }

std::error_code pending_or(int result) noexcept {
  if (result == 0) return {};
  const int err = ::WSAGetLastError();
  return err == WSA_IO_PENDING ? std::error_code{} : map_os_error(err);
}

// Common start path. `issue` makes the overlapped call and returns its immediate error. If it
// fails, nothing was queued: the op is unparked and posted with the error. `check` may refuse
// the op first (recording a result).
template <class Op, class Check, class Issue>
void start(const detail::owner_check& owner, socket_state* s, Op& op,
           completion* socket_state::*slot, Check check, Issue issue) noexcept {
  native_backend& b = s->backend;
  bool parked = false;
  {
    // Owner only; released before the post, which may run the completion inline (stopped port).
    detail::owner_scope guard(owner, "starting a socket operation");
    std::lock_guard lock(s->mu);
    if (b.closed()) {
      // Read under the mutex: stop()'s cancel pass has seen (or will see) every parked op.
      op.set_result(make_error_code(errc::aborted), 0);
    } else if (s->*slot != nullptr) {
      op.set_result(make_error_code(errc::already_started), 0);
    } else if (check(*s, op)) {
      s->*slot = &op;
      s->add_ref();
      b.io_begin();
      if (const std::error_code ec = issue(*s, op)) {
        b.io_not_started();
        // Not the last reference: the owner's is held across a start.
        s->refs.fetch_sub(1, std::memory_order_relaxed);
        s->*slot = nullptr;
        op.set_result(ec, 0);
      } else {
        parked = true;
      }
    }
  }
  if (!parked) b.post(&op);
}

int family_of(const endpoint& e) { return e.is_v6() ? AF_INET6 : AF_INET; }

}  // namespace

std::error_code tcp_socket::shutdown_send() noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::shutdown_send");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  std::lock_guard lock(state_->mu);
  if (::shutdown(state_->sock, SD_SEND) != 0) return map_os_error(::WSAGetLastError());
  return {};
}

std::error_code tcp_socket::set_no_delay(bool on) noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::set_no_delay");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  const BOOL value = on ? TRUE : FALSE;
  std::lock_guard lock(state_->mu);
  if (::setsockopt(state_->sock, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&value),
                   sizeof value) != 0) {
    return map_os_error(::WSAGetLastError());
  }
  return {};
}

std::error_code tcp_socket::local_endpoint(endpoint& out) const noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::local_endpoint");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  int len = static_cast<int>(endpoint::capacity);
  std::lock_guard lock(state_->mu);
  if (::getsockname(state_->sock, static_cast<sockaddr*>(out.data()), &len) != 0) {
    return map_os_error(::WSAGetLastError());
  }
  out.set_size(static_cast<std::size_t>(len));
  return {};
}

std::error_code tcp_socket::remote_endpoint(endpoint& out) const noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::remote_endpoint");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  int len = static_cast<int>(endpoint::capacity);
  std::lock_guard lock(state_->mu);
  if (::getpeername(state_->sock, static_cast<sockaddr*>(out.data()), &len) != 0) {
    return map_os_error(::WSAGetLastError());
  }
  out.set_size(static_cast<std::size_t>(len));
  return {};
}

void async_recv(tcp_socket& sock, recv_op& op) noexcept {
  socket_state* s = detail::backend_access::state(sock);
  if (s == nullptr) return fail_unopened(op);
  start(
      detail::backend_access::owner(sock), s, op, &socket_state::read_op,
      [](socket_state& st, recv_op& o) {
        if (st.listener) {
          o.set_result(make_error_code(errc::not_connected), 0);
          return false;
        }
        // A zero-byte receive would read as end of stream; complete it as the no-op it is.
        if (o.buffer.size == 0) {
          o.set_result({}, 0);
          return false;
        }
        return true;
      },
      [](socket_state& st, recv_op& o) {
        // A buffer over 4 GiB is received in part: a receive may always return fewer bytes.
        WSABUF buf{static_cast<ULONG>(std::min<std::size_t>(o.buffer.size, ULONG_MAX)),
                   static_cast<char*>(o.buffer.data)};
        DWORD flags = 0;
        return pending_or(::WSARecv(st.sock, &buf, 1, nullptr, &flags,
                                    detail::fresh_overlapped(&o), nullptr));
      });
}

void async_send(tcp_socket& sock, send_op& op) noexcept {
  socket_state* s = detail::backend_access::state(sock);
  if (s == nullptr) return fail_unopened(op);
  op.sent_ = 0;
  start(
      detail::backend_access::owner(sock), s, op, &socket_state::write_op,
      [](socket_state& st, send_op& o) {
        if (st.listener || st.connecting) {
          o.set_result(make_error_code(errc::not_connected), 0);
          return false;
        }
        // Validated before any call: the WSABUF array has room for max_send_buffers.
        if (o.count > max_send_buffers || (o.count != 0 && o.buffers == nullptr)) {
          o.set_result(std::make_error_code(std::errc::invalid_argument), 0);
          return false;
        }
        std::size_t total = 0;
        for (std::size_t i = 0; i < o.count; ++i) total += o.buffers[i].size;
        if (total == 0) {
          o.set_result({}, 0);
          return false;
        }
        return true;
      },
      // issue_send counts the operation itself (it is also the continuation path), so the
      // start's own count is returned first.
      [](socket_state& st, send_op& o) {
        st.backend.io_not_started();
        return detail::issue_send(st, o);
      });
}

void tcp_listener::async_accept(accept_op& op) noexcept {
  socket_state* s = detail::backend_access::state(socket_);
  if (s == nullptr) return fail_unopened(op);
  start(
      detail::backend_access::owner(socket_), s, op, &socket_state::read_op,
      [](socket_state& st, accept_op& o) {
        if (!st.listener) {
          o.set_result(make_error_code(errc::not_supported), 0);
          return false;
        }
        // AcceptEx needs the accepting socket up front: open it now, on the same port.
        std::error_code ec;
        socket_state* peer = detail::open_socket(st.backend, st.family, false, ec);
        if (peer == nullptr) {
          o.set_result(ec, 0);
          return false;
        }
        o.peer = detail::backend_access::adopt(peer);
        return true;
      },
      [](socket_state& st, accept_op& o) {
        std::error_code ec;
        if (!detail::winsock().accept_ex(st.sock, detail::backend_access::state(o.peer)->sock, st.accept_addresses, 0,
                                         detail::accept_address_bytes,
                                         detail::accept_address_bytes, nullptr,
                                         detail::fresh_overlapped(&o))) {
          ec = pending_or(SOCKET_ERROR);
        }
        // On failure the peer is closed at once: no operation of its own is pending.
        if (ec) o.peer.close();
        return ec;
      });
}

void async_connect(io_port& p, connect_op& op) noexcept {
  native_backend& b = detail::backend_access::backend(p);
  op.socket.close();
  if (op.target.size() == 0) {
    op.set_result(make_error_code(errc::bad_address), 0);
    return b.post(&op);
  }
  std::error_code ec;
  socket_state* s = detail::open_socket(b, family_of(op.target), false, ec);
  if (s == nullptr) {
    op.set_result(ec, 0);
    return b.post(&op);
  }
  op.socket = detail::backend_access::adopt(s);
  // ConnectEx wants a bound socket: the wildcard address of the target's family, any port.
  endpoint any = *endpoint::parse(op.target.is_v6() ? "::" : "0.0.0.0", 0);
  if (::bind(s->sock, static_cast<const sockaddr*>(any.data()), static_cast<int>(any.size())) !=
      0) {
    op.set_result(map_os_error(::WSAGetLastError()), 0);
    return b.post(&op);
  }
  start(
      detail::backend_access::owner(op.socket), s, op, &socket_state::write_op,
      [](socket_state& st, connect_op&) {
        st.connecting = true;
        return true;
      },
      [](socket_state& st, connect_op& o) {
        std::error_code result;
        if (!detail::winsock().connect_ex(st.sock, static_cast<const sockaddr*>(o.target.data()),
                                          static_cast<int>(o.target.size()), nullptr, 0, nullptr,
                                          detail::fresh_overlapped(&o))) {
          result = pending_or(SOCKET_ERROR);
        }
        if (result) st.connecting = false;
        return result;
      });
}

std::error_code tcp_listener::open(io_port& p, const endpoint& at, int backlog) noexcept {
  close();
  if (at.size() == 0) return make_error_code(errc::bad_address);
  std::error_code ec;
  socket_state* s = detail::open_socket(detail::backend_access::backend(p), family_of(at), true, ec);
  if (s == nullptr) return ec;
  tcp_socket owned = detail::backend_access::adopt(s);
  // Windows' SO_REUSEADDR would let another socket steal a port in use; its default already
  // allows binding over connections in TIME_WAIT. SO_EXCLUSIVEADDRUSE refuses the theft, so a
  // taken port reports errc::address_in_use as on Linux.
  const BOOL one = TRUE;
  if (::setsockopt(s->sock, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, reinterpret_cast<const char*>(&one),
                   sizeof one) != 0 ||
      ::bind(s->sock, static_cast<const sockaddr*>(at.data()), static_cast<int>(at.size())) != 0 ||
      ::listen(s->sock, backlog) != 0) {
    return map_os_error(::WSAGetLastError());  // `owned` closes the socket
  }
  socket_ = std::move(owned);
  return {};
}

}  // namespace quay
