// Dead letters: envelopes that cannot reach their target are counted, answered (requests get
// dead_target, monitor/link requests a no_actor down) and logged at a bounded rate.

#include <chrono>

#include "actors_log.hpp"
#include "system_impl.hpp"

namespace quay::detail {

void system_impl::dead_letter(actor_ref target, envelope* e) noexcept {
  const bool shutting = closing.load(std::memory_order_relaxed);
  try {
    switch (e->kind) {
      case envelope_kind::user: {
        const std::uint64_t n = dead_letters.fetch_add(1, std::memory_order_relaxed) + 1;
        if (e->id != 0 && e->sender && !shutting) {
          deliver_error_reply(e->sender, e->id, actor_errc::dead_target);
        }
        const std::int64_t now = metrics_now_ns();
        std::int64_t last = last_dead_letter_log_ns.load(std::memory_order_relaxed);
        const std::int64_t interval =
            std::chrono::duration_cast<std::chrono::nanoseconds>(opts.dead_letter_log_interval)
                .count();
        if (now - last >= interval &&
            last_dead_letter_log_ns.compare_exchange_strong(last, now,
                                                            std::memory_order_relaxed)) {
          actors_log().info(
              "dead letter: message type {} to actor {}:{} (from {}:{}); {} dead letters so far",
              e->ops != nullptr ? e->ops->type_id : 0u, target.slot, target.generation,
              e->sender.slot, e->sender.generation, n);
        }
        break;
      }
      case envelope_kind::monitor:
      case envelope_kind::link:
        if (e->sender && !shutting) {
          envelope* d = make_envelope(down{target, exit_reason::no_actor, {}});
          d->kind = e->kind == envelope_kind::monitor ? envelope_kind::monitor_down
                                                      : envelope_kind::link_exit;
          d->control = true;
          d->sender = target;
          deliver(e->sender, d);
        }
        break;
      default:
        break;  // replies, timers, signals to the dead need nobody told
    }
  } catch (...) {
    // Out of memory while reporting a dead letter: the count above still holds.
  }
  free_envelope(e);
}

}  // namespace quay::detail
