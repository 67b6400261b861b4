// How actors stop, and the handler coroutines they own.

#include <cassert>
#include <exception>

#include "actors_log.hpp"
#include "system_impl.hpp"

namespace quay {

using detail::envelope;
using detail::envelope_kind;

void actor::start_task(detail::task_promise_base& p, std::coroutine_handle<> h, envelope& e) {
  detail::actor_extras& x = extras();
  p.owner = this;
  p.self = h;
  p.reply_to = e.sender;
  p.request_id = e.kind == envelope_kind::user ? e.id : 0;
  p.prev = nullptr;
  p.next = x.tasks;
  if (x.tasks != nullptr) {
    x.tasks->prev = &p;
  }
  x.tasks = &p;
  h.resume();  // may finish (and be destroyed) before this returns
}

namespace detail {

namespace {
void unlink_task(actor_extras& x, task_promise_base& p) noexcept {
  if (p.prev != nullptr) {
    p.prev->next = p.next;
  } else {
    x.tasks = p.next;
  }
  if (p.next != nullptr) {
    p.next->prev = p.prev;
  }
  p.prev = p.next = nullptr;
}
}  // namespace

void finish_top_level_task(task_promise_base& p) noexcept {
  actor& a = *p.owner;
  actor_extras& x = actor_access::extras(a);
  unlink_task(x, p);
  system_impl& sys = actor_access::sys(a);
  if (p.error) {
    const char* what = "unknown exception";
    std::string text;
    try {
      std::rethrow_exception(p.error);
    } catch (const std::exception& ex) {
      text = ex.what();
      what = text.c_str();
    } catch (...) {
    }
    actor_access::fail(a, what);
    if (p.request_id != 0 && p.reply_to) {
      sys.deliver_error_reply(p.reply_to, p.request_id, actor_errc::target_failed);
    }
  } else if (p.request_id != 0 && p.reply_to && p.send_reply != nullptr) {
    try {
      p.send_reply(p);
    } catch (...) {
      actor_access::fail(a, "reply could not be sent");
    }
  }
  p.self.destroy();
}

void actor_access::shut_down(actor& a, system_impl& sys) noexcept {
  const actor_ref me = a.self();
  const exit_reason reason = a.exit_reason_;
  try {
    a.on_stop(reason);
  } catch (const std::exception& ex) {
    actors_log().warn("actor {}:{} on_stop threw: {}", me.slot, me.generation, ex.what());
  } catch (...) {
    actors_log().warn("actor {}:{} on_stop threw", me.slot, me.generation);
  }
  actor_extras* x = a.extras_;
  if (x == nullptr) {
    return;
  }
  try {
    // Suspended handler coroutines die with the actor; their askers learn it.
    while (x->tasks != nullptr) {
      task_promise_base* p = x->tasks;
      unlink_task(*x, *p);
      if (p->request_id != 0 && p->reply_to) {
        sys.deliver_error_reply(p->reply_to, p->request_id, actor_errc::target_stopped);
      }
      p->self.destroy();
    }
    if (x->sweep_timer) {
      sys.port_ref.cancel_timer(x->sweep_timer);
      x->sweep_timer = timer_id{};
    }
    x->requests.clear();
    x->deadlines.clear();
    for (auto& [id, t] : x->timers) {
      sys.port_ref.cancel_timer(t.port_timer);
    }
    x->timers.clear();
    for (const auto& w : x->watchers) {
      envelope* d = make_envelope(down{me, reason, x->exit_detail});
      d->control = true;
      d->sender = me;
      switch (w.kind) {
        case watch_kind::monitor:
          d->kind = envelope_kind::monitor_down;
          break;
        case watch_kind::link:
          d->kind = envelope_kind::link_exit;
          break;
        case watch_kind::parent:
          d->kind = envelope_kind::child_exit;
          break;
      }
      sys.deliver(w.who, d);
    }
    x->watchers.clear();
    for (const auto& ch : x->children) {
      sys.deliver_signal(ch.ref, envelope_kind::exit,
                         static_cast<std::int32_t>(exit_reason::killed), 0, me);
    }
    x->children.clear();
  } catch (...) {
    actors_log().error("actor {}:{}: out of memory while stopping", me.slot,
                        me.generation);
  }
}

void system_impl::terminate(actor_cell* c, actor* a) noexcept {
  const actor_ref me{c->slot, actor_access::generation(*a), 0};
  // From here sends to `me` are dead letters at the sender.
  c->live_generation.store(0, std::memory_order_seq_cst);
  thread_state& t = tls();
  actor* const saved = t.current;
  t.current = a;
  actor_access::shut_down(*a, *this);
  t.current = saved;
  if (c->has_names.load(std::memory_order_seq_cst)) {
    unregister_all(me);
  }
  if (c->drain_watch.load(std::memory_order_seq_cst)) {
    fail_drain(c, make_error_code(actor_errc::dead_target));
  }
  c->current.store(nullptr, std::memory_order_release);
  delete a;
  c->box.reset();
  c->warn_shift = 0;
  c->handled.store(0, std::memory_order_relaxed);
  c->sampled.store(0, std::memory_order_relaxed);
  c->wait_ns.store(0, std::memory_order_relaxed);
  c->handler_ns.store(0, std::memory_order_relaxed);
  c->next_generation = me.generation + 1 == 0 ? 1 : me.generation + 1;
  live.fetch_sub(1, std::memory_order_relaxed);
  release_slot(c);
}

}  // namespace detail
}  // namespace quay
