#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "quay/actors/actor_ref.hpp"
#include "quay/actors/error.hpp"
#include "quay/actors/message.hpp"
#include "quay/actors/result.hpp"
#include "quay/actors/task.hpp"
#include "quay/runtime/port.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay {

class actor;
class actor_system;

/// The wire form of message type M: specialise it to let M cross a process boundary (a client
/// session, another node). See quay/actors/wire.hpp. The primary template is empty: no wire form.
template <class M>
struct wire_form {};

/// Where the message being handled came from (actor::origin()).
struct message_origin {
  enum class source : std::uint8_t {
    local,    ///< a send in this process (sender() names the sender)
    session,  ///< a client session (net::session_of(origin) names it)
    node,     ///< another process (sender() names the remote actor)
  };
  source from = source::local;
  /// The message's wire id (0 for a local send).
  std::uint16_t wire_id = 0;
  /// The client's sequence number for a session message, else 0.
  std::uint32_t seq = 0;
  /// Opaque to actors: the session for source::session, the node for source::node.
  std::uint64_t id = 0;
};

namespace detail {
class system_impl;
struct actor_cell;
struct actor_extras;
struct actor_access;

using handler_fn = void (*)(actor& self, envelope& e);
using reply_fn = unique_function<void(envelope* reply, std::error_code ec)>;

/// A message type with a wire form, as a handler table and the wire registry know it.
struct wire_entry {
  std::uint16_t wire_id = 0;
  std::uint32_t type_id = 0;  // message_type_id<M>()
  bool (*verify)(std::span<const std::byte>) noexcept = nullptr;
  envelope* (*decode)(std::span<const std::byte>) = nullptr;  // only after verify
};

/// The handlers of one actor type, indexed by message type id, and the wire ids among them
/// (sorted). Built once per type.
struct handler_table {
  std::vector<handler_fn> by_id;
  std::vector<const wire_entry*> wire;
  handler_fn find(std::uint32_t id) const noexcept {
    return id < by_id.size() ? by_id[id] : nullptr;
  }
  const wire_entry* find_wire(std::uint16_t wire_id) const noexcept {
    std::size_t lo = 0, hi = wire.size();
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (wire[mid]->wire_id < wire_id) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo < wire.size() && wire[lo]->wire_id == wire_id ? wire[lo] : nullptr;
  }
  void add_wire(const wire_entry& e) {
    std::size_t at = 0;
    while (at < wire.size() && wire[at]->wire_id < e.wire_id) {
      ++at;
    }
    if (at < wire.size() && wire[at]->wire_id == e.wire_id) {
      wire[at] = &e;
    } else {
      wire.insert(wire.begin() + static_cast<std::ptrdiff_t>(at), &e);
    }
  }
};

/// Registers M's wire id in `t` (defined in quay/actors/wire.hpp, which a type with a wire form
/// includes to declare it).
template <class M>
void add_wire_handler(handler_table& t);

/// The origin of the message being handled on this thread (set by wire::deliver).
const message_origin& current_origin() noexcept;
struct wire_access;

template <class F>
struct member_fn_traits;
template <class C, class R, class A>
struct member_fn_traits<R (C::*)(A)> {
  using owner = C;
  using ret = R;
  using arg = A;
};

template <class M>
concept has_reply_type = requires { typename M::reply_type; };
}  // namespace detail

/// A handle to a started timer (after/every); cancel it with actor::cancel_timer.
struct timer_handle {
  std::uint64_t id = 0;
  explicit operator bool() const noexcept { return id != 0; }
};

/// What a bounded mailbox does when a send finds it full.
enum class overflow_policy : std::uint8_t {
  reject,       ///< the send fails with actor_errc::mailbox_full (counted as rejected)
  drop_oldest,  ///< the oldest ordinary message is discarded (counted as dropped)
};

/// How a supervisor treats a child that stopped (one-for-one).
enum class restart_policy : std::uint8_t {
  permanent,  ///< restarted whatever the reason
  transient,  ///< restarted unless it stopped normally (the default)
  temporary,  ///< never restarted
};

/// Builds the handler table of actor type T: `h.on<&T::on_join>()` per message type. Each
/// handler is a member function taking the message (`M&`, `const M&` or `M`) and returning:
/// `void`; `M::reply_type` (the reply to an ask); `task<>`; or `task<M::reply_type>`.
/// Coroutine handlers must take the message by value (the envelope is gone after the first
/// suspension). Thread contract: used only while the table is built, once per type.
template <class T>
class handlers {
 public:
  explicit handlers(detail::handler_table& t) noexcept : table_(t) {}

  /// Registers `Fn` as the handler of its message type.
  template <auto Fn>
  handlers& on() {
    using tr = detail::member_fn_traits<decltype(Fn)>;
    using M = std::remove_cvref_t<typename tr::arg>;
    static_assert(std::is_base_of_v<typename tr::owner, T>, "handler of another class");
    const std::uint32_t id = detail::message_type_id<M>();
    if (table_.by_id.size() <= id) {
      table_.by_id.resize(id + 1, nullptr);
    }
    table_.by_id[id] = &thunk<Fn>;
    if constexpr (requires { wire_form<M>::id; }) {
      // A type with a wire form: the same handler serves it from sessions and other nodes.
      detail::add_wire_handler<M>(table_);
    }
    return *this;
  }

 private:
  template <auto Fn>
  static void thunk(actor& self, detail::envelope& e);

  detail::handler_table& table_;
};

/// The base of every actor. Derive from it, add state, and give the class
/// `static void define(quay::handlers<T>& h)` to register handlers. Create actors with
/// actor_system::spawn<T>(args...) or spawn<T>() from another actor, never with `new`.
///
/// Guarantees (see docs/sdk.md):
/// - Handlers of one actor run one at a time (never on two workers at once), so its state needs
///   no locks. Between turns it may move between workers.
/// - Messages from one sender to one receiver are handled in the order sent, within a lane. The
///   control lane (replies, down notices, timer messages, stop) is served before ordinary
///   messages and is never evicted by a mailbox bound.
/// - A handler that throws fails this actor only (reason failure, with the exception text).
///
/// Thread contract: every protected member is owner only — call it from this actor's handlers,
/// constructor or coroutines, never from another thread. Debug builds assert this.
class actor {
 public:
  actor();
  virtual ~actor();
  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;

 protected:
  /// Runs in the actor's first turn, before any message. Owner only.
  virtual void on_start() {}
  /// Runs when the actor stops, before its destructor, with the reason. Owner only.
  virtual void on_stop(exit_reason /*reason*/) {}

  /// This actor's handle. Owner only.
  actor_ref self() const noexcept;
  /// The sender of the message being handled (null for messages from outside actors and for
  /// timer messages). Inside a request continuation it is the sender of the message whose
  /// handler made the request. Owner only.
  actor_ref sender() const noexcept;
  /// Where the message being handled came from: a local send (the default), a client session
  /// or another process, with its wire id and sequence number. Valid in the handler's
  /// synchronous part (a coroutine handler copies what it needs before its first suspension).
  /// Owner only.
  const message_origin& origin() const noexcept { return detail::current_origin(); }
  /// The system this actor runs in. Owner only.
  actor_system& system() const noexcept;
  /// The port's clock. Owner only.
  port_time now() const noexcept;

  /// Sends `m` to `to` (ordinary lane). Returns dead_target or mailbox_full when it could not be
  /// queued; the message is then a dead letter or a rejection. Owner only.
  template <class M>
  std::error_code send(actor_ref to, M&& m) {
    return send_envelope(to, detail::make_envelope(std::forward<M>(m)));
  }
  /// Answers the request this actor is serving, if `m` is of its reply type and it is still
  /// unanswered here: inside a handler that returns void (or task<>) for a request type, and
  /// inside the ask continuations (callback or after co_await) that such a handler started — a
  /// deferred answer. Otherwise (no such request, another type, already answered in this
  /// turn) sends `m` to sender() as a plain message. If two continuations both answer, the
  /// asker keeps the first and discards the other as a late reply. A handler that returns its
  /// reply type (or task<reply_type>) answers by returning; reply() there is a plain send.
  /// Owner only.
  template <class M>
  std::error_code reply(M&& m) {
    return reply_envelope(detail::message_type_id<std::remove_cvref_t<M>>(),
                          detail::make_envelope(std::forward<M>(m)));
  }

  /// Request/reply with a callback: sends `request` to `to` and later calls
  /// `on_reply(result<R>)` in one of this actor's turns, where R is M::reply_type, exactly once:
  /// with the reply, or with timed_out after `timeout` (0 = no deadline), dead_target,
  /// target_failed, target_stopped, mailbox_full or dropped. Never called synchronously.
  /// Dropped without a call if this actor stops first. Owner only.
  template <class M, class F>
  void ask(actor_ref to, M&& request, millis timeout, F&& on_reply) {
    using R = typename std::remove_cvref_t<M>::reply_type;
    begin_request(to, detail::make_envelope(std::forward<M>(request)), timeout,
                  detail::reply_fn([f = std::forward<F>(on_reply)](detail::envelope* r,
                                                                   std::error_code ec) mutable {
                    if (ec) {
                      f(result<R>(ec));
                    } else {
                      f(result<R>(std::move(r->get<R>())));
                    }
                  }));
  }

  template <class R>
  class ask_awaiter;
  /// Request/reply for coroutines: `result<R> r = co_await ask(to, request, timeout);` inside a
  /// handler returning task<...>. Same outcomes as the callback form. Owner only.
  template <class M>
  ask_awaiter<typename std::remove_cvref_t<M>::reply_type> ask(actor_ref to, M&& request,
                                                               millis timeout) {
    return ask_awaiter<typename std::remove_cvref_t<M>::reply_type>(
        *this, to, detail::make_envelope(std::forward<M>(request)), timeout);
  }

  /// Delivers `m` to this actor once, after `delay`, on the control lane. Owner only.
  template <class M>
  timer_handle after(millis delay, M&& m) {
    return start_message_timer(
        delay, millis{0},
        unique_function<detail::envelope*()>(
            [msg = std::remove_cvref_t<M>(std::forward<M>(m))]() mutable {
              return detail::make_envelope(std::move(msg));
            }));
  }
  /// Delivers a copy of `m` to this actor every `period` (first after one period), on the
  /// control lane, until cancelled or the actor stops. Owner only.
  template <class M>
  timer_handle every(millis period, M&& m) {
    return start_message_timer(period, period,
                               unique_function<detail::envelope*()>(
                                   [msg = std::remove_cvref_t<M>(std::forward<M>(m))]() {
                                     return detail::make_envelope(msg);
                                   }));
  }
  /// Cancels a timer: after this returns, its message is never delivered again (even one
  /// already queued). Returns false if it was not active. Owner only.
  bool cancel_timer(timer_handle t);

  /// Spawns a child actor (not supervised). Owner only.
  template <class T, class... A>
  actor_ref spawn(A&&... args);
  /// Spawns a supervised child: when it stops it is restarted per `policy` (one-for-one) with
  /// the same constructor arguments (copied), up to the restart intensity; a restarted child
  /// gets a new handle (re-registered under `name` if given). When this actor stops, its
  /// supervised children are stopped with reason killed. Owner only.
  template <class T, class... A>
  actor_ref supervise(restart_policy policy, std::string name, A&&... args);
  /// Sets the restart intensity: more than `max_restarts` restarts within `window` make this
  /// supervisor fail ("restart intensity exceeded"), escalating to its own supervisor. Default
  /// 3 in 5 s. Owner only.
  void set_restart_intensity(std::uint32_t max_restarts, millis window);

  /// Stops this actor after the current handler returns (reason normal). Owner only.
  void stop();
  /// Stops this actor after the current handler with the given reason. Owner only.
  void stop(exit_reason reason, std::string detail = {});
  /// Asks another actor to stop (reason normal, control lane). Owner only.
  void stop(actor_ref other);

  /// Watches `other`: a `down` message arrives (control lane) when it stops, or at once with
  /// no_actor if it is already gone. Owner only.
  void monitor(actor_ref other);
  /// Stops watching `other` (a `down` already on its way may still arrive). Owner only.
  void demonitor(actor_ref other);
  /// Links this actor and `other` both ways: when either stops with a reason other than
  /// normal, the other is stopped with reason killed, unless it traps exits, in which case it
  /// receives `down` instead. Owner only.
  void link(actor_ref other);
  /// Removes a link. Owner only.
  void unlink(actor_ref other);
  /// Chooses whether a linked actor's abnormal stop arrives as a `down` message (true) or
  /// stops this actor too (false, the default). Owner only.
  void trap_exits(bool on) noexcept;

  /// Messages handled per turn before yielding the worker (0 = the system default). Owner only.
  void set_batch(std::uint32_t n) noexcept;
  /// Bounds the ordinary lane to `capacity` messages (0 = unbounded) with the given policy.
  /// The control lane is never bounded. Owner only.
  void set_mailbox_bound(std::uint32_t capacity, overflow_policy policy);

 private:
  friend struct detail::actor_access;
  friend struct detail::wire_access;
  template <class>
  friend class handlers;
  friend class actor_system;

  std::error_code send_envelope(actor_ref to, detail::envelope* e);
  std::error_code reply_envelope(std::uint32_t type_id, detail::envelope* e);
  /// The running handler answers its request by returning a value: reply() is a plain send.
  static void answered_by_return() noexcept;
  void begin_request(actor_ref to, detail::envelope* e, millis timeout, detail::reply_fn k);
  timer_handle start_message_timer(millis delay, millis period,
                                   unique_function<detail::envelope*()> make);
  using child_factory = unique_function<actor_ref(actor_system&, actor_ref parent)>;
  actor_ref spawn_child(child_factory factory, bool supervised, restart_policy policy,
                        std::string name);
  void start_task(detail::task_promise_base& p, std::coroutine_handle<> h, detail::envelope& e);
  static std::error_code reply_with(actor& self, actor_ref reply_to, std::uint64_t request_id,
                                    detail::envelope* reply);
  void assert_owner() const noexcept;
  detail::actor_extras& extras();

  detail::system_impl* sys_;
  detail::actor_cell* cell_;
  const detail::handler_table* table_ = nullptr;
  detail::envelope* current_ = nullptr;
  detail::actor_extras* extras_ = nullptr;
  actor_ref current_sender_{};
  std::uint32_t generation_;
  std::uint32_t batch_ = 0;
  bool exiting_ = false;
  bool trap_exits_ = false;
  exit_reason exit_reason_ = exit_reason::normal;
};

/// Awaitable result of actor::ask without a callback.
template <class R>
class actor::ask_awaiter {
 public:
  ask_awaiter(actor& self, actor_ref to, detail::envelope* e, millis timeout) noexcept
      : self_(self), to_(to), e_(e), timeout_(timeout) {}
  ask_awaiter(const ask_awaiter&) = delete;
  ask_awaiter& operator=(const ask_awaiter&) = delete;
  ~ask_awaiter() {
    if (e_ != nullptr) {
      detail::free_envelope(e_);
    }
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    detail::envelope* e = std::exchange(e_, nullptr);
    self_.begin_request(to_, e, timeout_,
                        detail::reply_fn([this, h](detail::envelope* r, std::error_code ec) {
                          if (ec) {
                            result_.emplace(ec);
                          } else {
                            result_.emplace(std::move(r->get<R>()));
                          }
                          h.resume();
                        }));
  }
  result<R> await_resume() { return std::move(*result_); }

 private:
  actor& self_;
  actor_ref to_;
  detail::envelope* e_;
  millis timeout_;
  std::optional<result<R>> result_;
};

namespace detail {
/// Builds (once) the handler table of T. Thread-safe.
template <class T>
const handler_table& table_of() {
  static const handler_table table = [] {
    handler_table t;
    if constexpr (requires(handlers<T>& h) { T::define(h); }) {
      handlers<T> h(t);
      T::define(h);
    }
    return t;
  }();
  return table;
}
}  // namespace detail

template <class T>
template <auto Fn>
void handlers<T>::thunk(actor& self, detail::envelope& e) {
  using tr = detail::member_fn_traits<decltype(Fn)>;
  using A = typename tr::arg;
  using M = std::remove_cvref_t<A>;
  using R = typename tr::ret;
  auto& obj = static_cast<T&>(self);
  if constexpr (detail::is_task<R>::value) {
    static_assert(std::is_same_v<A, M>, "coroutine handlers must take the message by value");
    if constexpr (!std::is_void_v<typename R::value_type>) {
      static_assert(detail::has_reply_type<M> &&
                        std::is_same_v<typename R::value_type, typename M::reply_type>,
                    "task<R> handler: R must be the message's reply_type");
    }
    if constexpr (!std::is_void_v<typename R::value_type>) {
      actor::answered_by_return();
    }
    R t = (obj.*Fn)(std::move(e.get<M>()));
    auto h = t.release();
    auto& p = h.promise();
    if constexpr (!std::is_void_v<typename R::value_type>) {
      p.send_reply = [](detail::task_promise_base& b) {
        auto& tp = static_cast<typename R::promise_type&>(b);
        actor::reply_with(*tp.owner, tp.reply_to, tp.request_id,
                          detail::make_envelope(std::move(*tp.value)));
      };
    }
    self.start_task(p, h, e);
  } else if constexpr (std::is_void_v<R>) {
    if constexpr (std::is_lvalue_reference_v<A>) {
      (obj.*Fn)(e.get<M>());
    } else {
      (obj.*Fn)(std::move(e.get<M>()));
    }
  } else {
    static_assert(detail::has_reply_type<M> && std::is_same_v<R, typename M::reply_type>,
                  "a handler returning a value must return the message's reply_type");
    actor::answered_by_return();
    if constexpr (std::is_lvalue_reference_v<A>) {
      actor::reply_with(self, e.sender, e.id, detail::make_envelope((obj.*Fn)(e.get<M>())));
    } else {
      actor::reply_with(self, e.sender, e.id,
                        detail::make_envelope((obj.*Fn)(std::move(e.get<M>()))));
    }
  }
}

}  // namespace quay
