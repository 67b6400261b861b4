// The actor base: construction from the spawn context, owner-only API, and handling of the
// system message kinds.

#include <algorithm>
#include <cassert>
#include <exception>
#include <stdexcept>
#include <string>

#include "actors_log.hpp"
#include "system_impl.hpp"

namespace quay {

using detail::actor_access;
using detail::envelope;
using detail::envelope_kind;
using detail::tls;

actor::actor() {
  detail::thread_state& t = tls();
  assert(t.spawn_cell != nullptr && "actors are created with spawn<T>(), never directly");
  if (t.spawn_cell == nullptr) {
    std::terminate();
  }
  cell_ = t.spawn_cell;
  sys_ = cell_->sys;
  generation_ = t.spawn_generation;
  t.spawn_cell = nullptr;
  t.constructing = this;
}

actor::~actor() { delete extras_; }

void actor::assert_owner() const noexcept {
#ifndef NDEBUG
  const detail::thread_state& t = tls();
  assert((t.current == this || t.constructing == this) &&
         "owner only: called outside this actor's handlers");
#endif
}

actor_ref actor::self() const noexcept { return actor_ref{cell_->slot, generation_, 0}; }

actor_ref actor::sender() const noexcept {
  assert_owner();
  return current_sender_;
}

actor_system& actor::system() const noexcept { return sys_->owner; }

port_time actor::now() const noexcept { return sys_->port_ref.now(); }

detail::actor_extras& actor::extras() {
  if (extras_ == nullptr) {
    extras_ = new detail::actor_extras();
  }
  return *extras_;
}

namespace {

// (Re)arms the actor's single request-deadline timer for `at`.
void arm_request_sweep(actor& a, detail::actor_extras& x, port_time at) {
  detail::system_impl& sys = detail::actor_access::sys(a);
  if (x.sweep_timer) {
    sys.port_ref.cancel_timer(x.sweep_timer);
  }
  const std::uint64_t sweep = ++x.sweep_id;
  const actor_ref me = detail::actor_access::self_of(a);
  detail::system_impl* s = &sys;
  const port_time now = sys.port_ref.now();
  const millis delay = at > now ? std::chrono::duration_cast<millis>(at - now) : millis{0};
  x.sweep_at = at;
  x.sweep_timer = sys.port_ref.start_timer(delay, [s, me, sweep](std::error_code ec) {
    if (!ec) {
      s->deliver_signal(me, envelope_kind::timeout, 0, sweep);
    }
  });
}

}  // namespace

std::error_code actor::send_envelope(actor_ref to, envelope* e) {
  assert_owner();
  e->sender = self();
  return sys_->deliver(to, e);
}

std::error_code actor::reply_envelope(std::uint32_t type_id, envelope* e) {
  assert_owner();
  detail::thread_state& t = tls();
  if (t.current == this && t.serving_id != 0 && t.serving_reply_type == type_id) {
    const actor_ref to = t.serving_to;
    const std::uint64_t id = t.serving_id;
    t.serving_id = 0;  // answered: a later reply() in this turn is a plain send
    return reply_with(*this, to, id, e);
  }
  return send_envelope(current_sender_, e);
}

void actor::answered_by_return() noexcept { tls().serving_id = 0; }

detail::promise_state actor::take_request(std::uint32_t reply_type_id) noexcept {
  assert_owner();
  detail::thread_state& t = tls();
  if (t.current != this || t.serving_id == 0 || t.serving_reply_type != reply_type_id) {
    return {};
  }
  detail::promise_state s{sys_, t.serving_to, self(), t.serving_id};
  t.serving_id = 0;  // the promise answers it now; reply() and returns no longer do
  return s;
}

std::error_code actor::reply_with(actor& self, actor_ref reply_to, std::uint64_t request_id,
                                  envelope* reply) {
  if (request_id == 0 || !reply_to) {
    detail::free_envelope(reply);  // a plain send of a request type: nobody waits
    return {};
  }
  reply->kind = envelope_kind::reply;
  reply->control = true;
  reply->id = request_id;
  reply->sender = self.self();
  return self.sys_->deliver(reply_to, reply);
}

void actor::begin_request(actor_ref to, envelope* e, millis timeout, detail::reply_fn k) {
  assert_owner();
  detail::actor_extras& x = extras();
  const std::uint64_t id = x.next_id++;
  detail::pending_request req;
  req.id = id;
  req.origin_sender = current_sender_;
  if (const detail::thread_state& t = tls(); t.current == this) {
    req.origin_to = t.serving_to;
    req.origin_id = t.serving_id;
    req.origin_reply_type = t.serving_reply_type;
  }
  req.k = std::move(k);
  auto [slot, inserted] = x.requests.emplace(id, std::move(req));
  (void)inserted;  // ids are never reused
  if (timeout.count() > 0) {
    detail::pending_request& r = slot->second;
    r.deadline = sys_->port_ref.now() + timeout;
    try {
      // Deadlines mostly arrive in order (equal timeouts), so the hint makes this O(1).
      r.by_deadline = x.deadlines.emplace_hint(x.deadlines.end(), r.deadline, id);
    } catch (...) {
      x.requests.erase(slot);
      throw;
    }
    if (r.deadline < x.sweep_at) {
      arm_request_sweep(*this, x, r.deadline);
    }
  }
  e->id = id;
  e->sender = self();
  // Errors (dead target, full mailbox) come back as error replies, never synchronously.
  sys_->deliver(to, e);
}

timer_handle actor::start_message_timer(millis delay, millis period,
                                        unique_function<envelope*()> make) {
  assert_owner();
  detail::actor_extras& x = extras();
  const std::uint64_t id = x.next_id++;
  detail::system_impl* sys = sys_;
  const actor_ref me = self();
  struct firing {
    detail::system_impl* sys;
    actor_ref me;
    std::uint64_t id;
    unique_function<envelope*()> make;
  };
  auto state = std::make_unique<firing>(firing{sys, me, id, std::move(make)});
  const timer_id tid = sys_->port_ref.start_timer(
      delay,
      [s = std::move(state)](std::error_code ec) {
        if (ec) {
          return;
        }
        envelope* e = s->make();
        e->kind = envelope_kind::timer;
        e->control = true;
        e->id = s->id;
        s->sys->deliver(s->me, e);
      },
      period);
  try {
    x.timers.emplace(id, detail::active_timer{id, tid, period.count() > 0});
  } catch (...) {
    sys_->port_ref.cancel_timer(tid);
    throw;
  }
  return timer_handle{id};
}

bool actor::cancel_timer(timer_handle h) {
  assert_owner();
  if (extras_ == nullptr) {
    return false;
  }
  auto& ts = extras_->timers;
  const auto it = ts.find(h.id);
  if (it == ts.end()) {
    return false;
  }
  sys_->port_ref.cancel_timer(it->second.port_timer);
  ts.erase(it);
  return true;
}

void actor::stop() { stop(exit_reason::normal); }

void actor::stop(exit_reason reason, std::string detail) {
  assert_owner();
  if (exiting_) {
    return;  // the first reason wins
  }
  exiting_ = true;
  exit_reason_ = reason;
  if (!detail.empty()) {
    extras().exit_detail = std::move(detail);
  }
}

void actor::stop(actor_ref other) {
  assert_owner();
  sys_->deliver_signal(other, envelope_kind::exit, static_cast<std::int32_t>(exit_reason::normal),
                       0, self());
}

void actor::monitor(actor_ref other) {
  assert_owner();
  extras().monitoring.push_back(other);
  sys_->deliver_signal(other, envelope_kind::monitor, 0, 0, self());
}

void actor::demonitor(actor_ref other) {
  assert_owner();
  if (extras_ != nullptr) {
    std::erase(extras_->monitoring, other);
  }
  sys_->deliver_signal(other, envelope_kind::demonitor, 0, 0, self());
}

void actor::link(actor_ref other) {
  assert_owner();
  actor_access::add_watcher(*this, other, detail::watch_kind::link);
  sys_->deliver_signal(other, envelope_kind::link, 0, 0, self());
}

void actor::unlink(actor_ref other) {
  assert_owner();
  if (extras_ != nullptr) {
    std::erase_if(extras_->watchers, [&](const detail::watcher& w) {
      return w.who == other && w.kind == detail::watch_kind::link;
    });
  }
  sys_->deliver_signal(other, envelope_kind::unlink, 0, 0, self());
}

void actor::watch_name(std::string name) {
  assert_owner();
  sys_->watch_name(std::move(name), self());
}

void actor::unwatch_name(std::string_view name) {
  assert_owner();
  sys_->unwatch_name(name, self());
}

void actor::trap_exits(bool on) noexcept {
  assert_owner();
  trap_exits_ = on;
}

void actor::set_batch(std::uint32_t n) noexcept {
  assert_owner();
  batch_ = n;
}

void actor::set_mailbox_bound(std::uint32_t capacity, overflow_policy policy) {
  assert_owner();
  cell_->box.set_bound(capacity, policy);
}

namespace detail {

std::error_code deliver_promise(const promise_state& s, envelope* reply) {
  reply->kind = envelope_kind::reply;
  reply->control = true;
  reply->id = s.id;
  reply->sender = s.from;
  return s.sys->deliver(s.to, reply);
}

void break_promise(const promise_state& s, bool unwinding) noexcept {
  s.sys->deliver_error_reply(s.to, s.id,
                             unwinding ? actor_errc::target_failed : actor_errc::broken_promise);
}

void duplicate_handler(const char* actor_type, const char* message_type) {
  throw std::logic_error(std::string("quay: two handlers for one message type (") +
                         message_type + ") in " + actor_type);
}

void actor_access::add_watcher(actor& a, actor_ref who, watch_kind k) {
  auto& ws = a.extras().watchers;
  for (const auto& w : ws) {
    if (w.who == who && w.kind == k) {
      return;
    }
  }
  ws.push_back(watcher{who, k});
}

void actor_access::fail(actor& a, const char* what) {
  if (a.exiting_ && a.exit_reason_ == exit_reason::failure) {
    return;
  }
  actors_log().warn("actor {}:{} failed: {}", a.cell_->slot, a.generation_, what);
  a.exiting_ = true;
  a.exit_reason_ = exit_reason::failure;
  a.extras().exit_detail = what;
}

namespace {

// Dispatches a `down` payload to the user's handler if the actor has one; ignores it otherwise.
void deliver_down_to_user(actor& a, const handler_table* table, envelope& e) {
  if (handler_fn fn = table->find(message_type_id<down>())) {
    fn(a, e);
  }
}

}  // namespace

void actor_access::sweep_requests(actor& a, std::uint64_t sweep) {
  if (a.extras_ == nullptr || sweep != a.extras_->sweep_id) {
    return;  // a timer that was replaced by an earlier one
  }
  actor_extras& x = *a.extras_;
  x.sweep_timer = timer_id{};
  x.sweep_at = port_time::max();
  const port_time now = a.sys_->port_ref.now();
  // Take the expired ones out first (earliest first): their continuations may start new
  // requests. Only expired entries are visited.
  std::vector<pending_request> expired;
  while (!x.deadlines.empty() && x.deadlines.begin()->first <= now) {
    const auto d = x.deadlines.begin();
    const auto it = x.requests.find(d->second);
    x.deadlines.erase(d);
    if (it != x.requests.end()) {
      expired.push_back(std::move(it->second));
      x.requests.erase(it);
    }
  }
  if (!x.deadlines.empty() && x.deadlines.begin()->first < x.sweep_at) {
    arm_request_sweep(a, x, x.deadlines.begin()->first);
  }
  thread_state& t = tls();
  for (auto& r : expired) {
    a.current_sender_ = r.origin_sender;
    t.serving_to = r.origin_to;
    t.serving_id = r.origin_id;
    t.serving_reply_type = r.origin_reply_type;
    r.k(nullptr, make_error_code(actor_errc::timed_out));
  }
}

void actor_access::handle(actor& a, envelope& e) {
  a.current_sender_ = e.sender;
  // The request being served, for reply(): this message if it is an unanswered request.
  thread_state& t = tls();
  const actor_ref saved_to = t.serving_to;
  const std::uint64_t saved_id = t.serving_id;
  const std::uint32_t saved_type = t.serving_reply_type;
  t.serving_id = 0;
  if (e.kind == envelope_kind::user && e.id != 0 && e.sender && e.ops != nullptr &&
      e.ops->reply_type_id != 0) {
    t.serving_to = e.sender;
    t.serving_id = e.id;
    t.serving_reply_type = e.ops->reply_type_id;
  }
  try {
    switch (e.kind) {
      case envelope_kind::user:
      case envelope_kind::timer: {
        if (e.kind == envelope_kind::timer) {
          // Only still-active timers deliver; a one-shot timer is done once delivered.
          if (a.extras_ == nullptr) {
            break;
          }
          auto& ts = a.extras_->timers;
          const auto it = ts.find(e.id);
          if (it == ts.end()) {
            break;
          }
          if (!it->second.periodic) {
            ts.erase(it);
          }
          a.current_sender_ = actor_ref{};
        }
        handler_fn fn = a.table_->find(e.ops->type_id);
        if (fn == nullptr) {
          a.sys_->unhandled.fetch_add(1, std::memory_order_relaxed);
          actors_log().debug("actor {}:{} has no handler for message type {}",
                              a.cell_->slot, a.generation_, e.ops->type_id);
          if (e.kind == envelope_kind::user && e.id != 0 && e.sender) {
            a.sys_->deliver_error_reply(e.sender, e.id, actor_errc::unhandled);
          }
          break;
        }
        fn(a, e);
        break;
      }
      case envelope_kind::start:
        a.on_start();
        break;
      case envelope_kind::exit:
        if (!a.exiting_) {
          a.exiting_ = true;
          a.exit_reason_ = static_cast<exit_reason>(e.code);
        }
        break;
      case envelope_kind::reply: {
        if (a.extras_ == nullptr) {
          break;
        }
        auto& rs = a.extras_->requests;
        const auto it = rs.find(e.id);
        if (it == rs.end()) {
          break;  // a late reply after the request timed out
        }
        pending_request& r = it->second;
        reply_fn k = std::move(r.k);
        a.current_sender_ = r.origin_sender;
        t.serving_to = r.origin_to;
        t.serving_id = r.origin_id;
        t.serving_reply_type = r.origin_reply_type;
        if (r.deadline != port_time::max()) {
          a.extras_->deadlines.erase(r.by_deadline);
        }
        rs.erase(it);
        if (e.code != 0) {
          k(nullptr, make_error_code(static_cast<actor_errc>(e.code)));
        } else {
          k(&e, std::error_code{});
        }
        break;
      }
      case envelope_kind::timeout:
        sweep_requests(a, e.id);
        break;
      case envelope_kind::monitor:
        add_watcher(a, e.sender, watch_kind::monitor);
        break;
      case envelope_kind::demonitor:
        if (a.extras_ != nullptr) {
          std::erase_if(a.extras_->watchers, [&](const watcher& w) {
            return w.who == e.sender && w.kind == watch_kind::monitor;
          });
        }
        break;
      case envelope_kind::link:
        add_watcher(a, e.sender, watch_kind::link);
        break;
      case envelope_kind::unlink:
        if (a.extras_ != nullptr) {
          std::erase_if(a.extras_->watchers, [&](const watcher& w) {
            return w.who == e.sender && w.kind == watch_kind::link;
          });
        }
        break;
      case envelope_kind::link_exit: {
        const down& d = e.get<down>();
        if (a.extras_ != nullptr) {
          std::erase_if(a.extras_->watchers, [&](const watcher& w) {
            return w.who == d.who && w.kind == watch_kind::link;
          });
        }
        if (a.trap_exits_) {
          deliver_down_to_user(a, a.table_, e);
        } else if (d.reason != exit_reason::normal && !a.exiting_) {
          a.exiting_ = true;
          a.exit_reason_ = exit_reason::killed;
        }
        break;
      }
      case envelope_kind::monitor_down: {
        const down& d = e.get<down>();
        if (a.extras_ != nullptr) {
          auto& ms = a.extras_->monitoring;
          auto it = std::find(ms.begin(), ms.end(), d.who);
          if (it == ms.end()) {
            break;  // demonitored meanwhile
          }
          ms.erase(it);
        }
        deliver_down_to_user(a, a.table_, e);
        break;
      }
      case envelope_kind::child_exit:
        on_child_exit(a, e.get<down>());
        break;
    }
  } catch (const std::exception& ex) {
    fail(a, ex.what());
    if (e.kind == envelope_kind::user && e.id != 0 && e.sender) {
      a.sys_->deliver_error_reply(e.sender, e.id, actor_errc::target_failed);
    }
  } catch (...) {
    fail(a, "unknown exception");
    if (e.kind == envelope_kind::user && e.id != 0 && e.sender) {
      a.sys_->deliver_error_reply(e.sender, e.id, actor_errc::target_failed);
    }
  }
  a.current_sender_ = actor_ref{};
  t.serving_to = saved_to;
  t.serving_id = saved_id;
  t.serving_reply_type = saved_type;
}

}  // namespace detail
}  // namespace quay
