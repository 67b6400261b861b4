#pragma once
// The whole zone server in one object: the port, the actor system, the network, the gateway
// and the zone actors, wired together. The zone-server program and the end-to-end tests both
// use it.

#include <atomic>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "config.hpp"
#include "persistence_actor.hpp"
#include "operator_http.hpp"
#include "server_metrics.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::game::server {

/// A running zone server. Thread contract: start, begin_shutdown and stop from one controlling
/// thread (not a worker); online() from any thread.
class zone_server {
public:
  zone_server();
  ~zone_server();
  zone_server(const zone_server&) = delete;
  zone_server& operator=(const zone_server&) = delete;

  /// Loads the zones, spawns the actors and starts listening. On failure returns the problems
  /// (zone file errors, listen errors) and leaves nothing running.
  std::vector<std::string> start(const server_config& config, spdlog::logger* log);

  /// The address it listens on (after a successful start).
  const endpoint& bound() const { return bound_; }

  /// Players in the world. Thread-safe.
  std::size_t online() const { return online_.load(std::memory_order_acquire); }

  /// Starts `n` built-in demo clients (demo_client actors) that connect over TCP, log in as
  /// demo1..demoN and wander. After a successful start only.
  void start_demo_clients(std::size_t n);

  /// Stops accepting connections (the listening socket is closed), stops letting players in
  /// and kicks everyone (ServerShuttingDown) after saving. Open sessions stay up until stop().
  void begin_shutdown();

  /// The operator listener's address and token (after a successful start with it enabled).
  const endpoint& operator_bound() const { return operator_bound_; }
  const std::string& operator_token() const { return operator_token_; }

  /// The persistence actor's counters (writes, failures, retries, pending). Thread-safe.
  const persistence_counters& persistence() const { return persistence_; }

  /// True from a successful start until begin_shutdown (what /readyz answers). Thread-safe.
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

  /// Every figure of the server at this moment (what /metrics renders). Thread-safe.
  metrics_scrape scrape();

  /// The live metrics the actors record into. Thread-safe.
  server_metrics& metrics() noexcept { return metrics_; }

  /// Fault injection for tests and chaos runs: makes zone `id`'s actor throw in its next turn.
  /// False if no such zone runs. Thread-safe.
  bool inject_zone_fault(std::uint32_t id);

  /// Waits up to `grace` for every player to leave and every change to reach the database,
  /// then closes all sessions and stops the port. Returns the number of players still online
  /// (or characters unsaved) when the grace ended. Idempotent.
  std::size_t stop(std::chrono::milliseconds grace);

private:
  std::string load_session_keys();
  std::string load_web_files(spdlog::logger* log);
  std::string start_operator_listener(spdlog::logger* log);
  void start_run_queue_probe();

  struct parts;
  // Declared before parts_, so it outlives the player actors that ask it.
  std::unique_ptr<connection_limiter> connection_rate_;
  // Also before parts_: actors, blocking jobs and the probe record into it until the port stops.
  server_metrics metrics_;
  std::atomic<bool> ready_{false};
  std::chrono::steady_clock::time_point started_{};
  std::unique_ptr<parts> parts_;
  endpoint bound_;
  endpoint operator_bound_;
  std::string operator_token_;
  static_files web_;  // the web client's and admin page's files (read-only once running)
  std::atomic<std::size_t> online_{0};
  std::atomic<std::size_t> connections_{0};  // player sessions open (outlives the actors)
  persistence_counters persistence_;
  server_config config_;
};

}  // namespace quay::game::server
