#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "quay/cluster/transport.hpp"
#include "quay/runtime/manual_port.hpp"

namespace quay::cluster {

/// Faults the simulated network injects, drawn from its seeded generator.
struct sim_faults {
  /// Chance that one delivery (a message to one subscriber, a kv reply) is lost.
  double drop = 0.0;
  /// Each hop takes a delay drawn uniformly from [min_delay, max_delay] (virtual time).
  millis min_delay{1};
  millis max_delay{5};
};

/// An in-memory NATS for tests: several nodes in one process, each with its own manual_port,
/// transport and view of one key-value bucket, driven by one seeded scheduler in virtual time.
///
/// Every hop goes through a "server" as NATS does: a publish reaches each matching subscription
/// of the other live, connected nodes after its own random delay, unless dropped, so messages
/// are reordered between connections but never within one (one sender to one receiver stays
/// FIFO, as on NATS). Key-value operations reach the bucket after a delay and apply there in
/// arrival order (a compare-and-set has one winner); changes reach watchers the same way.
/// Nodes can be crashed (never run again, their subscriptions vanish) and cut off from the
/// server and healed (their transport reports disconnected, then reconnected).
///
/// Determinism: everything runs on the calling thread; the same seed and the same calls give
/// the same trace (trace_hash()). Thread contract: one thread only, the test's.
class sim_network {
 public:
  explicit sim_network(std::uint64_t seed, sim_faults faults = {});
  ~sim_network();
  sim_network(const sim_network&) = delete;
  sim_network& operator=(const sim_network&) = delete;

  /// Adds a connected node; returns its index (0, 1, ...).
  std::size_t add_node();
  std::size_t size() const noexcept;

  manual_port& port(std::size_t node);
  cluster::transport& transport(std::size_t node);
  kv_store& kv(std::size_t node);

  /// The node stops: its port is never stepped again, nothing reaches it or leaves it.
  void crash(std::size_t node);
  bool crashed(std::size_t node) const;
  /// Cuts the node off from the server (true) or heals the cut (false).
  void isolate(std::size_t node, bool cut);

  /// Runs in virtual time for `d`: ready completions of the live nodes in a seeded interleaving,
  /// deliveries and timers as their times come.
  void run_for(millis d);
  /// Runs until `done()` or `max` passes; returns done().
  template <class Pred>
  bool run_until(Pred done, millis max, millis step = millis{1}) {
    for (millis t{0}; t < max; t += step) {
      if (done()) return true;
      run_for(step);
    }
    return done();
  }
  /// Virtual time since the network was made.
  millis now() const noexcept;

  /// The seeded generator (tests draw their own choices from it to stay replayable).
  std::uint64_t random(std::uint64_t bound);

  /// One line per event: deliveries, drops, kv operations, crashes, cuts.
  const std::vector<std::string>& trace() const noexcept;
  std::uint64_t trace_hash() const noexcept;
  /// Keeps the trace from growing (the hash still covers every event). Default: kept.
  void keep_trace(bool keep) noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace quay::cluster
