// The node-to-node message stream: codec, then the simulated network, then a real nats-server.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <vector>

#include "payload_bytes.hpp"
#include "cluster_test_support.hpp"
#include "nats_server.hpp"
#include "quay/cluster/nats_transport.hpp"
#include "quay/cluster/node_channel.hpp"
#include "quay/cluster/sim_network.hpp"
#include "quay/runtime/io_port.hpp"
#include "remote_envelope.hpp"

namespace qc = quay::cluster;
namespace qd = quay::cluster::detail;
using namespace std::chrono_literals;
using quay::millis;

namespace {
using quay::cluster::test::bytes_of;
using quay::cluster::test::value_of;
}  // namespace

TEST(remote_envelope, a_message_survives_encode_and_decode_and_every_truncation_is_refused) {
  qd::remote_header h{48, qc::node_id{1}, qc::node_id{2}, 7, 3, 9, 4, 42};
  std::vector<std::uint8_t> out;
  const auto payload = bytes_of(0xDEADBEEF);
  qd::encode(h, payload, out);
  qd::remote_header back;
  std::span<const std::uint8_t> p;
  ASSERT_EQ(qd::decode(out, 1024, back, p), qd::wire_fault::none);
  EXPECT_EQ(back.wire_id, 48);
  EXPECT_EQ(back.from_node, qc::node_id{1});
  EXPECT_EQ(back.to_node, qc::node_id{2});
  EXPECT_EQ(back.to_slot, 7u);
  EXPECT_EQ(back.to_generation, 3u);
  EXPECT_EQ(back.seq, 42u);
  EXPECT_EQ(std::vector<std::uint8_t>(p.begin(), p.end()), payload);
  for (std::size_t n = 0; n < out.size(); ++n) {
    EXPECT_NE(qd::decode(std::span(out.data(), n), 1024, back, p), qd::wire_fault::none) << n;
  }
  auto longer = out;
  longer.push_back(0);
  EXPECT_EQ(qd::decode(longer, 1024, back, p), qd::wire_fault::bad_field);
  EXPECT_EQ(qd::decode(out, 2, back, p), qd::wire_fault::oversized);
  std::mt19937_64 rng(19);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> junk(rng() % 128);
    for (auto& x : junk) x = static_cast<std::uint8_t>(rng());
    EXPECT_NE(qd::decode(junk, 1024, back, p), qd::wire_fault::none);
  }
}

namespace {
struct sim_pair {
  qc::sim_network net;
  std::size_t a, b;
  qc::node_channel ca, cb;
  std::vector<qc::remote_message> got;
  explicit sim_pair(std::uint64_t seed, qc::sim_faults f = {0.0, millis{1}, millis{20}})
      : net(seed, f), a(net.add_node()), b(net.add_node()),
        ca(net.port(a), net.transport(a), qc::node_id{1}, {"sim"}),
        cb(net.port(b), net.transport(b), qc::node_id{2}, {"sim"}) {
    ca.start([](qc::remote_message&&) {});
    cb.start([this](qc::remote_message&& m) { got.push_back(std::move(m)); });
  }
};
}  // namespace

TEST(node_channel, messages_from_several_actors_on_one_node_arrive_in_the_order_each_sent) {
  sim_pair s(1);
  const qc::remote_address to{qc::node_id{2}, 5, 1};
  constexpr std::uint32_t n = 3000;
  for (std::uint32_t i = 0; i < n; ++i) {
    const qc::remote_address from{qc::node_id{1}, i % 3, 1};  // three senders, interleaved
    ASSERT_FALSE(s.ca.send(from, to, 48, bytes_of(i)));
  }
  ASSERT_TRUE(s.net.run_until([&] { return s.got.size() == n; }, millis{5000}));
  std::map<std::uint32_t, std::uint32_t> last;
  for (std::uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(value_of(s.got[i].payload), i);  // the node's stream keeps the global order too
    EXPECT_EQ(s.got[i].from.slot, i % 3);
    EXPECT_EQ(s.got[i].to, to);
    EXPECT_EQ(s.got[i].wire_id, 48);
  }
  EXPECT_EQ(s.cb.counters().received, n);
}

TEST(node_channel, with_drops_delivery_is_at_most_once_in_order_and_every_loss_is_counted) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    sim_pair s(seed, {0.1, millis{1}, millis{10}});
    const qc::remote_address to{qc::node_id{2}, 5, 1}, from{qc::node_id{1}, 1, 1};
    constexpr std::uint32_t n = 500;
    for (std::uint32_t i = 0; i < n; ++i) ASSERT_FALSE(s.ca.send(from, to, 48, bytes_of(i)));
    s.net.run_for(millis{200});
    const auto c = s.cb.counters();
    std::uint32_t prev = 0;
    for (std::size_t k = 0; k < s.got.size(); ++k) {
      const auto v = value_of(s.got[k].payload);
      if (k > 0) {
        EXPECT_GT(v, prev) << "seed " << seed;
      }
      prev = v;
    }
    // The loss after the last delivered message is invisible to the receiver (no later number).
    const std::uint64_t tail = s.got.empty() ? n : n - 1 - value_of(s.got.back().payload);
    EXPECT_EQ(c.received + c.lost + tail, n) << "seed " << seed;
    EXPECT_GT(c.lost, 0u) << "seed " << seed;
  }
}

TEST(node_channel, a_replayed_message_is_not_delivered_twice_and_hostile_bytes_are_counted) {
  sim_pair s(3);
  const auto evil = s.net.add_node();
  auto& t = s.net.transport(evil);
  // Capture one real message off the wire, then replay it.
  std::vector<std::uint8_t> captured;
  t.subscribe(s.cb.subject_of(qc::node_id{2}), [&](qc::message&& m) { captured = m.data; });
  ASSERT_FALSE(s.ca.send({qc::node_id{1}, 1, 1}, {qc::node_id{2}, 5, 1}, 48, bytes_of(7)));
  ASSERT_TRUE(s.net.run_until([&] { return s.got.size() == 1 && !captured.empty(); }, millis{200}));
  const auto subject = s.cb.subject_of(qc::node_id{2});
  t.publish(subject, captured);  // replay: duplicate
  t.publish(subject, std::span(captured.data(), 20));  // truncated
  std::vector<std::uint8_t> junk(64, 0x33);
  t.publish(subject, junk);  // garbage
  std::vector<std::uint8_t> big((1 << 20) + 100, 1);
  t.publish(subject, big);  // oversized
  std::vector<std::uint8_t> misrouted;
  qd::encode({48, qc::node_id{9}, qc::node_id{3}, 1, 1, 1, 1, 1}, bytes_of(1), misrouted);
  t.publish(subject, misrouted);  // for another incarnation
  std::vector<std::uint8_t> as_self;
  qd::encode({48, qc::node_id{2}, qc::node_id{2}, 1, 1, 1, 1, 1}, bytes_of(1), as_self);
  t.publish(subject, as_self);  // claims to come from the receiver itself
  s.net.run_for(millis{100});
  const auto c = s.cb.counters();
  EXPECT_EQ(s.got.size(), 1u);
  EXPECT_EQ(c.duplicates, 1u);
  EXPECT_EQ(c.bad_payloads, 3u);
  EXPECT_EQ(c.misrouted, 2u);
}

TEST(node_channel, a_node_declared_dead_is_never_heard_again_and_oversized_sends_are_refused) {
  sim_pair s(4);
  s.cb.peer_down(qc::node_id{1});
  ASSERT_FALSE(s.ca.send({qc::node_id{1}, 1, 1}, {qc::node_id{2}, 5, 1}, 48, bytes_of(7)));
  s.net.run_for(millis{100});
  EXPECT_TRUE(s.got.empty());
  EXPECT_EQ(s.cb.counters().from_dead, 1u);
  std::vector<std::uint8_t> big((1 << 20) + 1, 0);
  EXPECT_EQ(s.ca.send({qc::node_id{1}, 1, 1}, {qc::node_id{2}, 5, 1}, 48, big), qc::errc::bad_payload);
  EXPECT_EQ(s.ca.counters().send_refused, 1u);
}

TEST(node_channel, over_real_nats_one_nodes_stream_stays_in_order_and_a_gone_node_fails_fast) {
  quay::test::nats_server server;
  quay::test::signal_board board;
  std::vector<std::uint32_t> got;
  std::error_code asked = qc::errc::closed;
  quay::io_port port({.workers = 2});
  std::error_code ec;
  auto ta = qc::nats_transport::connect(port, {.url = server.url()}, ec);
  auto tb = qc::nats_transport::connect(port, {.url = server.url()}, ec);
  ASSERT_TRUE(ta && tb);
  {
    qc::node_channel ca(port, *ta, qc::node_id{1}, {"n"}), cb(port, *tb, qc::node_id{2}, {"n"});
    ca.start([](qc::remote_message&&) {});
    cb.start([&](qc::remote_message&& m) { board.update([&] { got.push_back(value_of(m.payload)); }); });
    // The subscription is at the server once a request to it no longer gets no-responders.
    bool ready = false;
    for (int i = 0; i < 100 && !ready; ++i) {
      std::error_code r = qc::errc::closed;
      ta->request(cb.subject_of(qc::node_id{2}), bytes_of(0), millis{100},
                  [&](std::error_code e, qc::message&&) { board.update([&] { r = e; }); });
      board.wait([&] { return r != qc::errc::closed; }, 2s);
      ready = r != qc::errc::no_responders;
    }
    ASSERT_TRUE(ready);
    board.update([&] { got.clear(); });  // (the probes were not channel messages: counted bad)
    constexpr std::uint32_t n = 20000;
    for (std::uint32_t i = 0; i < n; ++i) {
      ASSERT_FALSE(ca.send({qc::node_id{1}, i % 4, 1}, {qc::node_id{2}, 5, 1}, 48, bytes_of(i)));
    }
    ASSERT_TRUE(board.wait([&] { return got.size() == n; }, 20s)) << got.size();
    for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(got[i], i);
    cb.stop();
    // The unsubscribe travels to the server on its own: wait (short probes) until the server
    // knows node 2's subject has no subscriber, so a request below cannot meet a subscription
    // that is going away (it would then wait for its timeout, correctly, but not fail fast).
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      std::error_code r = qc::errc::closed;
      ta->request(cb.subject_of(qc::node_id{2}), bytes_of(0), millis{100},
                  [&](std::error_code e, qc::message&&) { board.update([&] { r = e; }); });
      board.wait([&] { return r != qc::errc::closed; }, 2s);
      gone = r == qc::errc::no_responders;
    }
    ASSERT_TRUE(gone);
    // Node 2 is gone: a request to it fails at once, not at its 5 s timeout.
    const auto start = std::chrono::steady_clock::now();
    ta->request(cb.subject_of(qc::node_id{2}), bytes_of(0), millis{5000},
                [&](std::error_code e, qc::message&&) { board.update([&] { asked = e; }); });
    ASSERT_TRUE(board.wait([&] { return asked != qc::errc::closed; }, 6s));
    EXPECT_EQ(asked, qc::errc::no_responders);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  }
  ta->close();
  tb->close();
}
