// The Asio side of the port benchmark: io_context run by `threads` threads, asio::post of
// lambdas (Asio's own handler allocator recycles their memory).

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "port_bench.hpp"

namespace quay::bench {
namespace {

struct asio_pool {
  explicit asio_pool(std::size_t threads)
      : io(static_cast<int>(threads)), guard(asio::make_work_guard(io)) {
    for (std::size_t i = 0; i < threads; ++i) workers.emplace_back([this] { io.run(); });
  }
  ~asio_pool() {
    guard.reset();
    io.stop();
    for (auto& t : workers) t.join();
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::vector<std::thread> workers;
};

double outside_posts(const port_params& p, double& cpu_ns) {
  sharded_counter done;  // declared before the pool: it outlives the workers
  asio_pool pool(p.threads);
  auto start = bench_clock::now();
  const stopwatch cpu;
  std::uint64_t done_seen = 0;
  for (std::uint64_t i = 0; i < p.outside_posts; ++i) {
    // Keep at most `outside_window` in flight, as the Quay side must (it reuses its nodes).
    while (i - done_seen >= p.outside_window) {
      done_seen = done.sum();
      if (i - done_seen >= p.outside_window) std::this_thread::yield();
    }
    asio::post(pool.io, [&done] { done.add(); });
  }
  while (done.sum() < p.outside_posts) std::this_thread::sleep_for(std::chrono::microseconds(20));
  cpu_ns = cpu.cpu() * 1e9 / static_cast<double>(p.outside_posts);
  return static_cast<double>(p.outside_posts) / seconds_since(start);
}

// One cache line per chain, as on the Quay side (neighbouring chains run by different threads
// must not share a line).
struct alignas(64) chain_state {
  asio::io_context* io;
  std::uint64_t remaining;
  std::atomic<std::size_t>* chains_left;
};

void chain_step(chain_state* c) {
  if (--c->remaining == 0) {
    if (c->chains_left->fetch_sub(1, std::memory_order_acq_rel) == 1) c->chains_left->notify_all();
    return;
  }
  asio::post(*c->io, [c] { chain_step(c); });
}

double chain_posts(const port_params& p, double& cpu_ns) {
  std::atomic<std::size_t> chains_left{p.chains};
  std::vector<chain_state> chains(p.chains);
  asio_pool pool(p.threads);  // destroyed (workers joined) before the state above
  std::uint64_t per_chain = p.chain_hops / p.chains;
  for (auto& c : chains) c = chain_state{&pool.io, per_chain, &chains_left};
  auto start = bench_clock::now();
  const stopwatch cpu;
  for (auto& c : chains) {
    chain_state* cp = &c;
    asio::post(pool.io, [cp] { chain_step(cp); });
  }
  for (auto left = chains_left.load(); left != 0; left = chains_left.load()) chains_left.wait(left);
  cpu_ns = cpu.cpu() * 1e9 / static_cast<double>(per_chain * p.chains);
  return static_cast<double>(per_chain * p.chains) / seconds_since(start);
}

void wake_latency(const port_params& p, port_result& r) {
  std::vector<double> samples;
  samples.reserve(p.wake_samples);
  std::atomic<int> ran{0};
  asio_pool pool(p.threads);  // a worker may still be in notify_one() when the loop ends
  for (std::size_t i = 0; i < p.wake_samples; ++i) {
    std::this_thread::sleep_for(p.wake_gap);
    auto t0 = bench_clock::now();
    asio::post(pool.io, [&ran, &samples, t0] {
      samples.push_back(std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count());
      ran.store(1, std::memory_order_release);
      ran.notify_one();
    });
    ran.wait(0, std::memory_order_acquire);
    ran.store(0, std::memory_order_relaxed);
  }
  r.wake_p50_ns = percentile(samples, 0.50);
  r.wake_p99_ns = percentile(samples, 0.99);
}

}  // namespace

port_result run_asio_port(const port_params& p) {
  port_result r;
  r.outside_per_s = outside_posts(p, r.outside_cpu_ns);
  r.chain_per_s = chain_posts(p, r.chain_cpu_ns);
  wake_latency(p, r);
  return r;
}

}  // namespace quay::bench
