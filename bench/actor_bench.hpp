#pragma once

// The actor benchmark: the workloads of issue 4, each written once for CAF 0.17 (the anchor)
// and once for the Quay actor SDK, run one at a time by `bench_actors`.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quay::bench {

/// CAF's two schedulers: work stealing (CAF's default) and one shared queue. The anchor is CAF's
/// better one per workload (`--impl=caf` runs both and reports the better).
enum class caf_policy { stealing, sharing };

/// Sizes of the actor workloads (the defaults are the figures).
struct actor_params {
  std::size_t threads = 2;                      ///< scheduler / port worker threads
  caf_policy policy = caf_policy::stealing;     ///< CAF's scheduler (the CAF side only)
  std::uint64_t pingpong_round_trips = 2'000'000;
  std::uint64_t fanout_messages = 1'000'000;
  std::uint64_t fanout_workers = 1'000;
  std::uint64_t spawn_actors = 1'000'000;
  std::uint64_t ring_size = 503;
  std::uint64_t ring_hops = 10'000'000;
  std::uint64_t skynet_leaves = 1'000'000;     ///< must be a power of 10
  std::uint64_t ask_round_trips = 200'000;
  std::uint64_t alloc_warmup = 20'000;         ///< round trips before counting starts
  std::uint64_t alloc_measured = 200'000;      ///< round trips counted
  std::uint64_t idle_actors = 100'000;
};

/// One printed figure.
struct figure {
  std::string name;
  double value = 0;
  std::string unit;
  std::string extra;  ///< free-form `key=value` details (sizes, raw times)
};

/// Progress of the running workload, printed with a DNF line if the time bound expires.
/// Written by the workload (any thread), read by the time-bound thread.
inline std::atomic<std::uint64_t> progress{0};

/// A one-shot signal from an actor to the measuring thread. Thread-safe.
class done_flag {
 public:
  void set() noexcept {
    v_.store(1, std::memory_order_release);
    v_.notify_all();
  }
  void wait() noexcept { v_.wait(0, std::memory_order_acquire); }

 private:
  std::atomic<int> v_{0};
};

/// Names of the workloads, in the order `--workload=all` runs them.
inline const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names{"pingpong", "fanout", "ring", "skynet", "ask",
                                              "spawn",    "alloc",  "idle"};
  return names;
}

/// The unit of a workload's headline figure (for DNF lines).
std::string workload_unit(const std::string& workload);

/// Runs one workload on CAF under `p.policy`; returns its figures. Throws std::runtime_error on
/// a wrong result.
std::vector<figure> run_caf(const std::string& workload, const actor_params& p);
/// Runs one workload on the Quay SDK (only built when the SDK exists: QUAY_BENCH_HAVE_ACTORS).
std::vector<figure> run_quay(const std::string& workload, const actor_params& p);

/// The expected skynet sum for `leaves` leaves numbered 0..leaves-1.
constexpr std::uint64_t skynet_expected(std::uint64_t leaves) {
  return leaves * (leaves - 1) / 2;
}

}  // namespace quay::bench
