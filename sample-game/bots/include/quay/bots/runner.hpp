#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "quay/bots/bot.hpp"
#include "quay/bots/report.hpp"
#include "quay/bots/run_stats.hpp"
#include "quay/bots/script.hpp"
#include "quay/net/session.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::bots {

/// Makes the protocol object of one bot; `stats` is the run's, for round trips and errors.
/// Called on a worker; must be thread-safe.
using protocol_factory = std::function<std::unique_ptr<bot_protocol>(run_stats& stats)>;

/// How a run drives its bots.
struct run_options {
  /// The zone server to connect to.
  endpoint server = endpoint::loopback_v4(7777);
  /// How many bots, and how fast they start (bots per second; 0 = all at once).
  std::size_t bots = 1;
  double ramp_per_s = 0;
  /// Load runs: after this long (from the start of the run) bots still running are stopped,
  /// which is not a failure. 0 = wait until every script ends.
  millis duration{0};
  /// Load runs: the figures (messages, bytes, round trips, staleness) restart this long after
  /// the start, so the report covers the steady state and not the ramp. 0 = no warm-up.
  millis warmup{0};
  /// Test runs: after this long, bots still running fail ("the run's deadline passed" with the
  /// line each waits at). 0 = no deadline.
  millis deadline{0};
  /// Bot names are the prefix followed by the bot's index: bot1, bot2, ...
  std::string name_prefix = "bot";
  /// Passed to every script as bot.args.
  std::map<std::string, std::string, std::less<>> args;
  /// Seeds each bot's math.random (with its index), so a test run repeats exactly.
  std::uint64_t seed = 1;
  /// Limits of every bot (name, index, count, args and seed are filled in per bot).
  bot_options limits;
  /// Options of every bot's session.
  net::session_options session;
  /// Worker threads of the bots' port (0 = one per core).
  std::size_t workers = 0;
  /// The game protocol each bot speaks (null: scripts get only the core API).
  protocol_factory protocol;
  /// A line a script logged; called on workers, concurrently: must be thread-safe.
  std::function<void(std::string_view bot, std::string_view line)> on_log;
  /// Called on the calling thread about every `progress_every` with the live figures.
  std::function<void(const run_report&)> on_progress;
  millis progress_every{1000};
  /// Set (from any thread, e.g. a signal handler) to end the run early: bots are stopped and
  /// the report says it was interrupted.
  const std::atomic<bool>* interrupt = nullptr;
  /// How many failures the report keeps in full.
  std::size_t failures_kept = 20;
};

/// Runs `source` on `options.bots` bots against a server and blocks until they are done (every
/// script ended, the duration passed, or the run was interrupted). Starts its own port, actor
/// system and network, and stops them before returning. Thread contract: call from one
/// ordinary thread (not a worker of another port); `source` must stay alive during the call.
run_report run(const script& source, const run_options& options);

}  // namespace quay::bots
