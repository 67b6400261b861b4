// bench_port: completion-port throughput and wake latency, Asio's io_context and quay::io_port
// side by side in one process run.
//
//   bench_port [--impl=both|asio|quay] [--threads=2] [--posts=N] [--hops=N] [--chains=N]
//              [--wake-samples=N] [--repeat=3] [--bound=seconds]
//
// With --repeat=R each implementation runs R times, alternating which goes first, and the
// median of each figure is printed (the raw runs follow as `runs=`): the machine is shared, so
// a single run is at the mercy of whatever else is running.

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "port_bench.hpp"

namespace qb = quay::bench;

namespace {

struct series {
  std::vector<double> outside, chain, p50, p99, outside_cpu, chain_cpu;
  void add(const qb::port_result& r) {
    outside.push_back(r.outside_per_s);
    chain.push_back(r.chain_per_s);
    outside_cpu.push_back(r.outside_cpu_ns);
    chain_cpu.push_back(r.chain_cpu_ns);
    p50.push_back(r.wake_p50_ns);
    p99.push_back(r.wake_p99_ns);
  }
};

std::string runs_of(const std::vector<double>& v, const char* key = "runs=") {
  std::string s = key;
  char buf[32];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.4g", i == 0 ? "" : ",", v[i]);
    s += buf;
  }
  return s;
}

// Prints the medians of one implementation; returns them for the ratios.
qb::port_result print(const char* impl, series& s) {
  qb::port_result m;
  // cpu_ns=: process CPU ns per completion of each run, the figure a loaded machine moves least.
  std::string r1 = runs_of(s.outside) + " " + runs_of(s.outside_cpu, "cpu_ns="),
              r2 = runs_of(s.chain) + " " + runs_of(s.chain_cpu, "cpu_ns="), r3 = runs_of(s.p50),
              r4 = runs_of(s.p99);
  m.outside_per_s = qb::percentile(s.outside, 0.5);
  m.chain_per_s = qb::percentile(s.chain, 0.5);
  m.wake_p50_ns = qb::percentile(s.p50, 0.5);
  m.wake_p99_ns = qb::percentile(s.p99, 0.5);
  qb::print_bench("post_outside", impl, m.outside_per_s, "completions/s", r1);
  qb::print_bench("post_from_workers", impl, m.chain_per_s, "completions/s", r2);
  qb::print_bench("wake_p50", impl, m.wake_p50_ns, "ns", r3);
  qb::print_bench("wake_p99", impl, m.wake_p99_ns, "ns", r4);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  qb::args a(argc, argv);
  qb::port_params p;
  std::string impl = a.get("impl", "both");
  p.threads = a.get_u64("threads", p.threads);
  p.outside_posts = a.get_u64("posts", p.outside_posts);
  p.chain_hops = a.get_u64("hops", p.chain_hops);
  p.chains = a.get_u64("chains", p.chains);
  p.wake_samples = a.get_u64("wake-samples", p.wake_samples);
  std::uint64_t repeat = a.get_u64("repeat", 3);
  double bound = a.get_double("bound", 600);
  if (!a.unknown().empty() || (impl != "both" && impl != "asio" && impl != "quay") ||
      p.threads == 0 || p.chains == 0 || p.outside_window == 0 || repeat == 0) {
    std::fprintf(stderr, "usage: bench_port [--impl=both|asio|quay] [--threads=N] [--posts=N] "
                         "[--hops=N] [--chains=N] [--wake-samples=N] [--repeat=N] [--bound=s]\n");
    return 2;
  }
#ifndef QUAY_BENCH_HAVE_IO_PORT
  if (impl != "asio") {
    std::fprintf(stderr, "bench_port: built without quay::io_port (runtime backend missing); "
                         "running the Asio side only\n");
    impl = "asio";
  }
#endif
  qb::time_bound guard(bound, [&] { qb::print_dnf("bench_port", impl, "-", bound, ""); });

  series asio_s, quay_s;
  std::vector<std::function<void()>> sides;
  if (impl != "quay") sides.push_back([&] { asio_s.add(qb::run_asio_port(p)); });
#ifdef QUAY_BENCH_HAVE_IO_PORT
  if (impl != "asio") sides.push_back([&] { quay_s.add(qb::run_quay_port(p)); });
#endif
  for (std::uint64_t r = 0; r < repeat; ++r) {
    // Alternate the order so that neither side always runs on a warmer (or busier) machine.
    if (r % 2 == 0) {
      for (auto& s : sides) s();
    } else {
      for (auto it = sides.rbegin(); it != sides.rend(); ++it) (*it)();
    }
  }
  qb::port_result ra, rq;
  if (!asio_s.outside.empty()) ra = print("asio", asio_s);
  if (!quay_s.outside.empty()) rq = print("quay", quay_s);
  if (!asio_s.outside.empty() && !quay_s.outside.empty()) {
    // Ratios against the anchor measured in this same process: > 1 means Quay is better.
    qb::print_bench("post_outside_ratio", "quay/asio", rq.outside_per_s / ra.outside_per_s, "x");
    qb::print_bench("post_from_workers_ratio", "quay/asio", rq.chain_per_s / ra.chain_per_s, "x");
    qb::print_bench("wake_p99_ratio", "asio/quay", ra.wake_p99_ns / rq.wake_p99_ns, "x");
  }
  guard.disarm();
  return 0;
}
