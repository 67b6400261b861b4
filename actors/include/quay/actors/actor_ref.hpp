#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace quay {

/// A handle to an actor: a slot in the actor table plus the generation of the actor that held
/// the slot when the handle was made, and a node id (0 = this process) kept for cross-node use.
/// A handle never dangles: once its actor stops, sends to it become counted dead letters, even
/// after the slot is reused by another actor.
///
/// Thread contract: a plain value; copy it freely between threads.
struct actor_ref {
  std::uint32_t slot = 0;
  /// 0 means "no actor" (the null handle); live generations start at 1.
  std::uint32_t generation = 0;
  /// 0 = local. Reserved for cross-node addressing.
  std::uint32_t node = 0;

  /// True for a handle that names an actor (alive or not).
  explicit operator bool() const noexcept { return generation != 0; }
  friend bool operator==(const actor_ref&, const actor_ref&) = default;
};

static_assert(sizeof(actor_ref) <= 16, "actor_ref must stay small enough to pass in registers");

/// Why an actor stopped.
enum class exit_reason : std::uint8_t {
  normal,    ///< it called stop(), was asked to stop, or its supervisor shut it down cleanly
  failure,   ///< a handler threw (the detail holds the exception text), or it escalated
  killed,    ///< a linked actor failed, its supervisor went down, or the system shut down
  no_actor,  ///< the watched actor was already gone when the link or monitor was made
};

/// Human-readable name of a reason ("normal", "failure", ...). Thread-safe.
const char* to_string(exit_reason r) noexcept;

/// Delivered to a watcher when a monitored actor stops (and to an actor that traps exits when a
/// linked actor stops). Arrives on the control lane.
struct down {
  actor_ref who;
  exit_reason reason = exit_reason::normal;
  /// For failure: the exception text (or "restart intensity exceeded"). Otherwise empty.
  std::string detail;
};

/// Delivered to a supervisor after it restarted a child (one-for-one). Handling it is
/// optional; a supervisor without a handler ignores it silently.
struct child_restarted {
  actor_ref old_ref;
  actor_ref new_ref;
  exit_reason reason = exit_reason::failure;
  std::string detail;
};

/// Delivered (control lane) to an actor that watches `name` (actor::watch_name) each time the
/// name is bound to a live actor: at once when watching starts if it is bound then, and on
/// every later register_name that succeeds, including the re-registration of a restarted
/// supervised child. `ref` may have stopped again by the time the notice is handled.
struct name_bound {
  std::string name;
  actor_ref ref;
};

}  // namespace quay

template <>
struct std::hash<quay::actor_ref> {
  std::size_t operator()(const quay::actor_ref& r) const noexcept {
    const std::uint64_t k = (std::uint64_t{r.slot} << 32) ^ r.generation ^
                            (std::uint64_t{r.node} * 0x9E3779B97F4A7C15ull);
    return std::hash<std::uint64_t>{}(k);
  }
};
