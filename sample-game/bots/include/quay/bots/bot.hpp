#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "quay/bots/bot_env.hpp"
#include "quay/bots/event.hpp"
#include "quay/bots/script.hpp"

struct lua_State;

namespace quay::bots {

class bot;

/// The game protocol as a bot speaks it: the Lua functions it adds to a script (login, move,
/// ...) and the decoding of received messages into events. One instance per bot, so it may keep
/// per-connection state (sequence numbers, pings in flight).
///
/// Thread contract: called only from the owning bot's serialized context.
class bot_protocol {
 public:
  virtual ~bot_protocol() = default;
  /// Adds the protocol's functions to a fresh script state (once, before the script runs).
  /// Functions find their bot with bot::from(L).
  virtual void install(lua_State* L) = 0;
  /// Decodes one received frame (an Envelope, verified by the session) and hands its events to
  /// `b.deliver`.
  virtual void on_message(bot& b, const net::frame& message) = 0;
  /// The connection closed: forget per-connection state.
  virtual void on_closed(bot& b) = 0;
};

/// Limits and identity of one bot.
struct bot_options {
  /// The bot's name in reports and its default character name.
  std::string name = "bot1";
  /// 1-based position among the bots of the run, and how many there are (`bot.index`,
  /// `bot.count` in scripts).
  int index = 1;
  int count = 1;
  /// Extra `key=value` arguments a script reads as `bot.args`.
  std::map<std::string, std::string, std::less<>> args;
  /// Seeds the script's math.random, so a test run is repeatable.
  std::uint64_t seed = 1;
  /// Bytes the bot's Lua state may allocate; past it, allocation fails with a Lua error.
  std::size_t memory_limit = 8u << 20;
  /// Events kept for a later wait_for; past it the oldest is dropped and counted.
  std::size_t inbox_capacity = 256;
  /// Received events remembered for failure reports.
  std::size_t history = 12;
  /// wait_for's timeout when the script gives none.
  millis default_wait{5000};
  /// Lua instructions one resume may run before the script is failed as stuck in a loop that
  /// never waits.
  std::uint64_t instruction_limit = 50'000'000;
};

/// One bot: a scenario script running as a Lua coroutine in its own Lua state, driven by the
/// events its owner feeds it. Every blocking script call (wait_for, sleep, login, ...) yields
/// the coroutine; the owner resumes it by calling on_message / on_timer / on_connected / ...
///
/// Thread contract: owner only. All members (and the script) run on whichever thread the owner
/// runs on, one call at a time; the owner (an actor) guarantees a bot is never entered by two
/// threads at once. A bot never blocks a thread.
class bot {
 public:
  /// `source` must outlive the bot. `protocol` may be null (a script that uses no game calls).
  bot(const script& source, bot_options options, bot_env& env,
      std::unique_ptr<bot_protocol> protocol);
  ~bot();
  bot(const bot&) = delete;
  bot& operator=(const bot&) = delete;

  /// Loads the script and runs it until its first wait (or its end). Call once.
  void start();
  /// The connection the script asked for is up.
  void on_connected();
  /// A frame arrived (an encoded quay.wire.Envelope); the protocol decodes it into events.
  void on_message(const net::frame& message);
  /// The connection ended (or never came up); `reason` says why.
  void on_closed(std::error_code reason);
  /// A timer armed with bot_env::start_timer expired.
  void on_timer(std::uint64_t token);
  /// Hands one event to the script: resumes it if it waits for this event, else keeps the
  /// event for a later wait_for.
  void deliver(event ev);

  /// Ends the script without failing it (a load run is over). Idempotent.
  void stop();
  /// Fails the script from outside (a test run's deadline), naming the line it waits at.
  void fail(std::string why);

  /// False when the script has ignore()d events of this name: a protocol can then skip
  /// building them (per-entity events of a crowded view cost more than the rest of a frame).
  bool wants(std::string_view event_name) const noexcept;

  /// True once the script has ended, failed or been stopped.
  bool done() const noexcept;
  /// True between on_connected and on_closed.
  bool connected() const noexcept;
  /// Events dropped because the inbox was full.
  std::uint64_t events_dropped() const noexcept;
  /// Bytes the Lua state holds now.
  std::size_t lua_memory() const noexcept;

  const bot_options& options() const noexcept;
  bot_env& env() noexcept;
  /// The protocol given at construction (null if none).
  bot_protocol* protocol() noexcept;

  /// The bot whose script state `L` belongs to (for protocol functions).
  static bot& from(lua_State* L) noexcept;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace quay::bots
