#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quay/net/frame.hpp"
#include "quay/runtime/port.hpp"

struct lua_State;

namespace quay::bots {

/// Something that happened to a bot that its script can wait for: a decoded server message
/// ("chat", "entity_enter", ...) or a local happening ("connected", "disconnected", "signal").
///
/// Events are cheap values: they share the received frame (reference-counted, never copied), and
/// the Lua table a script sees is built lazily by `fill`, only when a waiting script matches or
/// inspects the event.
/// Thread contract: a plain value; one thread at a time.
struct event {
  /// The name scripts wait for (the `event` field of its table). Must point to storage that
  /// outlives the bot (a literal).
  std::string_view name;
  /// Adds the event's fields to the table on top of `L`'s stack; null when `text`/`number`
  /// say everything (they are then added as fields `text` and `value`).
  void (*fill)(lua_State* L, const event& ev) = nullptr;
  /// The frame this event was decoded from (an Envelope), if any.
  net::frame message;
  /// Which item of `message` this event stands for (for messages that carry several).
  std::uint32_t index = 0;
  /// A small scalar payload for local events (an error code, a round-trip time).
  std::int64_t number = 0;
  /// A text payload for local events (a close reason, a signal's key).
  std::string text;
  /// A second text payload (a signal's value).
  std::string text2;
  /// When the bot received it, on the port's clock.
  port_time at{};
};

}  // namespace quay::bots
