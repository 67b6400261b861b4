// The NATS transport against a real nats-server started by the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "payload_bytes.hpp"
#include "cluster_test_support.hpp"
#include "nats_server.hpp"
#include "quay/cluster/nats_transport.hpp"
#include "quay/runtime/io_port.hpp"

namespace qc = quay::cluster;
using namespace std::chrono_literals;
using quay::millis;

namespace {
using quay::cluster::test::bytes_of;
using quay::cluster::test::value_of;

struct fixture : ::testing::Test {
  quay::test::nats_server server;
  quay::io_port port{{.workers = 2}};

  std::unique_ptr<qc::nats_transport> connect(qc::nats_options o = {}) {
    o.url = server.url();
    std::error_code ec;
    auto t = qc::nats_transport::connect(port, o, ec);
    EXPECT_TRUE(t) << ec.message();
    return t;
  }
};
}  // namespace

using nats_transport = fixture;

TEST_F(nats_transport, connecting_to_a_port_nobody_serves_fails_as_a_value) {
  std::error_code ec;
  auto t = qc::nats_transport::connect(port, {.url = "nats://127.0.0.1:1", .connect_timeout = millis{300}}, ec);
  EXPECT_FALSE(t);
  EXPECT_EQ(ec, qc::errc::disconnected);
}

TEST_F(nats_transport, messages_from_one_connection_arrive_in_order_on_a_worker) {
  // State the handlers touch is declared before the transports, so it outlives them.
  quay::test::signal_board board;
  std::vector<std::uint32_t> got;
  bool on_worker = true;
  auto a = connect(), b = connect();
  b->subscribe("t.order", [&](qc::message&& m) {
    const bool w = port.in_worker();
    board.update([&] {
      on_worker = on_worker && w;
      got.push_back(value_of(m.data));
    });
  });
  // The subscription reaches the server before the first publish: a request round trip on b.
  std::error_code flushed = qc::errc::closed;
  b->request("nobody.flush", bytes_of(0), millis{2000}, [&](std::error_code ec, qc::message&&) {
    board.update([&] { flushed = ec; });
  });
  ASSERT_TRUE(board.wait([&] { return flushed != qc::errc::closed; }, 5s));
  constexpr std::uint32_t n = 20000;
  for (std::uint32_t i = 0; i < n; ++i) ASSERT_FALSE(a->publish("t.order", bytes_of(i)));
  ASSERT_TRUE(board.wait([&] { return got.size() == n; }, 10s)) << got.size();
  for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(got[i], i);
  EXPECT_TRUE(on_worker);
  EXPECT_EQ(b->counters().received, n);
}

TEST_F(nats_transport, a_request_nobody_serves_fails_with_no_responders_long_before_its_timeout) {
  quay::test::signal_board board;
  std::error_code result = qc::errc::closed;
  std::chrono::steady_clock::duration took{};
  auto a = connect();
  const auto start = std::chrono::steady_clock::now();
  a->request("svc.none", bytes_of(1), millis{5000}, [&](std::error_code ec, qc::message&&) {
    board.update([&] {
      result = ec;
      took = std::chrono::steady_clock::now() - start;
    });
  });
  ASSERT_TRUE(board.wait([&] { return result != qc::errc::closed; }, 6s));
  EXPECT_EQ(result, qc::errc::no_responders);
  EXPECT_LT(took, 500ms);
}

TEST_F(nats_transport, a_request_gets_its_reply_and_one_to_a_silent_server_times_out) {
  quay::test::signal_board board;
  std::vector<std::pair<std::error_code, std::uint32_t>> got;
  std::error_code silent = qc::errc::closed;
  auto a = connect(), b = connect();
  auto* bp = b.get();
  b->subscribe("svc.echo", [bp](qc::message&& m) { bp->publish(m.reply, m.data); });
  b->subscribe("svc.silent", [](qc::message&&) {});
  // The first may race the subscriptions reaching the server: retry a bounded number of times.
  for (int attempt = 0; attempt < 50; ++attempt) {
    a->request("svc.echo", bytes_of(99), millis{1000}, [&](std::error_code e, qc::message&& m) {
      board.update([&] { got.push_back({e, value_of(m.data)}); });
    });
    ASSERT_TRUE(board.wait([&] { return got.size() == static_cast<std::size_t>(attempt + 1); }, 3s));
    if (!got.back().first) break;
  }
  ASSERT_FALSE(got.back().first);
  EXPECT_EQ(got.back().second, 99u);
  a->request("svc.silent", bytes_of(1), millis{200}, [&](std::error_code e, qc::message&&) {
    board.update([&] { silent = e; });
  });
  ASSERT_TRUE(board.wait([&] { return silent != qc::errc::closed; }, 3s));
  EXPECT_EQ(silent, qc::errc::timed_out);
}

TEST_F(nats_transport, a_full_outbound_queue_drops_and_counts_instead_of_blocking) {
  auto a = connect({.outbound_limit = 4});
  std::size_t refused = 0;
  constexpr std::size_t n = 50000;
  std::vector<std::uint8_t> payload(512, 7);
  for (std::size_t i = 0; i < n; ++i) {
    if (a->publish("t.flood", payload) == qc::errc::queue_full) ++refused;
  }
  EXPECT_GT(refused, 0u);
  // Every publish is either handed to the server or counted as dropped, eventually.
  quay::test::signal_board board;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto c = a->counters();
    if (c.published + c.outbound_dropped == n) break;
    board.wait([] { return false; }, 10ms);
  }
  const auto c = a->counters();
  EXPECT_EQ(c.published + c.outbound_dropped, n);
  EXPECT_EQ(c.outbound_dropped, refused);
}

TEST_F(nats_transport, after_a_server_restart_both_sides_reconnect_and_the_subscription_carries_on) {
  quay::test::signal_board board;
  std::vector<qc::link_state> states;
  std::size_t got = 0;
  auto a = connect(), b = connect();
  a->on_state([&](qc::link_state s) { board.update([&] { states.push_back(s); }); });
  b->subscribe("t.after", [&](qc::message&&) { board.update([&] { ++got; }); });
  server.restart();
  ASSERT_TRUE(board.wait([&] {
    return std::count(states.begin(), states.end(), qc::link_state::reconnected) >= 1;
  }, 10s));
  // b reconnects on its own schedule: publish until one gets through (bounded).
  bool through = false;
  for (int i = 0; i < 200 && !through; ++i) {
    a->publish("t.after", bytes_of(1));
    through = board.wait([&] { return got > 0; }, 50ms);
  }
  EXPECT_TRUE(through);
  EXPECT_GE(a->counters().reconnects, 1u);
  EXPECT_GE(a->counters().disconnects, 1u);
}
