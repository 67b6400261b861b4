#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "quay/bots/histogram.hpp"

namespace quay::bots {

/// Live figures of a bot run, written by every bot and read by the progress display.
///
/// Thread contract: every member is thread-safe. Counters are relaxed atomics (each is exact
/// on its own; a snapshot of several may be mid-update); errors take a mutex, they are rare.
struct run_stats {
  std::atomic<std::uint64_t> bots_started{0};
  std::atomic<std::uint64_t> connected_now{0};    ///< sessions up at this moment
  std::atomic<std::uint64_t> connects{0};         ///< sessions that came up
  std::atomic<std::uint64_t> connect_failures{0}; ///< connects that never came up
  std::atomic<std::uint64_t> disconnects{0};      ///< sessions the server or network ended
  std::atomic<std::uint64_t> bots_ok{0};
  std::atomic<std::uint64_t> bots_failed{0};
  std::atomic<std::uint64_t> bots_stopped{0};
  std::atomic<std::uint64_t> msgs_out{0};
  std::atomic<std::uint64_t> msgs_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> events_dropped{0};   ///< events a bot's full inbox dropped

  /// Round trip of ping() (the script's, and the load loop's).
  latency_histogram rtt;
  /// How old an entity's position is when another bot sees it (see docs: AOI staleness).
  latency_histogram aoi_staleness;

  /// Starts the measured window (the end of a warm-up): message and byte counters, round
  /// trips and staleness start again from zero. Bots, connections and errors keep counting the
  /// whole run. Thread-safe; see latency_histogram::reset for records at that very moment.
  void restart_window() noexcept;

  /// Counts one error of `kind` ("connect: connection refused", "server: on_cooldown").
  void count_error(std::string_view kind);
  /// Every error kind with its count.
  std::map<std::string, std::uint64_t> errors() const;

  /// Bots that have ended, whatever the way.
  std::uint64_t bots_done() const noexcept {
    return bots_ok.load(std::memory_order_relaxed) + bots_failed.load(std::memory_order_relaxed) +
           bots_stopped.load(std::memory_order_relaxed);
  }

 private:
  mutable std::mutex errors_mutex_;
  std::map<std::string, std::uint64_t, std::less<>> errors_;
};

}  // namespace quay::bots
