#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "quay/runtime/completion.hpp"
#include "quay/runtime/detail/owner_check.hpp"
#include "quay/runtime/platform.hpp"

namespace quay {

class io_port;

namespace detail {
class socket_state;
struct backend_access;
}

/// An IPv4 or IPv6 address and port. A value type; no OS headers in this header.
class endpoint {
 public:
  endpoint() = default;
  /// Parses a numeric address ("127.0.0.1", "::1"); nullopt if it is not one.
  static std::optional<endpoint> parse(std::string_view address, std::uint16_t port);
  static endpoint loopback_v4(std::uint16_t port);
  static endpoint loopback_v6(std::uint16_t port);

  bool is_v6() const noexcept;
  std::uint16_t port() const noexcept;
  std::string to_string() const;

  /// Raw sockaddr storage, for the backends.
  const void* data() const noexcept { return storage_; }
  void* data() noexcept { return storage_; }
  std::size_t size() const noexcept { return size_; }
  void set_size(std::size_t n) noexcept { size_ = static_cast<std::uint32_t>(n); }
  static constexpr std::size_t capacity = 28;  // sizeof(sockaddr_in6)

 private:
  alignas(8) unsigned char storage_[capacity]{};
  std::uint32_t size_ = 0;
};

/// A read-only byte range for a gather send.
struct const_buffer {
  const void* data = nullptr;
  std::size_t size = 0;
};
/// A writable byte range for a receive.
struct mutable_buffer {
  void* data = nullptr;
  std::size_t size = 0;
};

/// The most buffers one gather send may carry.
inline constexpr std::size_t max_send_buffers = 64;

/// A connected TCP socket. Move-only; owns the OS socket and the backend's state for it.
///
/// Thread contract: **owner only**, for every member and for async_recv / async_send on it.
/// The owner may call from any thread (an actor moving between workers, a session strand), but
/// serialises its calls: no two of them overlap in time on the same socket. Debug builds check
/// this and abort with the name of the call that overlapped (detail::owner_check). At most one
/// receive and one send may be pending at a time (a second start completes with
/// errc::already_started). Completions run on a worker, never inside the call that started the
/// operation (except on a socket that is not open: see async_recv).
class tcp_socket {
 public:
  tcp_socket() noexcept = default;
  /// Owner only (of both sockets). `other` is left closed.
  tcp_socket(tcp_socket&& other) noexcept;
  /// Owner only (of both sockets). Closes this socket first (see close()).
  tcp_socket& operator=(tcp_socket&& other) noexcept;
  tcp_socket(const tcp_socket&) = delete;
  tcp_socket& operator=(const tcp_socket&) = delete;
  /// Closes the socket (see close()). Owner only.
  ~tcp_socket();

  /// Owner only.
  bool is_open() const noexcept { return state_ != nullptr; }

  /// Closes the OS socket. Pending operations complete with errc::aborted (inline, on this
  /// thread, if the port is stopped: they may call this socket again). Idempotent. Owner only.
  void close() noexcept;
  /// Sends FIN after queued sends; receives continue until the peer closes. Owner only.
  std::error_code shutdown_send() noexcept;
  /// Closes with RST instead of FIN (SO_LINGER 0): for hostile peers and tests. Owner only.
  void reset() noexcept;

  /// Owner only.
  std::error_code set_no_delay(bool on) noexcept;
  /// Owner only.
  std::error_code local_endpoint(endpoint& out) const noexcept;
  /// Owner only.
  std::error_code remote_endpoint(endpoint& out) const noexcept;


 private:
  // The backends reach the state and the owner check through detail::backend_access
  // (runtime/src/backend_access.hpp); nothing above runtime/ sees them.
  friend struct detail::backend_access;
  explicit tcp_socket(detail::socket_state* s) noexcept : state_(s) {}
  detail::socket_state* state_ = nullptr;
  [[no_unique_address]] detail::owner_check owner_;
};

/// Receives into `buffer`. Completes with (no error, n > 0) when n bytes arrived,
/// errc::end_of_stream when the peer closed in order, or an error.
struct recv_op : completion {
  using completion::completion;
  mutable_buffer buffer;
};

/// Sends every byte of `buffers[0..count)` in order (a gather write; partial writes are
/// continued by the backend). Completes with the total bytes on success, or with an error and
/// the bytes known to have been sent.
struct send_op : completion {
  using completion::completion;
  const const_buffer* buffers = nullptr;
  std::size_t count = 0;
  // Progress, owned by the backend while the operation is pending.
  std::size_t sent_ = 0;
};

/// Accepts one connection. On success `peer` holds the new socket (non-blocking, registered
/// with the same port) and `peer_endpoint` its address.
struct accept_op : completion {
  using completion::completion;
  tcp_socket peer;
  endpoint peer_endpoint;
};

/// Connects `socket` (opened by async_connect) to `target`.
struct connect_op : completion {
  using completion::completion;
  tcp_socket socket;
  endpoint target;
};

/// Starts a receive. Errors that prevent starting are delivered through the completion too:
/// on a socket that is not open, inline (errc::not_connected); otherwise posted. Owner only.
void async_recv(tcp_socket& s, recv_op& op) noexcept;
/// Starts a gather send. Errors are delivered as for async_recv. Owner only.
void async_send(tcp_socket& s, send_op& op) noexcept;
/// Opens a socket into `op.socket` and starts connecting it to `op.target`.
void async_connect(io_port& p, connect_op& op) noexcept;

/// A listening TCP socket. Move-only.
///
/// Thread contract: owner only, as tcp_socket (Debug builds check it); at most one accept
/// pending at a time.
class tcp_listener {
 public:
  tcp_listener() noexcept = default;
  tcp_listener(tcp_listener&&) noexcept = default;
  tcp_listener& operator=(tcp_listener&&) noexcept = default;

  /// Binds and listens (SO_REUSEADDR; port 0 picks a free port). Returns an error value on
  /// failure.
  std::error_code open(io_port& p, const endpoint& at, int backlog = 1024) noexcept;
  bool is_open() const noexcept { return socket_.is_open(); }
  /// The bound address (with the real port when bound to port 0).
  std::error_code local_endpoint(endpoint& out) const noexcept { return socket_.local_endpoint(out); }
  /// Closes; a pending accept completes with errc::aborted.
  void close() noexcept { socket_.close(); }

  /// Starts accepting one connection.
  void async_accept(accept_op& op) noexcept;

  tcp_socket& socket() noexcept { return socket_; }

 private:
  tcp_socket socket_;
};

}  // namespace quay
