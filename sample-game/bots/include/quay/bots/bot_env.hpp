#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "quay/runtime/port.hpp"

namespace quay::bots {

/// How a bot's script ended.
struct bot_result {
  /// The bot's name (as in reports: "alice", "bot17").
  std::string bot;
  /// True when the script ran to its end and every expectation held.
  bool ok = false;
  /// True when the owner stopped the bot before its script ended (the end of a load run);
  /// not a failure.
  bool stopped = false;
  /// Why it failed: "scenario.lua:12: expect failed: bob is visible". Empty when ok.
  std::string message;
  /// The Lua stack when it failed (innermost first), one "chunk:line: in function" per line.
  std::string traceback;
  /// The last events the bot received before it failed, oldest first, as Lua-like tables.
  std::vector<std::string> last_events;
};

/// What a bot needs from the world around it: a clock, one-shot timers, one connection to the
/// server, a way to signal the other bots of the run, and someone to tell when it is done.
///
/// Implemented over the net connector on a real port (the bot runner) and in memory by tests.
/// Thread contract: the bot calls these only from its own serialized context (the actor or
/// strand that owns it); an implementation answers by calling the bot's `on_*` members from
/// that same context, never from inside the call that caused it unless stated below.
class bot_env {
 public:
  virtual ~bot_env() = default;

  /// The clock waits and timestamps use.
  virtual port_time now() const noexcept = 0;
  /// A monotonic clock in microseconds for timing round trips (ping). now() is the port's
  /// millisecond clock, which would round every sub-millisecond loopback round trip to 0 or
  /// 1 ms. The default follows now(), so a fake environment's times stay deterministic.
  virtual std::chrono::microseconds precise_now() const noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(now().time_since_epoch());
  }
  /// Arms a one-shot timer: after `delay`, the owner calls bot::on_timer(token).
  virtual void start_timer(millis delay, std::uint64_t token) = 0;
  /// Disarms a timer armed with `token` if it has not fired; a late on_timer is also harmless
  /// (the bot ignores tokens it no longer waits for).
  virtual void cancel_timer(std::uint64_t token) = 0;

  /// Starts connecting to the server; the owner later calls bot::on_connected() or
  /// bot::on_closed(reason).
  virtual void connect() = 0;
  /// Sends one message (an encoded quay.wire.Envelope); the transport adds the frame header.
  /// An error value when there is no connection.
  virtual std::error_code send(std::span<const std::uint8_t> envelope) = 0;
  /// Writes bytes as they are, without a frame header, on a second, unframed connection to the
  /// server (opened by the first call): for scenarios that play a broken or hostile client. Its
  /// end reaches the script as a "raw_closed" event with a `reason`.
  virtual std::error_code send_raw(std::span<const std::uint8_t> bytes) = 0;
  /// Opens one more unframed connection to the server (hostile-client scenarios: many at once,
  /// one that never reads, one reset mid-frame) and returns its id (> 0), or 0 when this
  /// environment has none. With `read` false nothing the server sends is ever read, so the
  /// server's send queue to it only grows. Its end reaches the script as a "raw_closed" event
  /// with this `id`. Additive: environments without it keep the default.
  virtual std::uint32_t raw_open(bool read) {
    (void)read;
    return 0;
  }
  /// Writes bytes as they are on connection `id` (from raw_open); they go out in order once it
  /// is connected. An error value when there is no such connection (or it ended).
  virtual std::error_code raw_send(std::uint32_t id, std::span<const std::uint8_t> bytes) {
    (void)id;
    (void)bytes;
    return std::make_error_code(std::errc::not_connected);
  }
  /// Bytes given to raw_send on connection `id` that have not been written to the socket yet
  /// (0 for unknown ids), so a script can pace a flood by what the server really takes.
  virtual std::size_t raw_pending(std::uint32_t id) const {
    (void)id;
    return 0;
  }
  /// Ends connection `id`: with `reset`, by RST (unsent bytes dropped), else by an ordinary
  /// close. No "raw_closed" event follows. Unknown ids are ignored.
  virtual void raw_end(std::uint32_t id, bool reset) {
    (void)id;
    (void)reset;
  }
  /// Closes the connection; the owner later calls bot::on_closed (once per connection).
  virtual void disconnect() = 0;
  /// Cuts the connection abruptly (RST, unsent bytes dropped), as a network failure would; the
  /// owner later calls bot::on_closed. The default closes it as disconnect() does.
  virtual void drop() { disconnect(); }
  /// The script expects the server to close the connection (it logged out): that end is not
  /// counted as an unexpected disconnect.
  virtual void expect_close() = 0;

  /// A line the script logged (log() or print()), for the run's output.
  virtual void log(std::string_view line) = 0;
  /// Delivers a "signal" event with `key` and `value` to every other bot of the run.
  virtual void signal(std::string_view key, std::string_view value) = 0;
  /// The script has ended (ok, failed or stopped). Called once per bot, last.
  virtual void finished(const bot_result& result) = 0;
};

}  // namespace quay::bots
