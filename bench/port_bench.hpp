#pragma once

// The completion-port benchmark: the same three workloads run on standalone Asio's io_context
// and on quay::io_port, with the same number of worker threads, in one process.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace quay::bench {

/// Sizes of the port workloads.
struct port_params {
  /// Worker threads of the port under test (io_context::run threads for Asio).
  std::size_t threads = 2;
  /// Completions posted by one outside thread.
  std::uint64_t outside_posts = 10'000'000;
  /// Most completions posted from outside and not yet run; bounds memory on both sides.
  std::uint64_t outside_window = 65'536;
  /// Total completions run by the worker-posted chains (each completion posts the next).
  std::uint64_t chain_hops = 10'000'000;
  /// Independent chains running at once.
  std::size_t chains = 8;
  /// Wake-latency samples: post one completion into an idle pool, measure until it runs.
  std::size_t wake_samples = 2'000;
  /// Pause between wake samples, long enough for the workers to stop spinning and sleep.
  std::chrono::microseconds wake_gap{1'000};
};

/// Figures of one implementation.
struct port_result {
  double outside_per_s = 0;  ///< completions/s posted from one outside thread
  double chain_per_s = 0;    ///< completions/s posted by the workers themselves
  double wake_p50_ns = 0;    ///< post-to-run latency into an idle pool, median
  double wake_p99_ns = 0;    ///< post-to-run latency into an idle pool, 99th percentile
  /// Process CPU time (all threads) per completion in the two throughput workloads: on a shared
  /// machine the wall-clock rates swing with the share of the cores a run gets, these do not.
  double outside_cpu_ns = 0;
  double chain_cpu_ns = 0;
};

port_result run_asio_port(const port_params& p);
/// Only built when the runtime has its native backend (QUAY_BENCH_HAVE_IO_PORT).
port_result run_quay_port(const port_params& p);

}  // namespace quay::bench
