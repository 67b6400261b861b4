// Delivery: a send finds the target's live cell and pushes onto its mailbox; the push that makes
// the mailbox runnable schedules the cell.

#include "system_impl.hpp"

namespace quay::detail {

std::error_code system_impl::deliver(actor_ref to, envelope* e) {
  thread_state& t = tls();
  if (!e->sender && t.current != nullptr && e->kind == envelope_kind::user) {
    e->sender = actor_access::self_of(*t.current);
  }
  e->target_generation = to.generation;
  actor_cell* c = live_cell(to);
  if (c == nullptr || closing.load(std::memory_order_relaxed)) {
    dead_letter(to, e);
    return actor_errc::dead_target;
  }
  if (!c->box.admit(e)) {
    if (e->kind == envelope_kind::user && e->id != 0 && e->sender) {
      deliver_error_reply(e->sender, e->id, actor_errc::mailbox_full);
    }
    free_envelope(e);
    return actor_errc::mailbox_full;
  }
  if (++t.sample_tick >= opts.metrics_sample_every) {
    t.sample_tick = 0;
    e->enqueued_ns = metrics_now_ns();
  }
  if (c->box.push(e) == mailbox::push_outcome::now_runnable) {
    schedule(c);
  }
  return {};
}

void system_impl::deliver_signal(actor_ref to, envelope_kind kind, std::int32_t code,
                                 std::uint64_t id, actor_ref sender) {
  envelope* e = allocate_envelope();
  e->kind = kind;
  e->control = true;
  e->code = code;
  e->id = id;
  e->sender = sender;
  deliver(to, e);
}

void system_impl::deliver_error_reply(actor_ref to, std::uint64_t id, actor_errc code) {
  deliver_signal(to, envelope_kind::reply, static_cast<std::int32_t>(code), id);
}

}  // namespace quay::detail
