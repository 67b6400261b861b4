#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "quay/actors/actor.hpp"
#include "quay/actors/actor_ref.hpp"
#include "quay/actors/detail/drain_notification.hpp"
#include "quay/actors/detail/envelope.hpp"
#include "quay/runtime/completion.hpp"
#include "quay/runtime/port.hpp"

namespace quay {

/// Options fixed when an actor system starts.
struct actor_system_options {
  /// Messages an actor handles per turn before it yields the worker (fairness).
  std::uint32_t batch = 64;
  /// When a handler's send makes another actor runnable, run that actor next on the same worker
  /// instead of posting it (saves a port round trip and a wake-up). Off for deterministic tests.
  bool local_handoff = true;
  /// Consecutive hand-offs on one worker before the next runnable actor goes to the port.
  std::uint32_t handoff_limit = 256;
  /// The other actors a turn makes runnable are posted to the port together, as one chain run
  /// by one worker, at the end of the turn or once this many are waiting: one port post and at
  /// most one wake-up instead of one per actor. 1 = post each at once (deterministic tests).
  std::uint32_t ready_batch = 32;
  /// First mailbox depth that logs a warning; the threshold then doubles (reset when drained).
  std::uint64_t mailbox_warn_threshold = 1024;
  /// Time one message in this many (1 = all) for the mailbox-wait / handler-time counters.
  std::uint32_t metrics_sample_every = 16;
  /// At most one dead-letter log line per this interval (each line gives the running count).
  std::chrono::milliseconds dead_letter_log_interval{1000};
};

/// Counters of one actor, readable at runtime from any thread.
struct actor_counters {
  std::uint64_t handled = 0;   ///< messages handled (both lanes)
  std::uint64_t depth = 0;     ///< messages waiting, including the one being handled
  std::uint64_t dropped = 0;   ///< evicted by a drop_oldest bound
  std::uint64_t rejected = 0;  ///< refused by a reject bound
  std::uint64_t sampled = 0;   ///< messages timed (one in metrics_sample_every)
  std::chrono::nanoseconds mailbox_wait{0};  ///< total wait in the mailbox of the sampled ones
  std::chrono::nanoseconds handler_time{0};  ///< total time in handlers of the sampled ones
  /// Mean wait in the mailbox over the sampled messages.
  std::chrono::nanoseconds mean_mailbox_wait() const noexcept {
    return sampled ? mailbox_wait / static_cast<std::int64_t>(sampled) : mailbox_wait;
  }
  /// Mean time in handlers over the sampled messages.
  std::chrono::nanoseconds mean_handler_time() const noexcept {
    return sampled ? handler_time / static_cast<std::int64_t>(sampled) : handler_time;
  }
};

namespace detail {
/// Options of one spawn: set by actor::supervise (a supervised child and its parent).
struct spawn_options {
  actor_ref parent{};
  bool supervised = false;
};
}  // namespace detail

/// A set of actors running on one port (the native io_port or the deterministic manual_port).
///
/// Scheduling: a send that makes an idle mailbox non-empty makes the actor runnable exactly
/// once (posted to the port, or handed off to the current worker); a turn handles at most
/// `batch` messages, then re-posts if more are waiting; an actor never runs on two workers at
/// once. Lifetime: destroy the system only after its port has stopped running completions
/// (io_port::stop(), or no more stepping on a manual_port); the destructor stops every actor
/// still alive (on_stop runs with reason killed) and frees queued messages.
///
/// Thread contract: every public member is thread-safe unless it says otherwise.
class actor_system;
namespace wire {
// quay/actors/wire.hpp: enqueues a message decoded from another process's bytes.
std::error_code send_decoded(actor_system& sys, actor_ref to, actor_ref sender,
                             std::uint16_t wire_id, std::span<const std::byte> bytes);
}  // namespace wire

class actor_system {
 public:
  explicit actor_system(port& p, actor_system_options options = {});
  ~actor_system();
  actor_system(const actor_system&) = delete;
  actor_system& operator=(const actor_system&) = delete;

  /// The port the actors run on. Thread-safe.
  port& get_port() const noexcept;
  /// The options it started with. Thread-safe.
  const actor_system_options& options() const noexcept;

  /// Creates an actor of type T (constructed on the calling thread) and schedules its first
  /// turn, which runs on_start(). Thread-safe.
  template <class T, class... A>
  actor_ref spawn(A&&... args) {
    return spawn_with<T>(detail::spawn_options{}, std::forward<A>(args)...);
  }

  /// Sends `m` to `to` from outside any actor (sender() is null; inside a handler the current
  /// actor is the sender). Returns dead_target or mailbox_full if it was not queued.
  /// Thread-safe, lock-free.
  template <class M>
  std::error_code send(actor_ref to, M&& m) {
    return deliver(to, detail::make_envelope(std::forward<M>(m)));
  }
  /// send() through a typed handle: compiles only if `to` lists M. Thread-safe.
  template <class M, class... Ms>
  std::error_code send(typed_ref<Ms...> to, M&& m) {
    detail::check_typed_send<typed_ref<Ms...>, M>();
    return send(to.untyped(), std::forward<M>(m));
  }
  /// Sends `m` to `to` on the control lane, which bounds never refuse or evict: for the one
  /// notice a component must not lose to a full mailbox (a session's `session_closed`). It is
  /// served before the ordinary lane, so it may overtake ordinary messages already queued.
  /// Returns dead_target if `to` is gone. Thread-safe, lock-free.
  template <class M>
  std::error_code send_control(actor_ref to, M&& m) {
    detail::envelope* e = detail::make_envelope(std::forward<M>(m));
    e->control = true;
    return deliver(to, e);
  }
  /// Asks `to` to stop with reason normal (control lane). Thread-safe.
  void stop(actor_ref to);
  /// Stops `to` with reason killed (control lane). Thread-safe.
  void kill(actor_ref to);

  /// True while the actor `r` names is alive. Thread-safe.
  bool alive(actor_ref r) const noexcept;
  /// Number of live actors. Thread-safe.
  std::size_t live_actors() const noexcept;

  /// Binds `name` to `r`. False if the name is taken by a live actor or `r` is dead. The name
  /// is removed when the actor stops. Thread-safe.
  bool register_name(std::string_view name, actor_ref r);
  /// Removes a name. Thread-safe.
  bool unregister_name(std::string_view name);
  /// The live actor bound to `name`, if any. Thread-safe.
  std::optional<actor_ref> whereis(std::string_view name) const;

  /// Messages sent to actors that do not exist (or stopped before handling them). Thread-safe.
  std::uint64_t dead_letters() const noexcept;
  /// Messages whose type the receiving actor has no handler for. Thread-safe.
  std::uint64_t unhandled() const noexcept;
  /// Counters of a live actor. Thread-safe.
  std::optional<actor_counters> counters(actor_ref r) const noexcept;
  /// Messages waiting in a live actor's mailbox (both lanes, including the one in hand).
  /// Thread-safe, lock-free.
  std::optional<std::uint64_t> mailbox_depth(actor_ref r) const noexcept;

 private:
  friend class actor;
  friend void detail::notify_when_drained(actor_system&, actor_ref, std::uint64_t, completion*);
  friend bool detail::cancel_drain_notification(actor_system&, actor_ref, completion*);
  friend std::error_code wire::send_decoded(actor_system&, actor_ref, actor_ref, std::uint16_t,
                                            std::span<const std::byte>);

  template <class T, class... A>
  actor_ref spawn_with(const detail::spawn_options& o, A&&... args) {
    static_assert(std::is_base_of_v<actor, T>, "actors derive from quay::actor");
    const auto& table = detail::table_of<T>();
    void* slot = begin_spawn(o);
    actor* a = nullptr;
    try {
      a = new T(std::forward<A>(args)...);
    } catch (...) {
      abort_spawn(slot);
      throw;
    }
    return finish_spawn(slot, a, &table, o);
  }
  void* begin_spawn(const detail::spawn_options& o);
  void abort_spawn(void* slot) noexcept;
  actor_ref finish_spawn(void* slot, actor* a, const detail::handler_table* table,
                         const detail::spawn_options& o);
  std::error_code deliver(actor_ref to, detail::envelope* e);

  std::unique_ptr<detail::system_impl> impl_;
};

template <class T, class... A>
actor_ref actor::spawn(A&&... args) {
  assert_owner();
  return system().spawn<T>(std::forward<A>(args)...);
}

template <class T, class... A>
actor_ref actor::supervise(restart_policy policy, std::string name, A&&... args) {
  assert_owner();
  child_factory f([tup = std::make_tuple(std::decay_t<A>(std::forward<A>(args))...)](
                      actor_system& sys, actor_ref parent) {
    return std::apply(
        [&](const auto&... a) {
          return sys.template spawn_with<T>(detail::spawn_options{parent, true}, a...);
        },
        tup);
  });
  return spawn_child(std::move(f), true, policy, std::move(name));
}

}  // namespace quay
