#pragma once
// Helpers for the socket tests: operations whose completion is recorded and can be waited for
// with a deadline, and a connected pair over loopback.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "quay/runtime/error.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::test {

using clock_type = std::chrono::steady_clock;
inline constexpr auto patience = std::chrono::seconds(20);

template <class Cond>
bool wait_until(Cond cond, std::chrono::milliseconds limit = patience) {
  const auto deadline = clock_type::now() + limit;
  while (!cond()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

/// An operation that records each completion: result, bytes, whether it ran on a worker and
/// on which thread.
template <class Op>
struct recorded : Op {
  explicit recorded(io_port& p) : Op(&on_run), port(&p) {}
  static void on_run(completion* self, std::error_code ec, std::size_t n) {
    auto* me = static_cast<recorded*>(self);
    me->ec = ec;
    me->bytes = n;
    me->on_worker = me->port->in_worker();
    me->thread = std::this_thread::get_id();
    if (me->then) me->then(ec, n);
    me->runs.fetch_add(1, std::memory_order_release);
  }
  /// Waits until the operation has completed `n` times in all.
  bool wait(int n = 1, std::chrono::milliseconds limit = patience) {
    return wait_until([&] { return runs.load(std::memory_order_acquire) >= n; }, limit);
  }
  io_port* port;
  std::error_code ec;
  std::size_t bytes = 0;
  bool on_worker = false;
  std::thread::id thread;
  std::function<void(std::error_code, std::size_t)> then;
  std::atomic<int> runs{0};
};

/// Sends `data` on `s` and waits for the send to complete; true if every byte went out.
inline bool send_all(io_port& p, tcp_socket& s, const std::string& data) {
  recorded<send_op> op(p);
  const const_buffer b{data.data(), data.size()};
  op.buffers = &b;
  op.count = 1;
  async_send(s, op);
  return op.wait() && !op.ec && op.bytes == data.size();
}

/// The outcome of one receive: whether it completed within its limit, its error, its bytes.
struct received {
  bool done = false;
  std::error_code ec;
  std::string bytes;
};

/// Receives once (up to 256 bytes) from `s`. A receive still pending at `limit` is aborted by
/// closing `s`, so it never outlives this call; `done` is then false.
inline received recv_once(io_port& p, tcp_socket& s, std::chrono::milliseconds limit = patience) {
  char buf[256];
  recorded<recv_op> r(p);
  r.buffer = {buf, sizeof buf};
  async_recv(s, r);
  received out;
  out.done = r.wait(1, limit);
  if (!out.done) {
    s.close();
    r.wait();
    return out;
  }
  out.ec = r.ec;
  out.bytes.assign(buf, r.bytes);
  return out;
}

/// A listener on loopback and a connected client/server pair.
struct connected_pair {
  tcp_listener listener;
  tcp_socket client;
  tcp_socket server;
};

/// Connects a pair over 127.0.0.1 (or ::1). Fails the calling test on error.
inline void connect_pair(io_port& p, bool v6, connected_pair& out) {
  const endpoint at = v6 ? endpoint::loopback_v6(0) : endpoint::loopback_v4(0);
  ASSERT_FALSE(out.listener.open(p, at));
  endpoint bound;
  ASSERT_FALSE(out.listener.local_endpoint(bound));
  ASSERT_NE(bound.port(), 0);
  recorded<accept_op> acc(p);
  out.listener.async_accept(acc);
  recorded<connect_op> con(p);
  con.target = bound;
  async_connect(p, con);
  ASSERT_TRUE(acc.wait());
  ASSERT_TRUE(con.wait());
  ASSERT_FALSE(acc.ec) << acc.ec.message();
  ASSERT_FALSE(con.ec) << con.ec.message();
  EXPECT_EQ(acc.peer_endpoint.is_v6(), v6);
  out.server = std::move(acc.peer);
  out.client = std::move(con.socket);
}

}  // namespace quay::test
