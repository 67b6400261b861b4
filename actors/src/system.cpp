// actor_system's public members, delivery, dead letters and scheduling.

#include <chrono>
#include <stdexcept>

#include "quay/actors/system.hpp"
#include "actors_log.hpp"
#include "system_impl.hpp"

namespace quay {
namespace detail {

thread_state& tls() noexcept {
  thread_local thread_state s;
  return s;
}

std::int64_t metrics_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

system_impl::system_impl(actor_system& o, port& p, const actor_system_options& opt)
    : owner(o), port_ref(p), opts(opt) {
  if (opts.batch == 0) {
    opts.batch = 1;
  }
  if (opts.metrics_sample_every == 0) {
    opts.metrics_sample_every = 1;
  }
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
  if (!e->control) {
    const std::uint32_t cap = c->capacity.load(std::memory_order_relaxed);
    if (cap != 0) {
      const std::uint32_t d = c->normal_depth.fetch_add(1, std::memory_order_acq_rel);
      e->flags |= flag_counted;
      if (d >= cap && c->policy.load(std::memory_order_relaxed) ==
                          static_cast<std::uint8_t>(overflow_policy::reject)) {
        c->normal_depth.fetch_sub(1, std::memory_order_acq_rel);
        c->rejected.fetch_add(1, std::memory_order_relaxed);
        if (e->kind == envelope_kind::user && e->id != 0 && e->sender) {
          deliver_error_reply(e->sender, e->id, actor_errc::mailbox_full);
        }
        free_envelope(e);
        return actor_errc::mailbox_full;
      }
    }
  }
  if (++t.sample_tick >= opts.metrics_sample_every) {
    t.sample_tick = 0;
    e->enqueued_ns = metrics_now_ns();
  }
  (e->control ? c->control : c->normal).push(e);
  if (c->pending.fetch_add(1, std::memory_order_acq_rel) == 0) {
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

}  // namespace detail

actor_system::actor_system(port& p, actor_system_options options)
    : impl_(std::make_unique<detail::system_impl>(*this, p, options)) {}

actor_system::~actor_system() {
  detail::system_impl& s = *impl_;
  s.closing.store(true, std::memory_order_seq_cst);
  // Stop every live actor (on_stop runs with reason killed), then free what is still queued.
  for (std::uint32_t slot = 0;; ++slot) {
    detail::actor_cell* c = s.cell_at(slot);
    if (c == nullptr) {
      break;
    }
    actor* a = c->current.load(std::memory_order_acquire);
    if (a != nullptr) {
      detail::actor_access::set_exit(*a, exit_reason::killed);
      s.terminate(c, a);
    }
    s.drain_aborted(c);
  }
}

port& actor_system::get_port() const noexcept { return impl_->port_ref; }
const actor_system_options& actor_system::options() const noexcept { return impl_->opts; }

void* actor_system::begin_spawn(const spawn_options& /*o*/) {
  detail::thread_state& t = detail::tls();
  if (t.constructing_depth == detail::thread_state::max_spawn_nesting) {
    throw std::length_error("quay: spawns nested more than 64 constructors deep");
  }
  detail::actor_cell* c = impl_->acquire_slot();
  t.constructing_stack[t.constructing_depth++] = t.constructing;
  t.spawn_cell = c;
  t.spawn_generation = c->next_generation;
  return c;
}

void actor_system::abort_spawn(void* slot) noexcept {
  auto* c = static_cast<detail::actor_cell*>(slot);
  detail::thread_state& t = detail::tls();
  t.spawn_cell = nullptr;
  t.constructing = t.constructing_stack[--t.constructing_depth];
  // The generation was never published; bump it anyway so nothing can alias it.
  c->next_generation = c->next_generation + 1 == 0 ? 1 : c->next_generation + 1;
  impl_->release_slot(c);
}

actor_ref actor_system::finish_spawn(void* slot, actor* a, const detail::handler_table* table,
                                     const spawn_options& o) {
  auto* c = static_cast<detail::actor_cell*>(slot);
  detail::thread_state& t = detail::tls();
  t.constructing = t.constructing_stack[--t.constructing_depth];
  detail::actor_access::set_table(*a, table);
  const actor_ref ref{c->slot, c->next_generation, 0};
  if (o.parent) {
    detail::actor_access::add_watcher(*a, o.parent, detail::watch_kind::parent);
  }
  // Counters and the warning threshold were reset by the previous actor's terminate(), on
  // the consumer side: the cell's last turn may still be running while we spawn.
  c->current.store(a, std::memory_order_release);
  c->live_generation.store(ref.generation, std::memory_order_release);
  impl_->live.fetch_add(1, std::memory_order_relaxed);
  impl_->deliver_signal(ref, detail::envelope_kind::start, 0);
  return ref;
}

std::error_code actor_system::deliver(actor_ref to, detail::envelope* e) {
  return impl_->deliver(to, e);
}

void actor_system::stop(actor_ref to) {
  impl_->deliver_signal(to, detail::envelope_kind::exit,
                        static_cast<std::int32_t>(exit_reason::normal));
}

void actor_system::kill(actor_ref to) {
  impl_->deliver_signal(to, detail::envelope_kind::exit,
                        static_cast<std::int32_t>(exit_reason::killed));
}

bool actor_system::alive(actor_ref r) const noexcept { return impl_->live_cell(r) != nullptr; }

std::size_t actor_system::live_actors() const noexcept {
  return impl_->live.load(std::memory_order_relaxed);
}

std::uint64_t actor_system::dead_letters() const noexcept {
  return impl_->dead_letters.load(std::memory_order_relaxed);
}

std::uint64_t actor_system::unhandled() const noexcept {
  return impl_->unhandled.load(std::memory_order_relaxed);
}

std::optional<actor_counters> actor_system::counters(actor_ref r) const noexcept {
  detail::actor_cell* c = impl_->live_cell(r);
  if (c == nullptr) {
    return std::nullopt;
  }
  actor_counters k;
  k.handled = c->handled.load(std::memory_order_relaxed);
  const std::int64_t p = c->pending.load(std::memory_order_relaxed);
  k.depth = p > 0 ? static_cast<std::uint64_t>(p) : 0;
  k.dropped = c->dropped.load(std::memory_order_relaxed);
  k.rejected = c->rejected.load(std::memory_order_relaxed);
  k.sampled = c->sampled.load(std::memory_order_relaxed);
  k.mailbox_wait = std::chrono::nanoseconds(c->wait_ns.load(std::memory_order_relaxed));
  k.handler_time = std::chrono::nanoseconds(c->handler_ns.load(std::memory_order_relaxed));
  if (c->live_generation.load(std::memory_order_acquire) != r.generation) {
    return std::nullopt;  // the slot changed hands while we read
  }
  return k;
}

std::optional<std::uint64_t> actor_system::mailbox_depth(actor_ref r) const noexcept {
  detail::actor_cell* c = impl_->live_cell(r);
  if (c == nullptr) {
    return std::nullopt;
  }
  const std::int64_t p = c->pending.load(std::memory_order_acquire);
  return p > 0 ? static_cast<std::uint64_t>(p) : 0;
}

bool actor_system::register_name(std::string_view name, actor_ref r) {
  return impl_->register_name(name, r);
}
bool actor_system::unregister_name(std::string_view name) { return impl_->unregister_name(name); }
std::optional<actor_ref> actor_system::whereis(std::string_view name) const {
  return impl_->whereis(name);
}
void actor_system::notify_when_drained(actor_ref r, std::uint64_t low_water, completion* c) {
  impl_->notify_when_drained(r, low_water, c);
}
bool actor_system::cancel_drain_notification(actor_ref r, completion* c) {
  return impl_->cancel_drain_notification(r, c);
}

}  // namespace quay
