#pragma once
// The zone server's live figures for operators (docs/operations.md): what the actors record as
// they run (ticks, closes, database writes), and a scrape that reads it all at once into plain
// data, which metrics_render.cpp writes as Prometheus text and as the admin page's JSON.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quay/actors/actor_ref.hpp"

namespace quay {
class actor_system;
}

namespace quay::game::server {

/// A histogram with fixed upper bounds (seconds or any unit), filled from any thread.
/// Guarantees: observe() is lock-free and each observation lands in exactly one bucket; a
/// read() concurrent with observations may see an observation in its bucket before it is in
/// the sum (the figures of one scrape are a moment's view, not a transaction).
class live_histogram {
public:
  explicit live_histogram(std::vector<double> upper_bounds);

  /// Records one value. Thread-safe, lock-free.
  void observe(double v) noexcept;

  /// Plain copy of the histogram: counts per bucket (not cumulative), and over the last bound.
  struct snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;
    std::uint64_t overflow = 0;
    double sum = 0;
    std::uint64_t count() const noexcept;
    /// The upper bound of the bucket holding quantile q (0 < q <= 1); the last bound when the
    /// quantile is in the overflow; 0 when empty.
    double quantile_bound(double q) const noexcept;
  };
  /// Thread-safe.
  snapshot read() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 (overflow last)
  std::atomic<double> sum_{0};
};

/// Bounds for tick wall and CPU time, in seconds: 0.1 ms to 1 s.
std::vector<double> tick_bounds();
/// Bounds for short waits (run queue, database writes), in seconds: 10 us to 5 s.
std::vector<double> latency_bounds();

/// One zone's figures, written by its zone actor (every incarnation of it), read by scrapes.
struct zone_metrics {
  zone_metrics(std::uint32_t id_, std::string name_) : id(id_), name(std::move(name_)) {}
  const std::uint32_t id;
  const std::string name;
  std::atomic<std::uint64_t> players{0};  ///< gauge
  std::atomic<std::uint64_t> npcs{0};     ///< gauge (alive)
  std::atomic<std::uint64_t> ticks{0};
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> frames_out{0};
  std::atomic<std::uint64_t> map_subscribers{0};  ///< gauge: admin map views of this zone
  live_histogram tick_seconds{tick_bounds()};
  live_histogram tick_cpu_seconds{tick_bounds()};
};

/// Figures of one scrape: plain data, rendered without touching the server.
struct metrics_scrape {
  struct zone {
    std::uint32_t id = 0;
    std::string name;
    std::uint64_t players = 0, npcs = 0, ticks = 0, messages_in = 0, frames_out = 0;
    std::uint64_t map_subscribers = 0;
    live_histogram::snapshot tick, tick_cpu;
  };
  struct actor_type {
    std::string type;
    std::uint64_t actors = 0;     ///< live actors of the type
    std::uint64_t depth = 0;      ///< messages waiting, summed over them
    std::uint64_t depth_max = 0;  ///< the deepest mailbox of the type
    std::uint64_t handled = 0;    ///< messages handled by the live ones
    double mean_wait_s = 0;       ///< mean time in the mailbox of their sampled messages
  };
  std::vector<zone> zones;
  std::uint64_t players_online = 0;
  std::uint64_t sessions_open = 0;
  std::uint64_t sessions_accepted = 0;
  std::vector<std::pair<std::string, std::uint64_t>> close_reasons;  ///< sorted by reason
  std::vector<actor_type> actor_types;                               ///< sorted by type
  std::uint64_t dead_letters = 0;
  live_histogram::snapshot run_queue_delay;
  std::uint64_t persistence_pending = 0, persistence_batches = 0, persistence_characters = 0;
  std::uint64_t persistence_failures = 0, persistence_retries = 0;
  live_histogram::snapshot persistence_write;
  bool ready = false;
  std::uint64_t uptime_s = 0;
};

/// The zone server's metrics. Thread contract: add_zone before the server runs (from the
/// controlling thread); every other member is thread-safe.
class server_metrics {
public:
  server_metrics();

  /// Creates the figures of zone `id`. Not thread-safe: before any actor runs.
  zone_metrics& add_zone(std::uint32_t id, std::string name);
  /// The figures of zone `id`, or null. Thread-safe (the set is fixed once the server runs).
  zone_metrics* zone(std::uint32_t id) const noexcept;

  /// A session ended, for `reason` (a short label: "closed by peer", "kicked: MessageFlood").
  /// Thread-safe (one short lock; closes are rare next to frames).
  void session_closed(std::string_view reason);
  std::atomic<std::uint64_t> sessions_accepted{0};

  /// Counts `r` as an actor of `type` for the per-type mailbox figures; dead ones are dropped
  /// at the next scrape. Thread-safe.
  void track(std::string_view type, actor_ref r);

  live_histogram run_queue_delay{latency_bounds()};   ///< seconds from post to run
  live_histogram persistence_write{latency_bounds()}; ///< seconds per database batch

  /// Fills the figures these metrics own (zones, closes, actor types, histograms) into `out`.
  /// Thread-safe; `actors` is read through its thread-safe counters.
  void collect(const actor_system& actors, metrics_scrape& out);

private:
  std::vector<std::unique_ptr<zone_metrics>> zones_;
  mutable std::mutex mu_;  // guards closes_ and tracked_
  std::unordered_map<std::string, std::uint64_t> closes_;
  std::unordered_map<std::string, std::vector<actor_ref>> tracked_;
};

/// The scrape in the Prometheus text exposition format (names in docs/operations.md).
/// Thread-safe (pure).
std::string render_prometheus(const metrics_scrape& s);
/// The admin page's zone figures as JSON: {"ready":..,"players":..,"zones":[{...}]}.
/// Thread-safe (pure).
std::string render_zones_json(const metrics_scrape& s);

}  // namespace quay::game::server
