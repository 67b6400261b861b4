#pragma once
// Framed echo servers for bench_echo, all on 127.0.0.1 and one worker thread each (the bench
// pins the server to one core): Quay at the session level, Quay through an owner actor, and the
// anchors, standalone Asio and a hand-written epoll loop.

#include <cstdint>
#include <memory>

namespace quay::bench {

class echo_server {
 public:
  virtual ~echo_server() = default;
  /// The bound port on 127.0.0.1.
  virtual std::uint16_t port() const = 0;
  /// Sessions the server holds open now (for the idle-connection case).
  virtual std::size_t open_sessions() const = 0;
};

std::unique_ptr<echo_server> make_quay_session_echo();
std::unique_ptr<echo_server> make_quay_actor_echo();
/// The same two servers on a listener that accepts WebSocket too (the load generator upgrades).
std::unique_ptr<echo_server> make_quay_ws_session_echo();
std::unique_ptr<echo_server> make_quay_ws_actor_echo();
std::unique_ptr<echo_server> make_asio_echo();
std::unique_ptr<echo_server> make_epoll_echo();

}  // namespace quay::bench
