// The platform-neutral members of tcp_socket: ownership (move, destroy) and close. The backend
// closes the OS socket (detail::close_socket); everything that talks to the OS socket while it
// is open lives in backend/<platform>/*_socket.cpp.
#include <cstdlib>
#include <utility>

#include "quay/runtime/log.hpp"
#include "quay/runtime/socket.hpp"
#include "socket_close.hpp"

namespace quay {

tcp_socket::tcp_socket(tcp_socket&& other) noexcept {
  detail::owner_scope guard(other.owner_, "tcp_socket move");
  state_ = std::exchange(other.state_, nullptr);
}

tcp_socket& tcp_socket::operator=(tcp_socket&& other) noexcept {
  if (this != &other) {
    close();
    detail::owner_scope guard_this(owner_, "tcp_socket move assignment");
    detail::owner_scope guard_other(other.owner_, "tcp_socket move assignment");
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

tcp_socket::~tcp_socket() { close(); }

namespace {
// The check covers taking the state out of the socket, not the close itself: closing posts
// the pending operations aborted, which on a stopped port run inline and may call this socket
// again (a second close is a no-op), so no owner_scope is held across it.
detail::socket_state* take_state(detail::socket_state*& state, const detail::owner_check& c,
                                 const char* what) noexcept {
  detail::owner_scope guard(c, what);
  return std::exchange(state, nullptr);
}
}  // namespace

void tcp_socket::close() noexcept {
  if (detail::socket_state* s = take_state(state_, owner_, "tcp_socket::close")) {
    detail::close_socket(s, /*hard=*/false);
  }
}

void tcp_socket::reset() noexcept {
  if (detail::socket_state* s = take_state(state_, owner_, "tcp_socket::reset")) {
    detail::close_socket(s, /*hard=*/true);
  }
}

}  // namespace quay
