#pragma once
// Backpressure for non-actor components (the network session): a completion posted when an
// actor's mailbox has drained. Internal to Quay's modules (detail/): game code never calls it.

#include <cstdint>

#include "quay/actors/actor_ref.hpp"
#include "quay/runtime/completion.hpp"

namespace quay {
class actor_system;
}

namespace quay::detail {

/// Posts `c` to the port once, when `r`'s mailbox depth is at most `low_water` — at once if it
/// already is, else as soon as the actor's turns drain it that far. If the actor stops first,
/// `c` is posted with actor_errc::dead_target; if the port stops while the actor is still
/// behind (it never runs again), `c` runs with errc::aborted. One-shot; register again to
/// watch again. `c` must stay alive until it runs and must not be posted elsewhere meanwhile.
/// Thread-safe.
void notify_when_drained(actor_system& sys, actor_ref r, std::uint64_t low_water, completion* c);
/// Withdraws a notify_when_drained registration. True if it was still pending (then `c` will
/// not be posted). Thread-safe.
bool cancel_drain_notification(actor_system& sys, actor_ref r, completion* c);

}  // namespace quay::detail
