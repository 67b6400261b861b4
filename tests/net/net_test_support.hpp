#pragma once
// Shared pieces of the session tests: a port + actor system + network fixture, a raw client
// built on the runtime's own sockets (so hostile bytes can be sent as they are), an owner actor
// that echoes, and a recorder that tests wait on with deadlines.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "quay/actors/actors.hpp"
#include "quay/net/envelope.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::net::test {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using bytes = std::vector<std::byte>;

constexpr auto deadline_default = 10s;

/// Waits until `pred()` holds or `within` passes; returns pred(). Polls with a short wait on a
/// condition variable that recorders notify.
template <class Pred>
bool eventually(std::mutex& mu, std::condition_variable& cv, Pred pred,
                std::chrono::milliseconds within = deadline_default) {
  std::unique_lock lk(mu);
  return cv.wait_for(lk, within, pred);
}

/// Polls `pred` (which takes no lock of ours) until it holds or `within` passes.
template <class Pred>
bool poll_until(Pred pred, std::chrono::milliseconds within = deadline_default) {
  const auto end = clock::now() + within;
  while (clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

/// What owners saw, per session. Thread-safe.
struct recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<session_handle> accepted;
  std::map<std::uint32_t, std::error_code> closed;  // by slot
  std::vector<session_handle> closed_order;
  std::size_t frames = 0;

  void on_accepted(session_handle h) {
    std::lock_guard lk(mu);
    accepted.push_back(h);
    cv.notify_all();
  }
  void on_frame() {
    std::lock_guard lk(mu);
    ++frames;
    cv.notify_all();
  }
  void on_closed(session_handle h, std::error_code reason) {
    std::lock_guard lk(mu);
    closed[h.slot] = reason;
    closed_order.push_back(h);
    cv.notify_all();
  }
  std::size_t accepted_count() {
    std::lock_guard lk(mu);
    return accepted.size();
  }
  /// Waits for the n-th session close and returns its reason.
  std::optional<std::error_code> wait_closed(std::size_t nth = 1,
                                             std::chrono::milliseconds within = deadline_default) {
    std::unique_lock lk(mu);
    if (!cv.wait_for(lk, within, [&] { return closed_order.size() >= nth; })) return std::nullopt;
    return closed[closed_order[nth - 1].slot];
  }
  bool wait_accepted(std::size_t n, std::chrono::milliseconds within = deadline_default) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, within, [&] { return accepted.size() >= n; });
  }
};

/// An owner actor that echoes every frame back on its session, and reports to a recorder.
class echo_owner : public actor {
 public:
  echo_owner(network& n, recorder& r) : net_(n), rec_(r) {}
  static void define(handlers<echo_owner>& h) {
    h.on<&echo_owner::on_accepted>().on<&echo_owner::on_frame>().on<&echo_owner::on_closed>();
  }

 private:
  void on_accepted(const session_accepted& m) { rec_.on_accepted(m.session); }
  void on_frame(const session_frame& m) {
    rec_.on_frame();
    net_.send(m.session, m.data);
  }
  void on_closed(const session_closed& m) {
    rec_.on_closed(m.session, m.reason);
    stop();
  }
  network& net_;
  recorder& rec_;
};

/// An io_port (2 workers), an actor system and a network, torn down in the right order.
// An owner whose first frame blocks its worker until the test opens the gate, so its mailbox
// fills and the session pauses reading; every later frame is handled at once.
class gated_owner : public actor {
 public:
  struct gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    std::atomic<std::size_t> frames{0};
    void release() {
      {
        std::lock_guard lk(mu);
        open = true;
      }
      cv.notify_all();
    }
  };
  explicit gated_owner(gate& g) : gate_(g) {}
  static void define(handlers<gated_owner>& h) { h.on<&gated_owner::on_frame>(); }

 private:
  void on_frame(const session_frame&) {
    if (gate_.frames.fetch_add(1) == 0) {
      std::unique_lock lk(gate_.mu);
      gate_.cv.wait_for(lk, 20s, [&] { return gate_.open; });
    }
  }
  gate& gate_;
};

class net_fixture : public ::testing::Test {
 protected:
  net_fixture()
      : port_(io_port_options{.workers = 2, .blocking_threads = 1, .name = "nettest"}),
        system_(port_),
        net_(port_, &system_) {}
  ~net_fixture() override {
    net_.shutdown();
    port_.stop();
  }

  /// Listens on 127.0.0.1 with an echo_owner per session; returns the bound address.
  endpoint listen_echo(listen_options o = {}) {
    endpoint bound;
    const auto ec = net_.listen(
        o,
        [this](session_handle, const endpoint&) {
          return system_.spawn<echo_owner>(net_, rec_);
        },
        &bound);
    EXPECT_FALSE(ec) << ec.message();
    return bound;
  }

  io_port port_;
  actor_system system_;
  network net_;
  recorder rec_;
};

/// A blocking client on the runtime's sockets. Sends raw bytes; reads frames. Test thread only.
class raw_client {
 public:
  raw_client(io_port& p, const endpoint& target) {
    conn_.target = target;
    async_connect(p, conn_);
    connected_ = wait(conn_done_) && !conn_ec_;
    if (connected_) sock_ = std::move(conn_.socket);
  }
  ~raw_client() { sock_.close(); wait_idle(); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connected() const { return connected_; }

  /// Sends every byte; false on error or after the deadline.
  bool send(std::span<const std::byte> data) {
    const_buffer b{data.data(), data.size()};
    {
      std::lock_guard lk(mu_);
      send_done_ = false;
    }
    send_.buffers = &b;
    send_.count = 1;
    async_send(sock_, send_);
    return wait(send_done_) && !send_ec_;
  }
  bool send_frame(const frame& f) { return send(f.wire()); }

  /// Reads one frame's payload, or nullopt on error/close/deadline.
  std::optional<bytes> read_frame(std::chrono::milliseconds within = deadline_default) {
    bytes header;
    if (!read_exact(4, header, within)) return std::nullopt;
    const std::uint32_t len = read_frame_header(header.data());
    bytes payload;
    if (!read_exact(len, payload, within)) return std::nullopt;
    return payload;
  }

  /// Reads exactly `n` raw bytes, or nullopt on error/close/deadline.
  std::optional<bytes> read_bytes(std::size_t n, std::chrono::milliseconds within = deadline_default) {
    bytes out;
    if (!read_exact(n, out, within)) return std::nullopt;
    return out;
  }

  /// Reads until the server closes; returns the receive's final code (end_of_stream, reset,
  /// ...) or nullopt at the deadline. Bytes read meanwhile are dropped.
  std::optional<std::error_code> wait_closed(std::chrono::milliseconds within = deadline_default) {
    const auto end = clock::now() + within;
    for (;;) {
      bytes sink;
      std::error_code ec;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
      if (left <= 0ms) return std::nullopt;
      if (!recv_some(sink, ec, left)) return std::nullopt;
      if (ec) return ec;
    }
  }

  /// Appends what arrives next (bytes already read ahead first) to `out`; `ec` is set when the
  /// stream ended. False only at the deadline.
  bool read_some(bytes& out, std::error_code& ec, std::chrono::milliseconds within = deadline_default) {
    if (!pending_.empty()) {
      out.insert(out.end(), pending_.begin(), pending_.end());
      pending_.clear();
      return true;
    }
    return recv_some(out, ec, within);
  }

  void reset() { sock_.reset(); }
  void shutdown_send() { sock_.shutdown_send(); }

 private:
  template <class Op>
  struct op : Op {
    explicit op(raw_client* c, void (*fn)(completion*, std::error_code, std::size_t))
        : Op(fn), self(c) {}
    raw_client* self;
  };

  static void on_connect(completion* c, std::error_code ec, std::size_t) {
    auto* self = static_cast<op<connect_op>*>(c)->self;
    std::lock_guard lk(self->mu_);
    self->conn_ec_ = ec;
    self->conn_done_ = true;
    self->cv_.notify_all();
  }
  static void on_send(completion* c, std::error_code ec, std::size_t) {
    auto* self = static_cast<op<send_op>*>(c)->self;
    std::lock_guard lk(self->mu_);
    self->send_ec_ = ec;
    self->send_done_ = true;
    self->cv_.notify_all();
  }
  static void on_recv(completion* c, std::error_code ec, std::size_t n) {
    auto* self = static_cast<op<recv_op>*>(c)->self;
    std::lock_guard lk(self->mu_);
    self->recv_ec_ = ec;
    self->recv_n_ = n;
    self->recv_done_ = true;
    self->recv_busy_ = false;
    self->cv_.notify_all();
  }

  bool wait(bool& flag, std::chrono::milliseconds within = deadline_default) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, within, [&] { return flag; });
  }
  void wait_idle() {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, deadline_default, [&] { return !recv_busy_; });
  }

  // One receive into `buf_`; appends what arrived to `out`. False only at the deadline.
  bool recv_some(bytes& out, std::error_code& ec, std::chrono::milliseconds within) {
    {
      std::lock_guard lk(mu_);
      if (!recv_busy_) {
        recv_done_ = false;
        recv_busy_ = true;
        recv_.buffer = mutable_buffer{buf_.data(), buf_.size()};
        async_recv(sock_, recv_);
      }
    }
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, within, [&] { return recv_done_; })) return false;
    recv_done_ = false;
    ec = recv_ec_;
    out.insert(out.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(recv_n_));
    return true;
  }

  bool read_exact(std::size_t n, bytes& out, std::chrono::milliseconds within) {
    const auto end = clock::now() + within;
    while (pending_.size() < n) {
      std::error_code ec;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - clock::now());
      if (left <= 0ms || !recv_some(pending_, ec, left) || ec) return false;
    }
    out.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    return true;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  op<connect_op> conn_{this, &on_connect};
  op<send_op> send_{this, &on_send};
  op<recv_op> recv_{this, &on_recv};
  tcp_socket sock_;
  bool connected_ = false;
  bool conn_done_ = false, send_done_ = false, recv_done_ = false, recv_busy_ = false;
  std::error_code conn_ec_, send_ec_, recv_ec_;
  std::size_t recv_n_ = 0;
  std::array<std::byte, 64 * 1024> buf_{};
  bytes pending_;
};

/// A frame carrying `text` as its envelope payload under type `type`.
inline frame text_frame(std::uint16_t type, std::uint32_t seq, std::string_view text) {
  return encode_envelope(type, seq, std::as_bytes(std::span(text.data(), text.size())));
}

/// An echoed frame's envelope fields; type 0 if it is not an envelope.
struct decoded {
  std::uint16_t type = 0;
  std::uint32_t seq = 0;
  std::string text;
};
inline decoded decode(const bytes& payload) {
  // Copy into a frame (8-aligned storage), as the SDK does, before verifying.
  frame f = frame::copy_of(payload);
  envelope_view env;
  if (decode_envelope(f.payload(), env)) return {};
  return {env.type, env.seq,
          std::string(reinterpret_cast<const char*>(env.payload.data()), env.payload.size())};
}

}  // namespace quay::net::test
