#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "payload_bytes.hpp"
#include "quay/cluster/sim_network.hpp"

namespace qc = quay::cluster;
using quay::millis;

namespace {
using quay::cluster::test::bytes_of;
using quay::cluster::test::value_of;
}  // namespace

TEST(sim_network, messages_from_one_sender_reach_a_subscriber_in_order_despite_random_delays) {
  qc::sim_network net(1, {0.0, millis{1}, millis{20}});
  const auto a = net.add_node(), b = net.add_node();
  std::vector<std::uint32_t> got;
  net.transport(b).subscribe("t.x", [&](qc::message&& m) { got.push_back(value_of(m.data)); });
  for (std::uint32_t i = 0; i < 500; ++i) ASSERT_FALSE(net.transport(a).publish("t.x", bytes_of(i)));
  ASSERT_TRUE(net.run_until([&] { return got.size() == 500; }, millis{2000}));
  for (std::uint32_t i = 0; i < 500; ++i) ASSERT_EQ(got[i], i);
}

TEST(sim_network, messages_from_two_senders_are_reordered_between_connections) {
  qc::sim_network net(2, {0.0, millis{1}, millis{20}});
  const auto a = net.add_node(), b = net.add_node(), c = net.add_node();
  std::vector<std::uint32_t> got;
  net.transport(c).subscribe("t.>", [&](qc::message&& m) { got.push_back(value_of(m.data)); });
  // a sends evens, b odds, alternately: with random per-hop delays the interleaving changes.
  for (std::uint32_t i = 0; i < 200; i += 2) {
    net.transport(a).publish("t.a", bytes_of(i));
    net.transport(b).publish("t.b", bytes_of(i + 1));
  }
  ASSERT_TRUE(net.run_until([&] { return got.size() == 200; }, millis{2000}));
  bool reordered = false;
  std::uint32_t last_even = 0, last_odd = 1;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != i) reordered = true;
    if (got[i] % 2 == 0) {
      if (got[i] != 0) {
        EXPECT_GT(got[i], last_even);
      }
      last_even = got[i];
    } else {
      if (got[i] != 1) {
        EXPECT_GT(got[i], last_odd);
      }
      last_odd = got[i];
    }
  }
  EXPECT_TRUE(reordered);
}

TEST(sim_network, a_node_does_not_receive_its_own_publishes) {
  qc::sim_network net(3);
  const auto a = net.add_node();
  int got = 0;
  net.transport(a).subscribe("t", [&](qc::message&&) { ++got; });
  net.transport(a).publish("t", bytes_of(1));
  net.run_for(millis{50});
  EXPECT_EQ(got, 0);
}

TEST(sim_network, a_request_nobody_serves_fails_with_no_responders_long_before_its_timeout) {
  qc::sim_network net(4);
  const auto a = net.add_node();
  net.add_node();
  std::error_code result;
  bool done = false;
  net.transport(a).request("svc.none", bytes_of(1), millis{5000}, [&](std::error_code ec, qc::message&&) {
    result = ec;
    done = true;
  });
  ASSERT_TRUE(net.run_until([&] { return done; }, millis{100}));
  EXPECT_EQ(result, qc::errc::no_responders);
  EXPECT_LT(net.now(), millis{20});
}

TEST(sim_network, a_request_gets_the_reply_of_its_responder_and_times_out_when_it_is_lost) {
  qc::sim_network net(5);
  const auto a = net.add_node(), b = net.add_node();
  auto& tb = net.transport(b);
  tb.subscribe("svc.echo", [&](qc::message&& m) { tb.publish(m.reply, m.data); });
  std::error_code result = qc::errc::closed;
  std::uint32_t got = 0;
  net.transport(a).request("svc.echo", bytes_of(77), millis{500}, [&](std::error_code ec, qc::message&& m) {
    result = ec;
    got = value_of(m.data);
  });
  ASSERT_TRUE(net.run_until([&] { return got == 77; }, millis{100}));
  EXPECT_FALSE(result);

  // The responder is cut off after the server routed the request: nothing comes back.
  bool timed_out = false;
  net.transport(a).request("svc.echo", bytes_of(1), millis{200}, [&](std::error_code ec, qc::message&&) {
    timed_out = ec == qc::errc::timed_out;
  });
  net.isolate(b, true);
  ASSERT_TRUE(net.run_until([&] { return timed_out; }, millis{400}));
}

TEST(sim_network, a_cut_node_reports_disconnected_then_reconnected_and_cannot_publish_meanwhile) {
  qc::sim_network net(6);
  const auto a = net.add_node();
  std::vector<qc::link_state> states;
  net.transport(a).on_state([&](qc::link_state s) { states.push_back(s); });
  net.isolate(a, true);
  net.run_for(millis{5});
  EXPECT_EQ(net.transport(a).publish("t", bytes_of(1)), qc::errc::disconnected);
  EXPECT_FALSE(net.transport(a).connected());
  net.isolate(a, false);
  net.run_for(millis{5});
  EXPECT_TRUE(net.transport(a).connected());
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0], qc::link_state::disconnected);
  EXPECT_EQ(states[1], qc::link_state::reconnected);
  EXPECT_EQ(net.transport(a).counters().reconnects, 1u);
  EXPECT_EQ(net.transport(a).counters().outbound_dropped, 1u);
}

TEST(sim_network, of_many_concurrent_compare_and_sets_on_one_revision_exactly_one_wins) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    qc::sim_network net(seed);
    std::vector<std::size_t> n;
    for (int i = 0; i < 5; ++i) n.push_back(net.add_node());
    std::uint64_t rev = 0;
    net.kv(n[0]).create("k", "alive", [&](std::error_code ec, qc::kv_entry&& e) {
      ASSERT_FALSE(ec);
      rev = e.revision;
    });
    ASSERT_TRUE(net.run_until([&] { return rev != 0; }, millis{100}));
    int won = 0, lost = 0;
    for (auto i : n) {
      net.kv(i).update("k", (std::string("dead by ") += std::to_string(i)), rev, [&](std::error_code ec, qc::kv_entry&&) {
        if (!ec) ++won;
        if (ec == qc::errc::wrong_revision) ++lost;
      });
    }
    ASSERT_TRUE(net.run_until([&] { return won + lost == 5; }, millis{100})) << "seed " << seed;
    EXPECT_EQ(won, 1) << "seed " << seed;
  }
}

TEST(sim_network, a_create_of_an_existing_key_is_refused) {
  qc::sim_network net(7);
  const auto a = net.add_node();
  std::vector<std::error_code> r;
  net.kv(a).create("k", "1", [&](std::error_code ec, qc::kv_entry&&) { r.push_back(ec); });
  net.run_for(millis{20});
  net.kv(a).create("k", "2", [&](std::error_code ec, qc::kv_entry&&) { r.push_back(ec); });
  net.run_for(millis{20});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[0]);
  EXPECT_EQ(r[1], qc::errc::key_exists);
}

namespace {
std::uint64_t chatter(std::uint64_t seed) {
  qc::sim_network net(seed, {0.1, millis{1}, millis{10}});
  std::vector<std::size_t> n;
  for (int i = 0; i < 4; ++i) n.push_back(net.add_node());
  for (auto i : n) net.transport(i).subscribe("c.>", [](qc::message&&) {});
  for (int round = 0; round < 50; ++round) {
    const auto from = n[net.random(n.size())];
    net.transport(from).publish((std::string("c.") += std::to_string(round)), bytes_of(static_cast<std::uint32_t>(round)));
    net.kv(from).create((std::string("k") += std::to_string(round % 7)), "v", [](std::error_code, qc::kv_entry&&) {});
    if (round == 20) net.isolate(n[1], true);
    if (round == 30) net.isolate(n[1], false);
    if (round == 40) net.crash(n[2]);
    net.run_for(millis{1 + static_cast<std::int64_t>(net.random(5))});
  }
  net.run_for(millis{100});
  return net.trace_hash();
}
}  // namespace

TEST(sim_network, the_same_seed_gives_the_same_trace_and_another_seed_another) {
  EXPECT_EQ(chatter(11), chatter(11));
  EXPECT_NE(chatter(11), chatter(12));
}
