// bench_port: completion-port throughput and wake latency, Asio's io_context and quay::io_port
// side by side in one process run.
//
//   bench_port [--impl=both|asio|quay] [--threads=2] [--posts=N] [--hops=N] [--chains=N]
//              [--wake-samples=N] [--bound=seconds]

#include <cstdio>
#include <string>

#include "bench_util.hpp"
#include "port_bench.hpp"

namespace qb = quay::bench;

namespace {

void print(const char* impl, const qb::port_result& r) {
  qb::print_bench("post_outside", impl, r.outside_per_s, "completions/s");
  qb::print_bench("post_from_workers", impl, r.chain_per_s, "completions/s");
  qb::print_bench("wake_p50", impl, r.wake_p50_ns, "ns");
  qb::print_bench("wake_p99", impl, r.wake_p99_ns, "ns");
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
  double bound = a.get_double("bound", 300);
  if (!a.unknown().empty() || (impl != "both" && impl != "asio" && impl != "quay") ||
      p.threads == 0 || p.chains == 0 || p.outside_window == 0) {
    std::fprintf(stderr, "usage: bench_port [--impl=both|asio|quay] [--threads=N] [--posts=N] "
                         "[--hops=N] [--chains=N] [--wake-samples=N] [--bound=s]\n");
    return 2;
  }
#ifndef QUAY_BENCH_HAVE_IO_PORT
  if (impl == "quay") {
    std::fprintf(stderr, "bench_port: built without quay::io_port (runtime backend missing)\n");
    return 2;
  }
#endif
  qb::time_bound guard(bound, [&] { qb::print_dnf("bench_port", impl, "-", bound, ""); });

  bool have_asio = false;
  qb::port_result ra;
  if (impl != "quay") {
    ra = qb::run_asio_port(p);
    have_asio = true;
    print("asio", ra);
  }
#ifdef QUAY_BENCH_HAVE_IO_PORT
  if (impl != "asio") {
    qb::port_result rq = qb::run_quay_port(p);
    print("quay", rq);
    if (have_asio) {
      // Ratios against the anchor measured in this same process: > 1 means Quay is better.
      qb::print_bench("post_outside_ratio", "quay/asio", rq.outside_per_s / ra.outside_per_s, "x");
      qb::print_bench("post_from_workers_ratio", "quay/asio", rq.chain_per_s / ra.chain_per_s,
                      "x");
      qb::print_bench("wake_p99_ratio", "asio/quay", ra.wake_p99_ns / rq.wake_p99_ns, "x");
    }
  }
#endif
  (void)have_asio;
  guard.disarm();
  return 0;
}
