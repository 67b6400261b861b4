// The socket API of quay/runtime/socket.hpp on the epoll backend: starting operations.
//
// Every start takes the socket's mutex, tries the syscall at once (the common case on a busy
// server is that data or buffer space is already there) and, if it would block, parks the
// operation in the slot for the poller. An operation that finishes at once is still posted,
// never run inside the starting call, so its owner's state machine sees one order only.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "backend/epoll/epoll_backend.hpp"
#include "backend/epoll/epoll_socket_ops.hpp"
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

// Common start path for the read side (recv, accept) and the write side (send).
template <class Op, class Try>
void start(const detail::owner_check& owner, socket_state* s, Op& op,
           completion* socket_state::*slot, Try try_op) noexcept {
  native_backend& b = *s->backend;
  bool finished = true;
  {
    // Owner only; released before the post, which may run the completion inline (stopped port).
    detail::owner_scope guard(owner, "starting a socket operation");
    std::lock_guard lock(s->mu);
    if (b.closed()) {
      // Read under the mutex: stop()'s abort pass has seen (or will see) every parked op.
      op.set_result(make_error_code(errc::aborted), 0);
    } else if (s->*slot != nullptr) {
      op.set_result(make_error_code(errc::already_started), 0);
    } else if (!try_op(*s, op)) {
      s->*slot = &op;
      finished = false;
    }
  }
  if (finished) b.post(&op);
}

int family_of(const endpoint& e) { return e.is_v6() ? AF_INET6 : AF_INET; }

}  // namespace

std::error_code tcp_socket::shutdown_send() noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::shutdown_send");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  std::lock_guard lock(state_->mu);
  if (::shutdown(state_->fd, SHUT_WR) != 0) return map_os_error(errno);
  return {};
}

std::error_code tcp_socket::set_no_delay(bool on) noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::set_no_delay");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  const int value = on ? 1 : 0;
  std::lock_guard lock(state_->mu);
  if (::setsockopt(state_->fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) != 0) {
    return map_os_error(errno);
  }
  return {};
}

std::error_code tcp_socket::local_endpoint(endpoint& out) const noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::local_endpoint");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  socklen_t len = endpoint::capacity;
  std::lock_guard lock(state_->mu);
  if (::getsockname(state_->fd, static_cast<sockaddr*>(out.data()), &len) != 0) {
    return map_os_error(errno);
  }
  out.set_size(len);
  return {};
}

std::error_code tcp_socket::remote_endpoint(endpoint& out) const noexcept {
  detail::owner_scope owner(owner_, "tcp_socket::remote_endpoint");
  if (state_ == nullptr) return make_error_code(errc::not_connected);
  socklen_t len = endpoint::capacity;
  std::lock_guard lock(state_->mu);
  if (::getpeername(state_->fd, static_cast<sockaddr*>(out.data()), &len) != 0) {
    return map_os_error(errno);
  }
  out.set_size(len);
  return {};
}

void async_recv(tcp_socket& sock, recv_op& op) noexcept {
  socket_state* s = detail::backend_access::state(sock);
  if (s == nullptr) return fail_unopened(op);
  start(detail::backend_access::owner(sock), s, op, &socket_state::read_op, [](socket_state& st, recv_op& o) {
    if (st.listener) {
      o.set_result(make_error_code(errc::not_connected), 0);
      return true;
    }
    // Drained since the last read edge: the recv would only say EAGAIN, so park at once.
    if (!st.maybe_readable && o.buffer.size != 0) return false;
    return detail::try_recv(st, o);
  });
}

void async_send(tcp_socket& sock, send_op& op) noexcept {
  socket_state* s = detail::backend_access::state(sock);
  if (s == nullptr) return fail_unopened(op);
  op.sent_ = 0;
  auto try_op = [](socket_state& st, send_op& o) {
    if (st.listener || st.connecting) {
      o.set_result(make_error_code(errc::not_connected), 0);
      return true;
    }
    // Validated before any syscall: the iovec array has room for max_send_buffers.
    if (o.count > max_send_buffers || (o.count != 0 && o.buffers == nullptr)) {
      o.set_result(std::make_error_code(std::errc::invalid_argument), 0);
      return true;
    }
    return detail::try_send(st, o);
  };
  start(detail::backend_access::owner(sock), s, op, &socket_state::write_op, try_op);
}

void tcp_listener::async_accept(accept_op& op) noexcept {
  socket_state* s = detail::backend_access::state(socket_);
  if (s == nullptr) return fail_unopened(op);
  auto try_op = [](socket_state& st, accept_op& o) {
    if (!st.listener) {
      o.set_result(make_error_code(errc::not_supported), 0);
      return true;
    }
    return detail::try_accept(st, o);
  };
  start(detail::backend_access::owner(socket_), s, op, &socket_state::read_op, try_op);
}

void async_connect(io_port& p, connect_op& op) noexcept {
  native_backend& b = detail::backend_access::backend(p);
  op.socket.close();
  if (op.target.size() == 0) {
    op.set_result(make_error_code(errc::bad_address), 0);
    return b.post(&op);
  }
  const int fd = ::socket(family_of(op.target), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    op.set_result(map_os_error(errno), 0);
    return b.post(&op);
  }
  socket_state* s = b.sockets().allocate(b);
  if (s == nullptr) {
    ::close(fd);
    op.set_result(make_error_code(errc::too_many_files), 0);
    return b.post(&op);
  }
  bool finished = true;
  {
    std::lock_guard lock(s->mu);
    s->fd = fd;
    s->listener = false;
    s->maybe_readable = true;
    s->hangup_seen = false;
    op.socket = detail::backend_access::adopt(s);
    if (b.closed()) {
      op.set_result(make_error_code(errc::aborted), 0);
    } else {
      const int r = ::connect(fd, static_cast<const sockaddr*>(op.target.data()),
                              static_cast<socklen_t>(op.target.size()));
      // EINTR: the handshake continues in the background, exactly like EINPROGRESS.
      if (r == 0) {
        op.set_result({}, 0);
      } else if (errno == EINPROGRESS || errno == EINTR) {
        s->connecting = true;
        s->write_op = &op;
        finished = false;
      } else {
        op.set_result(map_os_error(errno), 0);
      }
      // Registered after connect(): an edge for the unconnected socket (EPOLLOUT|EPOLLHUP) is
      // never reported. Registration reports the current state, so a handshake that finished
      // in between is not missed; the poller waits on s->mu until the op is parked.
      if (const std::error_code ec = b.register_socket(*s)) {
        s->connecting = false;
        s->write_op = nullptr;
        op.set_result(ec, 0);
        finished = true;
      }
    }
  }
  if (finished) b.post(&op);
}

std::error_code tcp_listener::open(io_port& p, const endpoint& at, int backlog) noexcept {
  close();
  if (at.size() == 0) return make_error_code(errc::bad_address);
  const int fd = ::socket(family_of(at), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return map_os_error(errno);
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd, static_cast<const sockaddr*>(at.data()), static_cast<socklen_t>(at.size())) != 0 ||
      ::listen(fd, backlog) != 0) {
    const int err = errno;
    ::close(fd);
    return map_os_error(err);
  }
  std::error_code ec;
  socket_state* s = detail::adopt_socket(detail::backend_access::backend(p), fd, /*listener=*/true, ec);
  if (s == nullptr) return ec;
  socket_ = detail::backend_access::adopt(s);
  return {};
}

}  // namespace quay
