// The turn runner: what a worker does when an actor's cell completion runs.

#include <exception>

#include "quay/runtime/error.hpp"
#include "actors_log.hpp"
#include "system_impl.hpp"

namespace quay::detail {

void system_impl::turn_entry(completion* self, std::error_code ec, std::size_t /*bytes*/) {
  auto* c = static_cast<actor_cell*>(self);
  if (ec) {
    // The port is shutting down: handlers must not run any more (they would keep posting).
    while (c != nullptr) {
      actor_cell* next = c->chain_next;
      c->chain_next = nullptr;
      c->sys->drain_aborted(c);
      c = next;
    }
    return;
  }
  c->sys->run_chain(c);
}

void system_impl::run_chain(actor_cell* c) {
  // The link is read and cleared before the cell runs: once its turn starts, the cell may be
  // made runnable again (and chained anew) by any thread.
  while (c != nullptr) {
    actor_cell* next = c->chain_next;
    c->chain_next = nullptr;
    run_from_port(c);
    c = next;
  }
}

void system_impl::run_from_port(actor_cell* c) {
  thread_state& t = tls();
  system_impl* const saved_sys = t.sys;
  const std::uint32_t saved_base = t.run_base;
  actor_cell* const saved_head = t.ready_head;
  actor_cell* const saved_tail = t.ready_tail;
  const std::uint32_t saved_count = t.ready_count;
  const std::uint32_t base = t.run_count;  // below: an outer frame's cells, left alone
  t.sys = this;
  t.run_base = base;
  t.ready_head = nullptr;
  t.ready_tail = nullptr;
  t.ready_count = 0;
  run_turn(c);
  // Hand-offs: the actors our turns made runnable run here next, newest first, without a port
  // round trip, so a tree of spawns unfolds depth-first.
  for (std::uint32_t hops = 0; t.run_count > base && hops < opts.handoff_limit; ++hops) {
    run_turn(t.run_stack[--t.run_count]);
  }
  // Limit reached: the rest go to the port, oldest first, for every worker to share out.
  for (std::uint32_t i = base; i < t.run_count; ++i) {
    port_ref.post(t.run_stack[i]);
  }
  t.run_count = base;
  t.sys = saved_sys;
  t.run_base = saved_base;
  t.ready_head = saved_head;
  t.ready_tail = saved_tail;
  t.ready_count = saved_count;
}

void system_impl::answer_evicted(envelope* list) noexcept {
  while (list != nullptr) {
    auto* next = static_cast<envelope*>(list->next.load(std::memory_order_relaxed));
    if (list->kind == envelope_kind::user && list->id != 0 && list->sender) {
      try {
        deliver_error_reply(list->sender, list->id, actor_errc::dropped);
      } catch (...) {
        // Out of memory: the asker's deadline (if any) still answers it.
      }
    }
    free_envelope(list);
    list = next;
  }
}

void system_impl::run_turn(actor_cell* c) {
  actor* a = c->current.load(std::memory_order_acquire);
  std::uint32_t budget = opts.batch;
  if (a != nullptr && actor_access::batch(*a) != 0) {
    budget = actor_access::batch(*a);
  }
  // Overload warning with a doubling threshold (reset once the mailbox drains).
  const std::int64_t depth = c->box.pending(std::memory_order_relaxed);
  std::uint8_t shift = c->warn_shift;
  if (a != nullptr && opts.mailbox_warn_threshold != 0 && shift < 48 &&
      static_cast<std::uint64_t>(depth) > (opts.mailbox_warn_threshold << shift)) {
    actors_log().warn("actor {}:{} mailbox holds {} messages (warning threshold {})",
                       c->slot, actor_access::generation(*a), depth,
                       opts.mailbox_warn_threshold << shift);
    while (shift < 48 && static_cast<std::uint64_t>(depth) > (opts.mailbox_warn_threshold << shift)) {
      ++shift;
    }
    c->warn_shift = shift;
  }
  std::int64_t done = 0;
  std::uint32_t handled = 0;
  while (handled < budget) {
    const mailbox::popped p = c->box.pop();
    if (p.evicted != nullptr) {
      done += p.evicted_count;
      answer_evicted(p.evicted);
    }
    if (p.next == nullptr) {
      break;
    }
    ++done;
    ++handled;
    dispatch(c, p.next);
  }
  // Everything this turn writes of the cell happens before the fetch_sub below: when it takes
  // `pending` to 0, a producer's next push may start the next turn on another worker at once.
  // So the warning is re-armed here, on the drain this turn is about to report: if a push lands
  // in between, the next turn merely warns from the base threshold again.
  if (c->warn_shift != 0 && c->box.pending(std::memory_order_relaxed) == done) {
    c->warn_shift = 0;
  }
  // The hand-off. After it this turn touches only the drain registry (its own lock, and the
  // cell's atomics) and, if `left` > 0 (no producer can make the cell runnable), re-posts it.
  const std::int64_t left = c->box.finish_turn(done);
  if (c->drain_watch.load(std::memory_order_seq_cst)) {
    check_drain(c);
  }
  thread_state& t = tls();
  if (left > 0) {
    // More is waiting (or a producer is mid-push): yield the worker and come back, at the end
    // of the chain of the actors this turn made runnable (one post for all of them).
    schedule_remote(t, c);
  }
  flush_ready(t);
}

void system_impl::dispatch(actor_cell* c, envelope* e) {
  actor* a = c->current.load(std::memory_order_acquire);
  if (a == nullptr || actor_access::generation(*a) != e->target_generation) {
    dead_letter(actor_ref{c->slot, e->target_generation, 0}, e);
    return;
  }
  const std::int64_t stamp = e->enqueued_ns;
  std::int64_t start = 0;
  if (stamp != 0) {
    start = metrics_now_ns();
    actor_cell::bump(c->wait_ns, start > stamp ? start - stamp : 0);
  }
  thread_state& t = tls();
  actor* const saved = t.current;
  t.current = a;
  actor_access::handle(*a, *e);
  t.current = saved;
  actor_cell::bump(c->handled, 1);
  if (stamp != 0) {
    const std::int64_t end = metrics_now_ns();
    actor_cell::bump(c->handler_ns, end - start);
    actor_cell::bump(c->sampled, 1);
  }
  free_envelope(e);
  if (actor_access::exiting(*a)) {
    terminate(c, a);
  }
}

void system_impl::drain_aborted(actor_cell* c) noexcept {
  const std::int64_t done = c->box.discard_all();
  const bool left = done != 0 && c->box.finish_turn(done) > 0;
  // The actor will never run again on this port, so nothing would ever drain it: release what
  // waits for the drain (a session paused for backpressure) with errc::aborted, or it would stay
  // paused, and open, forever.
  if (c->drain_watch.load(std::memory_order_seq_cst)) {
    fail_drain(c, make_error_code(errc::aborted));
  }
  if (left && !closing.load(std::memory_order_relaxed)) {
    port_ref.post(c);  // a producer is mid-push; the port will abort us again
  }
}

}  // namespace quay::detail
