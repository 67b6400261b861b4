// Socket syscalls of the epoll backend and the poller's side of them: what a readiness edge
// does to a slot's pending operations, close, and the abort pass of stop().
#include "backend/epoll/epoll_socket_ops.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "backend/epoll/epoll_backend.hpp"
#include "backend_access.hpp"
#include "quay/runtime/error.hpp"

namespace quay::detail {

bool try_recv(socket_state& s, recv_op& op) noexcept {
  // A zero-byte receive would read as end of stream; complete it as the no-op it is.
  if (op.buffer.size == 0) {
    op.set_result({}, 0);
    return true;
  }
  for (;;) {
    const ssize_t n = ::recv(s.fd, op.buffer.data, op.buffer.size, 0);
    if (n > 0) {
      // A stream socket returns less than asked only when its receive queue ran dry; what may
      // still wait behind it is an end of stream or error, whose edge set hangup_seen.
      if (static_cast<std::size_t>(n) < op.buffer.size && !s.hangup_seen) {
        s.maybe_readable = false;
      }
      op.set_result({}, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      op.set_result(make_error_code(errc::end_of_stream), 0);
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      s.maybe_readable = false;
      return false;
    }
    op.set_result(map_os_error(errno), 0);
    return true;
  }
}

bool try_send(socket_state& s, send_op& op) noexcept {
  // Not value-initialised: zero-filling all 64 entries (1 KiB) on every call, under the socket
  // mutex, cost more than the few entries a send uses. Only iov[0, count) is read by sendmsg,
  // and each of those is fully written below (op.count <= max_send_buffers is validated at the
  // start of the operation).
  std::array<iovec, max_send_buffers> iov;
  for (;;) {
    // Rebuild the iovec from the progress so far: a partial write may end inside a buffer.
    std::size_t skip = op.sent_;
    std::size_t count = 0;
    for (std::size_t i = 0; i < op.count; ++i) {
      const const_buffer& b = op.buffers[i];
      if (skip >= b.size) {
        skip -= b.size;
        continue;
      }
      iov[count].iov_base = const_cast<char*>(static_cast<const char*>(b.data) + skip);
      iov[count].iov_len = b.size - skip;
      skip = 0;
      ++count;
    }
    if (count == 0) {
      op.set_result({}, op.sent_);
      return true;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    // MSG_NOSIGNAL: a peer that reset must give EPIPE, not kill the process with SIGPIPE.
    const ssize_t n = ::sendmsg(s.fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      op.sent_ += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    op.set_result(map_os_error(errno), op.sent_);
    return true;
  }
}

bool try_accept(socket_state& s, accept_op& op) noexcept {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int fd = ::accept4(s.fd, reinterpret_cast<sockaddr*>(&addr), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      std::error_code ec;
      socket_state* peer = adopt_socket(*s.backend, fd, /*listener=*/false, ec);
      if (peer == nullptr) {
        op.set_result(ec, 0);
        return true;
      }
      op.peer = detail::backend_access::adopt(peer);
      const std::size_t n = std::min<std::size_t>(len, endpoint::capacity);
      std::memcpy(op.peer_endpoint.data(), &addr, n);
      op.peer_endpoint.set_size(n);
      op.set_result({}, 0);
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    op.set_result(map_os_error(errno), 0);
    return true;
  }
}

bool finish_connect(socket_state& s, connect_op& op) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    // A write edge with no error is not proof of a connection (an edge can be left over from
    // before connect() was called); getpeername tells whether the handshake finished.
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) {
      if (errno == ENOTCONN) return false;  // still connecting; the next edge finishes it
      err = errno;
    }
  }
  s.connecting = false;
  op.set_result(err == 0 ? std::error_code{} : map_os_error(err), 0);
  return true;
}

socket_state* adopt_socket(native_backend& b, int fd, bool listener, std::error_code& ec) noexcept {
  socket_state* s = b.sockets().allocate(b);
  if (s == nullptr) {
    ::close(fd);
    ec = make_error_code(errc::too_many_files);
    return nullptr;
  }
  std::lock_guard lock(s->mu);
  s->fd = fd;
  s->listener = listener;
  s->connecting = false;
  s->maybe_readable = true;
  s->hangup_seen = false;
  ec = b.register_socket(*s);
  if (ec) {
    ::close(fd);
    s->fd = -1;
    ++s->generation;
    b.sockets().release(s);
    return nullptr;
  }
  return s;
}

// epoll: pending operations are posted with errc::aborted, the descriptor is closed (with RST
// if `hard`), the generation bumped and the slot released.
void close_socket(socket_state* s, bool hard) noexcept {
  native_backend& b = *s->backend;
  std::array<completion*, 2> ops{};
  {
    std::lock_guard lock(s->mu);
    if (s->read_op != nullptr) {
      s->read_op->set_result(make_error_code(errc::aborted), 0);
      ops[0] = std::exchange(s->read_op, nullptr);
    }
    if (s->write_op != nullptr) {
      const std::size_t sent = s->connecting ? 0 : static_cast<send_op*>(s->write_op)->sent_;
      s->write_op->set_result(make_error_code(errc::aborted), sent);
      ops[1] = std::exchange(s->write_op, nullptr);
    }
    if (hard) {
      linger lg{};
      lg.l_onoff = 1;
      lg.l_linger = 0;
      ::setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    b.deregister_socket(s->fd);
    ::close(s->fd);
    s->fd = -1;
    s->listener = false;
    s->connecting = false;
    // Events already taken from epoll_wait for this descriptor carry the old generation and
    // are dropped by handle_socket_event, even once the slot holds another socket.
    ++s->generation;
  }
  for (completion* c : ops) {
    if (c != nullptr) b.post(c);
  }
  b.sockets().release(s);
}

void handle_socket_event(socket_state& s, std::uint32_t generation, std::uint32_t events,
                         std::vector<completion*>& done) {
  std::lock_guard lock(s.mu);
  if (s.generation != generation || s.fd < 0) return;  // stale: closed since epoll_wait
  // Errors and hang-ups wake both sides: the syscall then reports the condition.
  const bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0;
  const bool writable = (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0;
  if (readable) s.maybe_readable = true;  // even with no receive pending: the next start reads
  if ((events & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) s.hangup_seen = true;
  if (readable && s.read_op != nullptr) {
    const bool finished = s.listener ? try_accept(s, *static_cast<accept_op*>(s.read_op))
                                     : try_recv(s, *static_cast<recv_op*>(s.read_op));
    if (finished) done.push_back(std::exchange(s.read_op, nullptr));
  }
  if (writable && s.write_op != nullptr) {
    const bool finished = s.connecting ? finish_connect(s, *static_cast<connect_op*>(s.write_op))
                                       : try_send(s, *static_cast<send_op*>(s.write_op));
    if (finished) done.push_back(std::exchange(s.write_op, nullptr));
  }
}

void abort_socket_ops(socket_table& table, std::vector<completion*>& done) {
  const std::uint32_t n = table.size();
  for (std::uint32_t i = 0; i < n; ++i) {
    socket_state* s = table.at(i);
    std::lock_guard lock(s->mu);
    if (s->read_op != nullptr) {
      s->read_op->set_result(make_error_code(errc::aborted), 0);
      done.push_back(std::exchange(s->read_op, nullptr));
    }
    if (s->write_op != nullptr) {
      const std::size_t sent = s->connecting ? 0 : static_cast<send_op*>(s->write_op)->sent_;
      s->write_op->set_result(make_error_code(errc::aborted), sent);
      done.push_back(std::exchange(s->write_op, nullptr));
      s->connecting = false;
    }
  }
}

}  // namespace quay::detail
