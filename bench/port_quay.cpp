// The Quay side of the port benchmark: quay::io_port with intrusive completions (no allocation
// per post; the post_fn convenience path is deliberately not used for throughput).

#include <quay/runtime/io_port.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "port_bench.hpp"

namespace quay::bench {
namespace {

io_port_options options_for(const port_params& p) {
  io_port_options o;
  o.workers = p.threads;
  o.name = "bench";
  return o;
}

// One reusable node of the outside-post workload. `busy` is set by the producer before a post
// and cleared by the run as its last action, so the producer never re-posts a node whose
// previous invocation has not started (the completion contract).
// One cache line per node: packed nodes put the producer (setting `busy` on node i) and a
// worker (clearing it on node i-1) on one line whenever the workers keep up, which made the
// figure swing with how far the workers trailed the producer (issue 18 item 11).
struct alignas(64) count_op final : completion {
  count_op() : completion(&run) {}
  static void run(completion* self, std::error_code, std::size_t) {
    auto* me = static_cast<count_op*>(self);
    me->counter->add();
    me->busy.store(false, std::memory_order_release);
  }
  sharded_counter* counter = nullptr;
  std::atomic<bool> busy{false};
};

double outside_posts(const port_params& p, double& cpu_ns) {
  io_port port(options_for(p));
  sharded_counter done;
  auto nodes = std::make_unique<count_op[]>(p.outside_window);
  for (std::size_t i = 0; i < p.outside_window; ++i) nodes[i].counter = &done;
  auto start = bench_clock::now();
  const stopwatch cpu;
  std::uint64_t done_seen = 0;
  for (std::uint64_t i = 0; i < p.outside_posts; ++i) {
    while (i - done_seen >= p.outside_window) {
      done_seen = done.sum();
      if (i - done_seen >= p.outside_window) std::this_thread::yield();
    }
    count_op& n = nodes[i % p.outside_window];
    // Completions finish out of order, so the window count alone does not free this node.
    while (n.busy.load(std::memory_order_acquire)) std::this_thread::yield();
    n.busy.store(true, std::memory_order_relaxed);
    port.post(&n);
  }
  while (done.sum() < p.outside_posts) std::this_thread::sleep_for(std::chrono::microseconds(20));
  double rate = static_cast<double>(p.outside_posts) / seconds_since(start);
  cpu_ns = cpu.cpu() * 1e9 / static_cast<double>(p.outside_posts);
  // The last counted node may still be inside run(); wait until every node is free again.
  for (std::size_t i = 0; i < p.outside_window; ++i) {
    while (nodes[i].busy.load(std::memory_order_acquire)) std::this_thread::yield();
  }
  port.stop();
  return rate;
}

// A chain re-posts its own node from inside its run: allowed, since that invocation started.
// One cache line per chain: packed, neighbouring chains run by different workers wrote the same
// line, and the figure swung with which worker happened to run which chain (issue 18 item 11).
struct alignas(64) chain_op final : completion {
  chain_op() : completion(&run) {}
  static void run(completion* self, std::error_code ec, std::size_t) {
    auto* me = static_cast<chain_op*>(self);
    if (ec || --me->remaining == 0) {
      if (me->chains_left->fetch_sub(1, std::memory_order_acq_rel) == 1) {
        me->chains_left->notify_all();
      }
      return;
    }
    me->port->post(me);
  }
  io_port* port = nullptr;
  std::uint64_t remaining = 0;
  std::atomic<std::size_t>* chains_left = nullptr;
};

double chain_posts(const port_params& p, double& cpu_ns) {
  io_port port(options_for(p));
  std::atomic<std::size_t> chains_left{p.chains};
  auto chains = std::make_unique<chain_op[]>(p.chains);
  std::uint64_t per_chain = p.chain_hops / p.chains;
  for (std::size_t i = 0; i < p.chains; ++i) {
    chains[i].port = &port;
    chains[i].remaining = per_chain;
    chains[i].chains_left = &chains_left;
  }
  auto start = bench_clock::now();
  const stopwatch cpu;
  for (std::size_t i = 0; i < p.chains; ++i) port.post(&chains[i]);
  for (auto left = chains_left.load(); left != 0; left = chains_left.load()) chains_left.wait(left);
  double rate = static_cast<double>(per_chain * p.chains) / seconds_since(start);
  cpu_ns = cpu.cpu() * 1e9 / static_cast<double>(per_chain * p.chains);
  port.stop();
  return rate;
}

struct wake_op final : completion {
  wake_op() : completion(&run) {}
  static void run(completion* self, std::error_code, std::size_t) {
    auto* me = static_cast<wake_op*>(self);
    me->samples->push_back(
        std::chrono::duration<double, std::nano>(bench_clock::now() - me->t0).count());
    me->ran.store(1, std::memory_order_release);
    me->ran.notify_one();
  }
  bench_clock::time_point t0;
  std::vector<double>* samples = nullptr;
  std::atomic<int> ran{0};
};

void wake_latency(const port_params& p, port_result& r) {
  io_port port(options_for(p));
  std::vector<double> samples;
  samples.reserve(p.wake_samples);
  wake_op op;
  op.samples = &samples;
  for (std::size_t i = 0; i < p.wake_samples; ++i) {
    std::this_thread::sleep_for(p.wake_gap);
    op.t0 = bench_clock::now();
    port.post(&op);
    op.ran.wait(0, std::memory_order_acquire);
    op.ran.store(0, std::memory_order_relaxed);
  }
  // notify_one() may still be touching `op` on the worker; stopping joins the workers first.
  port.stop();
  r.wake_p50_ns = percentile(samples, 0.50);
  r.wake_p99_ns = percentile(samples, 0.99);
}

}  // namespace

port_result run_quay_port(const port_params& p) {
  port_result r;
  r.outside_per_s = outside_posts(p, r.outside_cpu_ns);
  r.chain_per_s = chain_posts(p, r.chain_cpu_ns);
  wake_latency(p, r);
  return r;
}

}  // namespace quay::bench
