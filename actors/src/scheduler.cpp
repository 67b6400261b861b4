// The scheduler: how a runnable cell reaches a worker (a hand-off on this worker, the ready
// chain of the running turn, or a post), and the dispatcher's per-thread state. The turns
// themselves are in turn.cpp.

#include <chrono>

#include "system_impl.hpp"

namespace quay::detail {

thread_state& tls() noexcept {
  thread_local thread_state s;
  return s;
}

std::int64_t metrics_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void system_impl::schedule(actor_cell* c) noexcept {
  thread_state& t = tls();
  if (t.sys == this && opts.local_handoff) {
    if (t.run_count < thread_state::run_stack_capacity) {
      t.run_stack[t.run_count++] = c;
      return;
    }
    if (t.run_base < t.run_count) {
      // Full: the oldest of this frame goes to the port, where another worker can take it,
      // and the newest stays here (depth-first).
      actor_cell* oldest = t.run_stack[t.run_base];
      for (std::uint32_t i = t.run_base; i + 1 < t.run_count; ++i) {
        t.run_stack[i] = t.run_stack[i + 1];
      }
      t.run_stack[t.run_count - 1] = c;
      schedule_remote(t, oldest);
      return;
    }
  }
  if (t.sys == this) {
    schedule_remote(t, c);
    return;
  }
  port_ref.post(c);
}

void system_impl::schedule_remote(thread_state& t, actor_cell* c) noexcept {
  if (opts.ready_batch > 1) {
    // Chained behind the others this turn sent out; run_turn posts the chain when it ends,
    // so the delay is bounded by one turn.
    c->chain_next = nullptr;
    if (t.ready_tail != nullptr) {
      t.ready_tail->chain_next = c;
    } else {
      t.ready_head = c;
    }
    t.ready_tail = c;
    if (++t.ready_count >= opts.ready_batch) {
      flush_ready(t);
    }
    return;
  }
  port_ref.post(c);
}

void system_impl::flush_ready(thread_state& t) noexcept {
  actor_cell* head = t.ready_head;
  t.ready_head = nullptr;
  t.ready_tail = nullptr;
  t.ready_count = 0;
  if (head != nullptr) {
    port_ref.post(head);
  }
}

}  // namespace quay::detail
