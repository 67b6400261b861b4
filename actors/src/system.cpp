// actor_system's public members: construction and shutdown, spawn, stop, queries, names and
// the backpressure hooks. Delivery, dead letters and scheduling have their own files.

#include <stdexcept>

#include "quay/actors/system.hpp"
#include "system_impl.hpp"

namespace quay {
namespace detail {

system_impl::system_impl(actor_system& o, port& p, const actor_system_options& opt)
    : owner(o), port_ref(p), opts(opt) {
  if (opts.batch == 0) {
    opts.batch = 1;
  }
  if (opts.metrics_sample_every == 0) {
    opts.metrics_sample_every = 1;
  }
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

void* actor_system::begin_spawn(const detail::spawn_options& /*o*/) {
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
                                     const detail::spawn_options& o) {
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
  const std::int64_t p = c->box.pending(std::memory_order_relaxed);
  k.depth = p > 0 ? static_cast<std::uint64_t>(p) : 0;
  k.dropped = c->box.dropped();
  k.rejected = c->box.rejected();
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
  const std::int64_t p = c->box.pending(std::memory_order_acquire);
  return p > 0 ? static_cast<std::uint64_t>(p) : 0;
}

bool actor_system::register_name(std::string_view name, actor_ref r) {
  return impl_->register_name(name, r);
}
bool actor_system::unregister_name(std::string_view name) { return impl_->unregister_name(name); }
std::optional<actor_ref> actor_system::whereis(std::string_view name) const {
  return impl_->whereis(name);
}
namespace detail {

void notify_when_drained(actor_system& sys, actor_ref r, std::uint64_t low_water, completion* c) {
  sys.impl_->notify_when_drained(r, low_water, c);
}

bool cancel_drain_notification(actor_system& sys, actor_ref r, completion* c) {
  return sys.impl_->cancel_drain_notification(r, c);
}

}  // namespace detail

}  // namespace quay
