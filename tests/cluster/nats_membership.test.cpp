// Membership over a real nats-server and JetStream key-value: nodes in this process and one
// node in a child process (cluster_node), killed with SIGKILL.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster_test_support.hpp"
#include "membership_wire.hpp"
#include "nats_server.hpp"
#include "quay/cluster/membership.hpp"
#include "quay/cluster/nats_transport.hpp"
#include "quay/runtime/io_port.hpp"

namespace qc = quay::cluster;
using namespace std::chrono_literals;
using quay::millis;

namespace {

constexpr millis beat{100};
const std::string cluster_name = "t";

qc::membership_options fast() {
  qc::membership_options o;
  o.cluster = cluster_name;
  o.heartbeat = beat;
  return o;  // suspect after 3, declared after 5 beats
}

// What every in-process node saw; declared before the nodes so it outlives their handlers.
struct observed {
  quay::test::signal_board board;
  std::map<std::size_t, std::set<std::uint64_t>> up, down;
  std::set<std::size_t> fenced;
};

struct node {
  std::unique_ptr<qc::nats_transport> t;
  std::unique_ptr<qc::kv_store> kv;
  std::unique_ptr<qc::membership> m;
  qc::node_id id;
  ~node() {
    if (m) m->stop();
    if (kv) kv->close();
    if (t) t->close();
  }
};

struct fixture : ::testing::Test {
  quay::test::nats_server server;
  observed seen;
  quay::io_port port{{.workers = 2}};
  std::vector<std::unique_ptr<node>> nodes;

  void TearDown() override { nodes.clear(); }

  std::unique_ptr<qc::nats_transport> connect() {
    std::error_code ec;
    auto t = qc::nats_transport::connect(port, {.url = server.url()}, ec);
    EXPECT_TRUE(t) << ec.message();
    return t;
  }

  std::size_t add_node() {
    const std::size_t i = nodes.size();
    auto n = std::make_unique<node>();
    n->t = connect();
    std::error_code ec;
    n->kv = n->t->open_kv("quay_" + cluster_name, ec);
    EXPECT_TRUE(n->kv) << ec.message();
    n->id = qc::new_incarnation();
    n->m = std::make_unique<qc::membership>(port, *n->t, *n->kv, n->id, fast());
    n->m->on_peer([this, i](qc::node_id id, qc::peer_event e) {
      seen.board.update([&] {
        if (e == qc::peer_event::up) seen.up[i].insert(id.value);
        if (e == qc::peer_event::down) seen.down[i].insert(id.value);
      });
    });
    n->m->on_fenced([this, i] { seen.board.update([&] { seen.fenced.insert(i); }); });
    std::error_code started = qc::errc::closed;
    bool done = false;
    n->m->start([&](std::error_code e) {
      seen.board.update([&] {
        started = e;
        done = true;
      });
    });
    EXPECT_TRUE(seen.board.wait([&] { return done; }, 5s));
    EXPECT_FALSE(started) << started.message();
    nodes.push_back(std::move(n));
    return i;
  }

  bool everyone_sees(std::size_t i, qc::node_id id) {
    return seen.up[i].count(id.value) && !seen.down[i].count(id.value);
  }
};

// A child process running cluster_node; killed and reaped by the test.
struct child_node {
  pid_t pid = -1;
  int out = -1;
  qc::node_id id;

  bool start(const std::string& url) {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::execl(QUAY_CLUSTER_NODE, QUAY_CLUSTER_NODE, url.c_str(), cluster_name.c_str(),
              std::to_string(beat.count()).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    out = fds[0];
    // "node <16 hex>\n": read with a bounded wait.
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      fd_set set;
      FD_ZERO(&set);
      FD_SET(out, &set);
      timeval tv{0, 100'000};
      if (::select(out + 1, &set, nullptr, nullptr, &tv) > 0) {
        char buf[64];
        const auto n = ::read(out, buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
      }
    }
    if (line.rfind("node ", 0) != 0 || line.size() < 21) return false;
    const auto parsed = qc::parse_node_id(line.substr(5, 16));
    if (!parsed) return false;
    id = *parsed;
    return true;
  }
  void kill9() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~child_node() {
    kill9();
    if (out >= 0) ::close(out);
  }
};

}  // namespace

using nats_membership = fixture;

TEST_F(nats_membership, three_nodes_on_one_server_come_up_and_see_each_other) {
  for (int i = 0; i < 3; ++i) add_node();
  ASSERT_TRUE(seen.board.wait([&] {
    for (std::size_t i = 0; i < 3; ++i) {
      for (std::size_t j = 0; j < 3; ++j) {
        if (i != j && !everyone_sees(i, nodes[j]->id)) return false;
      }
    }
    return true;
  }, 5s));
  for (auto& n : nodes) EXPECT_EQ(n->m->peers().size(), 2u);
}

TEST_F(nats_membership, a_node_process_killed_with_sigkill_is_declared_dead_within_the_bound) {
  add_node();
  add_node();
  child_node child;
  ASSERT_TRUE(child.start(server.url()));
  ASSERT_TRUE(seen.board.wait([&] { return everyone_sees(0, child.id) && everyone_sees(1, child.id); }, 5s));
  const auto killed = std::chrono::steady_clock::now();
  child.kill9();
  // Bound: 5 silent beats, one more tick to notice, a few kv round trips: 0.6 s + slack.
  const auto bound = beat * 7 + 500ms;
  ASSERT_TRUE(seen.board.wait([&] { return seen.down[0].count(child.id.value) && seen.down[1].count(child.id.value); },
                              bound * 3));
  const auto took = std::chrono::steady_clock::now() - killed;
  std::printf("declared dead %lld ms after SIGKILL (bound %lld ms)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(bound).count()));
  EXPECT_LT(took, bound) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  // The watchers may hear of the death before the winner's own kv reply is back.
  EXPECT_TRUE(seen.board.poll([&] {
    return nodes[0]->m->counters().declared + nodes[1]->m->counters().declared == 1;
  }, 2s));
  seen.board.poll([] { return false; }, beat * 2);
  EXPECT_EQ(nodes[0]->m->counters().declared + nodes[1]->m->counters().declared, 1u);
  EXPECT_TRUE(seen.fenced.empty());
}

TEST_F(nats_membership, a_node_declared_dead_behind_its_back_fences_itself) {
  add_node();
  add_node();
  ASSERT_TRUE(seen.board.wait([&] { return everyone_sees(0, nodes[1]->id); }, 5s));
  // An operator (or a peer that judged it) moves its key to dead with one CAS.
  std::error_code ec;
  auto other = connect();
  auto kv = other->open_kv("quay_" + cluster_name, ec);
  ASSERT_TRUE(kv);
  quay::test::signal_board b;
  std::uint64_t rev = 0;
  bool updated = false;
  const std::string key = "node." + qc::to_string(nodes[1]->id);
  kv->get(key, [&](std::error_code e, qc::kv_entry&& entry) {
    b.update([&] { rev = e ? 1 : entry.revision; });
  });
  ASSERT_TRUE(b.wait([&] { return rev != 0; }, 5s));
  kv->update(key, "dead by operator", rev, [&](std::error_code e, qc::kv_entry&&) {
    b.update([&] { updated = !e; });
  });
  ASSERT_TRUE(b.wait([&] { return updated; }, 5s));
  ASSERT_TRUE(seen.board.wait([&] { return seen.fenced.count(1) == 1; }, 3s));
  EXPECT_TRUE(nodes[1]->m->fenced());
  ASSERT_TRUE(seen.board.wait([&] { return seen.down[0].count(nodes[1]->id.value) == 1; }, 3s));
  kv->close();
  other->close();
}

TEST_F(nats_membership, after_a_server_restart_mid_run_the_nodes_reconnect_and_nobody_is_declared_dead) {
  add_node();
  add_node();
  add_node();
  ASSERT_TRUE(seen.board.wait([&] {
    return everyone_sees(0, nodes[1]->id) && everyone_sees(1, nodes[0]->id) &&
           everyone_sees(0, nodes[2]->id) && everyone_sees(1, nodes[2]->id);
  }, 5s));
  const auto before = nodes[0]->m->counters().beats_received;
  server.restart();
  // All reconnect; beats flow again.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool flowing = false;
  while (!flowing && std::chrono::steady_clock::now() < deadline) {
    seen.board.poll([] { return false; }, 50ms);
    flowing = nodes[0]->t->counters().reconnects >= 1 && nodes[1]->t->counters().reconnects >= 1 &&
              nodes[0]->m->counters().beats_received > before + 5;
  }
  EXPECT_TRUE(flowing);
  // A while longer than the declaration bound: nobody was declared, nobody fenced.
  seen.board.poll([] { return false; }, beat * 8);
  EXPECT_TRUE(seen.fenced.empty());
  EXPECT_TRUE(seen.down[0].empty());
  EXPECT_TRUE(seen.down[1].empty());
  EXPECT_EQ(nodes[0]->m->peers().size(), 2u);
  // The key-value store works after the restart: node 2 goes silent, and the others declare it
  // dead (one compare-and-set on the restarted server's bucket) and both hear of it.
  nodes[2]->m->stop();
  ASSERT_TRUE(seen.board.wait([&] {
    return seen.down[0].count(nodes[2]->id.value) && seen.down[1].count(nodes[2]->id.value);
  }, beat * 7 + 2s));
}

TEST_F(nats_membership, garbage_truncated_oversized_and_forged_beats_from_a_hostile_peer_are_counted) {
  add_node();
  add_node();
  ASSERT_TRUE(seen.board.wait([&] { return everyone_sees(0, nodes[1]->id); }, 5s));
  auto evil = connect();
  const std::string subj = "quay.cluster." + cluster_name + ".beat.";
  const auto victim = qc::to_string(nodes[1]->id);
  std::vector<std::uint8_t> junk(100, 0x5A);
  evil->publish(subj + victim, junk);
  auto good = qc::detail::encode({qc::detail::beat_kind::heartbeat, nodes[1]->id, 1, 100});
  evil->publish(subj + victim, std::span(good.data(), 10));
  std::vector<std::uint8_t> big(512 * 1024, 1);
  evil->publish(subj + victim, big);
  auto forged = qc::detail::encode({qc::detail::beat_kind::heartbeat, qc::node_id{0xBAD}, 1, 100});
  evil->publish(subj + qc::to_string(qc::node_id{0xBAD}), forged);
  evil->publish(subj + "zz", forged);
  ASSERT_TRUE(seen.board.poll([&] {
    const auto c = nodes[0]->m->counters();
    return c.bad_payloads >= 3 && c.forged >= 2;
  }, 5s));
  EXPECT_TRUE(seen.fenced.empty());
  EXPECT_EQ(nodes[0]->m->peers().size(), 1u);
  evil->close();
}
