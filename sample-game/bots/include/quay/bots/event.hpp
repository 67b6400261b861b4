#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quay/runtime/port.hpp"

struct lua_State;

namespace quay::bots {

/// The bytes of one received message, shared by every event decoded from it, so an event costs
/// no copy and is turned into a Lua table only when a script looks at it.
using message_bytes = std::shared_ptr<const std::vector<std::uint8_t>>;

/// Something that happened to a bot that its script can wait for: a decoded server message
/// ("chat", "entity_enter", ...) or a local happening ("connected", "disconnected", "signal").
///
/// Events are cheap values: the Lua table a script sees is built lazily by `fill`, from the
/// shared message bytes, only when a waiting script matches or inspects the event.
/// Thread contract: a plain value; one thread at a time.
struct event {
  /// The name scripts wait for. Must point to storage that outlives the bot (a literal).
  std::string_view name;
  /// Adds the event's fields to the table on top of `L`'s stack; null when `text`/`number`
  /// say everything (they are then added as fields `text` and `value`).
  void (*fill)(lua_State* L, const event& ev) = nullptr;
  /// The message this event was decoded from, if any.
  message_bytes message;
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
