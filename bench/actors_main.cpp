// bench_actors: one actor workload on one implementation per process, under a hard time bound.
//
//   bench_actors --impl=caf|quay --workload=pingpong|fanout|spawn|ring|skynet|ask|alloc|idle
//                [--threads=2] [--bound=seconds] [--n=<workload size>]
//
// One workload per process keeps the figures independent (a framework stuck past its bound is
// abandoned with _Exit, which would spoil anything after it in the same process).

#include <cstdio>
#include <exception>
#include <string>

#include "actor_bench.hpp"
#include "alloc_counter.hpp"
#include "bench_util.hpp"

namespace qb = quay::bench;

namespace quay::bench {

std::string workload_unit(const std::string& workload) {
  if (workload == "pingpong" || workload == "fanout") return "msgs/s";
  if (workload == "spawn") return "actors/s";
  if (workload == "ring") return "hops/s";
  if (workload == "skynet") return "ms";
  if (workload == "ask") return "ns/roundtrip";
  if (workload == "alloc") return "allocs/msg";
  if (workload == "idle") return "bytes";
  return "?";
}

}  // namespace quay::bench

namespace {

bool known_workload(const std::string& w) {
  for (const auto& n : qb::workload_names()) {
    if (n == w) return true;
  }
  return false;
}

// `--n` overrides the size of the chosen workload (for quick runs and bound checks).
void apply_size(qb::actor_params& p, const std::string& w, std::uint64_t n) {
  if (n == 0) return;
  if (w == "pingpong") p.pingpong_round_trips = n;
  if (w == "fanout") p.fanout_messages = n;
  if (w == "spawn") p.spawn_actors = n;
  if (w == "ring") p.ring_hops = n;
  if (w == "skynet") p.skynet_leaves = n;
  if (w == "ask") p.ask_round_trips = n;
  if (w == "alloc") p.alloc_measured = n;
  if (w == "idle") p.idle_actors = n;
}

}  // namespace

int main(int argc, char** argv) {
  qb::args a(argc, argv);
  std::string impl = a.get("impl", "");
  std::string workload = a.get("workload", "");
  qb::actor_params p;
  p.threads = a.get_u64("threads", p.threads);
  double bound = a.get_double("bound", 120);
  apply_size(p, workload, a.get_u64("n", 0));
  if (!a.unknown().empty() || (impl != "caf" && impl != "quay") || !known_workload(workload) ||
      p.threads == 0 || bound <= 0) {
    std::fprintf(stderr,
                 "usage: bench_actors --impl=caf|quay --workload=pingpong|fanout|spawn|ring|"
                 "skynet|ask|alloc|idle [--threads=2] [--bound=s] [--n=size]\n");
    return 2;
  }
#ifndef QUAY_BENCH_HAVE_ACTORS
  if (impl == "quay") {
    std::fprintf(stderr, "bench_actors: built without the Quay actor SDK\n");
    return 2;
  }
#endif
  if (workload == "skynet") {
    std::uint64_t l = p.skynet_leaves;
    while (l > 1 && l % 10 == 0) l /= 10;
    if (l != 1) {
      std::fprintf(stderr, "bench_actors: skynet leaves must be a power of 10\n");
      return 2;
    }
  }
  // Byte tracking changes what new/delete do, so it is chosen before anything is allocated
  // by the workload, and only for the workload that reports bytes.
  qb::alloc::tracking_bytes.store(workload == "idle");

  qb::time_bound guard(bound, [&] {
    qb::print_dnf(workload, impl, qb::workload_unit(workload), bound,
                  "progress=" + std::to_string(qb::progress.load()));
  });
  try {
    std::vector<qb::figure> figs;
    if (impl == "caf") {
      figs = qb::run_caf(workload, p);
    } else {
#ifdef QUAY_BENCH_HAVE_ACTORS
      figs = qb::run_quay(workload, p);
#endif
    }
    guard.disarm();
    for (const auto& f : figs) qb::print_bench(f.name, impl, f.value, f.unit, f.extra);
  } catch (const std::exception& e) {
    guard.disarm();
    std::fprintf(stderr, "bench_actors: %s\n", e.what());
    return 1;
  }
  return 0;
}
