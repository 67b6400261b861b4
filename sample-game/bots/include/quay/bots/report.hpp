#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quay/bots/bot_env.hpp"
#include "quay/bots/run_stats.hpp"

namespace quay::bots {

/// Percentiles of one latency histogram, in milliseconds.
struct latency_summary {
  std::uint64_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;

  static latency_summary of(const latency_histogram& h);
};

/// The figures of a run at one moment: the final report, or one progress sample.
/// A value; thread contract: none of its own.
struct run_report {
  /// Seconds the figures cover: the whole run, or (final report after a warm-up) the time
  /// since the warm-up ended.
  double elapsed_s = 0;
  /// Seconds of warm-up before the measured window (0: none). Messages, bytes, round trips
  /// and staleness cover only the window; bots, connections and errors cover the whole run.
  double warmup_s = 0;
  std::uint64_t bots = 0;  ///< bots the run was asked for
  std::uint64_t started = 0;
  std::uint64_t connected_now = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t ok = 0;       ///< scripts that ran to their end (not counting stopped ones)
  std::uint64_t failed = 0;
  std::uint64_t stopped = 0;
  std::uint64_t msgs_out = 0;
  std::uint64_t msgs_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t events_dropped = 0;
  latency_summary rtt;
  latency_summary aoi_staleness;
  std::map<std::string, std::uint64_t> errors;
  /// The first failures, in the order they happened (the full count is `failed`).
  std::vector<bot_result> failures;
  /// True when the run was cut short (Ctrl-C, a run deadline).
  bool interrupted = false;

  /// Reads the live figures. Thread-safe (reads atomics).
  static run_report snapshot(const run_stats& s, std::uint64_t bots, double elapsed_s);

  /// Messages per second each way over the measured window (the whole run without warm-up).
  double msgs_out_per_s() const { return elapsed_s > 0 ? msgs_out / elapsed_s : 0; }
  double msgs_in_per_s() const { return elapsed_s > 0 ? msgs_in / elapsed_s : 0; }

  /// A test run passed: every bot ran its script to the end and every expectation held.
  bool all_passed() const { return !interrupted && failed == 0 && ok == bots && stopped == 0; }
  /// A load run is healthy: no script failed (bots stopped at the end of the run are fine).
  bool no_failures() const { return failed == 0; }

  /// The final report for a person: several lines, each failure with its line and last events.
  std::string to_text() const;
  /// The final report for machines: one JSON object.
  std::string to_json() const;
};

/// One line of live progress: totals of `now` and rates since `before` (the previous sample).
std::string progress_line(const run_report& now, const run_report& before);

}  // namespace quay::bots
