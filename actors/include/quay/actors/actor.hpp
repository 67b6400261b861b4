#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "quay/actors/actor_ref.hpp"
#include "quay/actors/error.hpp"
#include "quay/actors/detail/envelope.hpp"
#include "quay/actors/result.hpp"
#include "quay/actors/task.hpp"
#include "quay/actors/typed_ref.hpp"
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

template <class M>
concept has_reply_type = requires { typename M::reply_type; };

/// What a response_promise needs to answer one request: where the reply goes. Empty (sys null)
/// once delivered, broken or moved from.
struct promise_state {
  system_impl* sys = nullptr;
  actor_ref to{};    // the asker
  actor_ref from{};  // the actor that took the request (the reply's sender)
  std::uint64_t id = 0;
};
/// Sends `reply` as the answer to the request of `s`. Thread-safe.
std::error_code deliver_promise(const promise_state& s, envelope* reply);
/// Answers the request of `s` with actor_errc::broken_promise, or target_failed when the
/// promise is destroyed by an exception unwinding (its handler threw). Thread-safe.
void break_promise(const promise_state& s, bool unwinding) noexcept;
}  // namespace detail

template <class R>
class response_promise;

namespace detail {
template <class X>
struct is_response_promise : std::false_type {};
template <class R>
struct is_response_promise<response_promise<R>> : std::true_type {};

/// The shape of a handler: a non-static member function of the actor (const and noexcept
/// allowed) taking the message, and optionally a response_promise as second parameter.
template <class F>
struct handler_traits {
  static constexpr bool is_member_function = false;
  static constexpr std::size_t arity = 0;
};
template <class C, class R, class... A>
struct handler_shape {
  static constexpr bool is_member_function = true;
  static constexpr std::size_t arity = sizeof...(A);
  using owner = C;
  using ret = R;
  using args = std::tuple<A...>;
};
template <class C, class R, class... A>
struct handler_traits<R (C::*)(A...)> : handler_shape<C, R, A...> {};
template <class C, class R, class... A>
struct handler_traits<R (C::*)(A...) const> : handler_shape<C, R, A...> {};
template <class C, class R, class... A>
struct handler_traits<R (C::*)(A...) noexcept> : handler_shape<C, R, A...> {};
template <class C, class R, class... A>
struct handler_traits<R (C::*)(A...) const noexcept> : handler_shape<C, R, A...> {};

/// The message parameter of a handler (void if it has none).
template <class Tr, std::size_t N = Tr::arity>
struct message_param {
  using type = std::tuple_element_t<0, typename Tr::args>;
};
template <class Tr>
struct message_param<Tr, 0> {
  using type = void;
};
/// The response_promise parameter of a handler (void if it has none).
template <class Tr, std::size_t N = Tr::arity>
struct promise_param {
  using type = void;
};
template <class Tr>
struct promise_param<Tr, 2> {
  using type = std::tuple_element_t<1, typename Tr::args>;
};

/// The reply type of M, or void when M is not a request.
template <class M>
struct reply_of {
  using type = void;
};
template <has_reply_type M>
struct reply_of<M> {
  using type = typename M::reply_type;
};

/// Reports (start-up, first spawn) a second handler for one message type. Throws logic_error.
[[noreturn]] void duplicate_handler(const char* actor_type, const char* message_type);
/// A readable name for T (from the compiler's function signature). Thread-safe.
template <class T>
const char* type_name() noexcept {
  return __PRETTY_FUNCTION__;
}
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

/// The answer a handler owes to one request, to give later: from a callback, a timer, another
/// message, or another actor. Get one by taking it as the handler's second parameter
/// (`void on_buy(const buy& m, response_promise<receipt> p)`) or with `make_promise(request)`
/// inside the handler. Move-only.
///
/// Exactly once: the first deliver() answers the asker; later calls return
/// actor_errc::already_answered and send nothing. Dropped unanswered (destroyed or assigned
/// over while still pending, including when the actor holding it stops), it answers the asker
/// at once with actor_errc::broken_promise, never a timeout (target_failed instead if it is
/// destroyed by an exception: the handler holding it threw). A promise for a message that was
/// sent, not asked, has nothing to answer: it starts spent (deliver returns already_answered).
///
/// Thread contract: one thread at a time per promise; deliver() and the destructor may run on
/// any thread (another actor's turn, a blocking-work callback), but not after the
/// actor_system is destroyed. The reply's sender is the actor that took the request.
template <class R>
class response_promise {
 public:
  using value_type = R;

  /// A spent promise (nothing to answer).
  response_promise() noexcept = default;
  response_promise(response_promise&& o) noexcept : st_(std::exchange(o.st_, {})) {}
  response_promise& operator=(response_promise&& o) noexcept {
    if (this != &o) {
      drop();
      st_ = std::exchange(o.st_, {});
    }
    return *this;
  }
  response_promise(const response_promise&) = delete;
  response_promise& operator=(const response_promise&) = delete;
  /// Breaks the promise if it is still pending (the asker gets broken_promise).
  ~response_promise() { drop(); }

  /// True while the request waits for this promise's answer.
  bool pending() const noexcept { return st_.sys != nullptr; }
  explicit operator bool() const noexcept { return pending(); }

  /// Answers the request with `value`. Returns already_answered if it was answered (or never
  /// had a request), dead_target if the asker is gone (the reply is then a dead letter).
  std::error_code deliver(R value) {
    if (!pending()) {
      return actor_errc::already_answered;
    }
    detail::envelope* e = detail::make_envelope(std::move(value));  // may throw: still pending
    return detail::deliver_promise(std::exchange(st_, {}), e);
  }

 private:
  friend class actor;
  template <class>
  friend class handlers;
  explicit response_promise(const detail::promise_state& s) noexcept : st_(s) {}
  void drop() noexcept {
    if (pending()) {
      detail::break_promise(std::exchange(st_, {}), std::uncaught_exceptions() > 0);
    }
  }

  detail::promise_state st_;
};

/// Builds the handler table of actor type T: `h.on<&T::on_join>()` per message type. A handler
/// is a member function of T (const and noexcept ones too) taking the message (`M&`,
/// `const M&`, `M&&` or `M`) and returning:
/// - `void`, or `task<>` (a coroutine);
/// - `M::reply_type`, or `task<M::reply_type>`: the reply to an ask, given by returning;
/// - or, with a second parameter `response_promise<M::reply_type>`, `void` or `task<>`: the
///   reply is given later through the promise.
/// Coroutine handlers must take the message by value (the envelope is gone after the first
/// suspension). A wrong shape is a compile-time error whose message names the rule; two
/// handlers for one message type make the first spawn of T throw std::logic_error naming both
/// types. Thread contract: used only while the table is built, once per type.
template <class T>
class handlers {
 public:
  explicit handlers(detail::handler_table& t) noexcept : table_(t) {}

  /// Registers `Fn` as the handler of its message type.
  template <auto Fn>
  handlers& on() {
    using tr = detail::handler_traits<decltype(Fn)>;
    static_assert(tr::is_member_function,
                  "quay: on<&T::f>: a handler must be a non-static member function of the actor");
    if constexpr (tr::is_member_function) {
      static_assert(std::is_base_of_v<typename tr::owner, T>,
                    "quay: on<&T::f>: the handler is a member of another class than the actor");
      static_assert(tr::arity == 1 || tr::arity == 2,
                    "quay: on<&T::f>: a handler takes the message, and optionally a "
                    "response_promise<reply_type>, nothing else");
      if constexpr (tr::arity == 1 || tr::arity == 2) {
        constexpr bool shape_ok = check_shape<tr>();
        using M = std::remove_cvref_t<typename detail::message_param<tr>::type>;
        const std::uint32_t id = detail::message_type_id<M>();
        if (table_.by_id.size() <= id) {
          table_.by_id.resize(id + 1, nullptr);
        }
        if (table_.by_id[id] != nullptr) {
          detail::duplicate_handler(detail::type_name<T>(), detail::type_name<M>());
        }
        if constexpr (shape_ok) {
          table_.by_id[id] = &thunk<Fn>;
          if constexpr (requires { wire_form<M>::id; }) {
            // A type with a wire form: the same handler serves it from sessions and other
            // nodes.
            detail::add_wire_handler<M>(table_);
          }
        }
      }
    }
    return *this;
  }

 private:
  // Checks a handler's shape; each broken rule is one static_assert naming it. Returns
  // whether every rule holds (the thunk is instantiated only then: no follow-on errors).
  template <class Tr>
  static constexpr bool check_shape() {
    using A = typename detail::message_param<Tr>::type;
    using M = std::remove_cvref_t<A>;
    using R = typename Tr::ret;
    using P = typename detail::promise_param<Tr>::type;
    using Reply = typename detail::reply_of<M>::type;
    constexpr bool not_pointer = !std::is_pointer_v<M>;
    static_assert(not_pointer,
                  "quay: on<&T::f>: a handler takes its message by reference or by value, "
                  "not by pointer");
    constexpr bool not_volatile = !std::is_volatile_v<std::remove_reference_t<A>>;
    static_assert(not_volatile, "quay: on<&T::f>: a handler's message cannot be volatile");
    constexpr bool second_is_promise =
        std::is_void_v<P> || detail::is_response_promise<std::remove_cvref_t<P>>::value;
    static_assert(second_is_promise,
                  "quay: on<&T::f>: a handler takes one message; a second parameter can only "
                  "be response_promise<M::reply_type>");
    constexpr bool promise_ok =
        !second_is_promise || std::is_void_v<P> || std::is_same_v<P, response_promise<Reply>>;
    if constexpr (second_is_promise && !std::is_void_v<P>) {
      static_assert(detail::has_reply_type<M>,
                    "quay: on<&T::f>: a handler with a response_promise must handle a request "
                    "type (one with a reply_type)");
      static_assert(!detail::has_reply_type<M> || std::is_same_v<P, response_promise<Reply>>,
                    "quay: on<&T::f>: the second parameter must be "
                    "response_promise<M::reply_type>, taken by value");
    }
    constexpr bool promise_return_ok =
        std::is_void_v<P> || std::is_void_v<R> || std::is_same_v<R, task<>>;
    static_assert(promise_return_ok,
                  "quay: on<&T::f>: a handler with a response_promise answers through it: it "
                  "returns void or task<>");
    constexpr bool return_ok = [] {
      if constexpr (detail::is_task<R>::value) {
        return std::is_same_v<A, M> && (std::is_void_v<typename R::value_type> ||
                                        std::is_same_v<typename R::value_type, Reply>);
      } else {
        return std::is_void_v<R> || std::is_same_v<R, Reply>;
      }
    }();
    if constexpr (detail::is_task<R>::value) {
      static_assert(std::is_same_v<A, M>,
                    "quay: on<&T::f>: a coroutine handler (returning task<...>) must take the "
                    "message by value");
      static_assert(std::is_void_v<typename R::value_type> ||
                        std::is_same_v<typename R::value_type, Reply>,
                    "quay: on<&T::f>: a handler returning task<R> must handle a request whose "
                    "reply_type is R");
    } else if constexpr (promise_return_ok) {
      static_assert(std::is_void_v<R> || std::is_same_v<R, Reply>,
                    "quay: on<&T::f>: a handler returning a value must handle a request and "
                    "return its reply_type (or return void)");
    }
    return not_pointer && not_volatile && second_is_promise && promise_ok &&
           promise_return_ok && return_ok;
  }

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
  /// send() through a typed handle: compiles only if `to` lists M. Owner only.
  template <class M, class... Ms>
  std::error_code send(typed_ref<Ms...> to, M&& m) {
    detail::check_typed_send<typed_ref<Ms...>, M>();
    return send(to.untyped(), std::forward<M>(m));
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

  /// Takes the answer to the request being handled, to give later: `auto p =
  /// make_promise(req);` inside the handler of `req` (or of a continuation it started), then
  /// `p.deliver(reply)` from a callback, a timer, another message or another actor. From here
  /// on reply() is a plain send and the handler's return does not answer. Returns a spent
  /// promise if no request of that type is unanswered here (it was sent, not asked; or a
  /// promise or reply() took it already). Owner only.
  template <class M>
  response_promise<typename std::remove_cvref_t<M>::reply_type> make_promise(const M& /*req*/) {
    using R = typename std::remove_cvref_t<M>::reply_type;
    return response_promise<R>(take_request(detail::message_type_id<R>()));
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

  /// ask() with a callback through a typed handle: compiles only if `to` lists M. Owner only.
  template <class M, class F, class... Ms>
  void ask(typed_ref<Ms...> to, M&& request, millis timeout, F&& on_reply) {
    detail::check_typed_send<typed_ref<Ms...>, M>();
    ask(to.untyped(), std::forward<M>(request), timeout, std::forward<F>(on_reply));
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

  /// co_await ask() through a typed handle: compiles only if `to` lists M. Owner only.
  template <class M, class... Ms>
  ask_awaiter<typename std::remove_cvref_t<M>::reply_type> ask(typed_ref<Ms...> to, M&& request,
                                                               millis timeout) {
    detail::check_typed_send<typed_ref<Ms...>, M>();
    return ask(to.untyped(), std::forward<M>(request), timeout);
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

  /// Watches a registry name: a `name_bound` message arrives (control lane) now if `name` is
  /// bound to a live actor, and each time it is bound again (register_name, a supervised
  /// child's restart). No bind after this call is missed. Notices about one name arrive in bind
  /// order when one actor makes the binds (a supervisor); binds racing from several threads
  /// may be notified out of order (whereis() has the truth). Watching twice is watching once.
  /// Owner only.
  void watch_name(std::string name);
  /// Stops watching `name` (a notice already on its way may still arrive). Owner only.
  void unwatch_name(std::string_view name);

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
  /// Takes the unanswered request this turn serves if its reply type is `reply_type_id`
  /// (then reply() and returns no longer answer it); an empty state otherwise.
  detail::promise_state take_request(std::uint32_t reply_type_id) noexcept;
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
  using tr = detail::handler_traits<decltype(Fn)>;
  using A = typename detail::message_param<tr>::type;
  using M = std::remove_cvref_t<A>;
  using R = typename tr::ret;
  using P = typename detail::promise_param<tr>::type;
  auto& obj = static_cast<T&>(self);
  // The message as the handler takes it: an lvalue for M&/const M&, moved otherwise.
  auto&& msg = [&]() -> decltype(auto) {
    if constexpr (std::is_lvalue_reference_v<A>) {
      return e.get<M>();
    } else {
      return std::move(e.get<M>());
    }
  };
  auto call = [&]() -> R {
    if constexpr (std::is_void_v<P>) {
      return (obj.*Fn)(msg());
    } else {
      return (obj.*Fn)(msg(), P(self.take_request(
                                  detail::message_type_id<typename P::value_type>())));
    }
  };
  if constexpr (detail::is_task<R>::value) {
    if constexpr (!std::is_void_v<typename R::value_type>) {
      actor::answered_by_return();
    }
    R t = call();
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
    call();
  } else {
    actor::answered_by_return();
    actor::reply_with(self, e.sender, e.id, detail::make_envelope(call()));
  }
}

}  // namespace quay
