#pragma once

// What every actor of one run shares: the script, the options, the network, the live figures
// and the outcome. Owned by run() on its stack; it outlives the port, the actor system and the
// network, so actors may hold a reference to it.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "quay/actors/actor_ref.hpp"
#include "quay/bots/runner.hpp"
#include "quay/net/network.hpp"
#include "quay/runtime/io_port.hpp"

namespace quay::bots::detail {

struct run_context {
  run_context(const script& s, const run_options& o) : source(s), options(o) {}

  const script& source;
  const run_options& options;
  net::network* network = nullptr;
  io_port* port = nullptr;
  run_stats stats;

  // Outcome: failures in the order they happened. Guarded by `mu`; `changed` is notified each
  // time a bot ends, so run() wakes without polling.
  std::mutex mu;
  std::condition_variable changed;
  std::vector<bot_result> failures;

  // Records how a bot ended. Thread-safe.
  void bot_ended(const bot_result& r) {
    if (r.stopped) {
      stats.bots_stopped.fetch_add(1, std::memory_order_relaxed);
    } else if (r.ok) {
      stats.bots_ok.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats.bots_failed.fetch_add(1, std::memory_order_relaxed);
    }
    {
      std::lock_guard lock(mu);
      if (!r.ok && failures.size() < options.failures_kept) failures.push_back(r);
    }
    changed.notify_all();
  }
};

// Messages of the run's actors.

/// A bot's wait timer expired.
struct bot_timer_msg {
  std::uint64_t token = 0;
};
/// Another bot signalled.
struct bot_signal_msg {
  std::string key;
  std::string value;
};
/// End the script without failing it.
struct bot_stop_msg {};
/// Fail the script with this reason.
struct bot_fail_msg {
  std::string why;
};

/// To the director: forward a signal to every bot but `from`.
struct director_signal {
  std::size_t from = 0;
  std::string key;
  std::string value;
};
/// To the director: stop every bot (interrupt).
struct director_stop_all {};
/// To the director: its pacing tick.
struct director_tick {};

}  // namespace quay::bots::detail
