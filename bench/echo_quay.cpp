// The Quay echo servers: (a) frames echoed by a session_handler on the worker that read them;
// (b) each frame delivered to the session's owner actor, which sends it back (the game's path).
// Both send the received frame itself back: it is a shared buffer, so nothing is copied again.
// The quay-ws variants are the same servers on a listener that also accepts WebSocket, driven
// by the load generator speaking WebSocket (issue 17's comparison with the TCP echo).
#include <atomic>

#include "echo_servers.hpp"
#include "quay/actors/actors.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/io_port.hpp"

namespace quay::bench {

namespace {

net::listen_options bench_listen_options(bool websocket) {
  net::listen_options o;
  o.protocols.websocket = websocket;
  o.max_connections = 100'000;
  o.session.max_frame_size = 1 << 20;
  o.session.idle_timeout = std::chrono::milliseconds(0);
  o.session.heartbeat_interval = std::chrono::milliseconds(0);
  o.session.send_high_water = 64 << 20;
  return o;
}

io_port_options one_worker() {
  io_port_options o;
  o.workers = 1;
  o.blocking_threads = 1;
  o.name = "echo";
  return o;
}

class session_echo final : public echo_server, private net::session_handler {
 public:
  explicit session_echo(bool websocket) : port_(one_worker()), net_(port_, nullptr) {
    endpoint bound;
    net_.listen(bench_listen_options(websocket), *this, &bound);
    bound_ = bound.port();
  }
  ~session_echo() override {
    net_.shutdown();
    port_.stop();
  }
  std::uint16_t port() const override { return bound_; }
  std::size_t open_sessions() const override { return net_.stats().open_sessions; }

 private:
  void on_accepted(net::session_handle, const endpoint&) override {}
  void on_frame(net::session_handle s, const net::frame& data, const net::envelope_view&) override {
    net_.send(s, data);
  }
  void on_closed(net::session_handle, std::error_code) override {}

  io_port port_;
  net::network net_;
  std::uint16_t bound_ = 0;
};

class echo_actor : public actor {
 public:
  explicit echo_actor(net::network& n) : net_(n) {}
  static void define(handlers<echo_actor>& h) {
    h.on<&echo_actor::on_frame>().on<&echo_actor::on_closed>();
  }

 private:
  void on_frame(const net::session_frame& m) { net_.send(m.session, m.data); }
  void on_closed(const net::session_closed&) { stop(); }
  net::network& net_;
};

class actor_echo final : public echo_server {
 public:
  explicit actor_echo(bool websocket) : port_(one_worker()), system_(port_), net_(port_, &system_) {
    endpoint bound;
    net_.listen(
        bench_listen_options(websocket),
        [this](net::session_handle, const endpoint&) { return system_.spawn<echo_actor>(net_); },
        &bound);
    bound_ = bound.port();
  }
  ~actor_echo() override {
    net_.shutdown();
    port_.stop();
  }
  std::uint16_t port() const override { return bound_; }
  std::size_t open_sessions() const override { return net_.stats().open_sessions; }

 private:
  io_port port_;
  actor_system system_;
  net::network net_;
  std::uint16_t bound_ = 0;
};

}  // namespace

std::unique_ptr<echo_server> make_quay_session_echo() { return std::make_unique<session_echo>(false); }
std::unique_ptr<echo_server> make_quay_actor_echo() { return std::make_unique<actor_echo>(false); }
std::unique_ptr<echo_server> make_quay_ws_session_echo() {
  return std::make_unique<session_echo>(true);
}
std::unique_ptr<echo_server> make_quay_ws_actor_echo() { return std::make_unique<actor_echo>(true); }

}  // namespace quay::bench
