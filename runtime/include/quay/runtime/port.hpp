#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>

#include "quay/runtime/completion.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay {

/// Milliseconds on a port's clock (a steady clock on io_port; a hand-driven one on manual_port).
using millis = std::chrono::milliseconds;
/// A point on a port's clock: milliseconds since the port was created.
using port_time = std::chrono::time_point<struct port_clock_tag, millis>;

/// Identifies a started timer; 0 is never a valid id.
struct timer_id {
  std::uint64_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
  friend bool operator==(timer_id, timer_id) = default;
};

/// A timer callback. Invoked on a worker with no error for each expiry, or once with
/// errc::aborted when the timer is cancelled or the port shuts down.
using timer_callback = unique_function<void(std::error_code)>;

/// The completion port contract, shared by the native port (IOCP / epoll) and the manual port.
///
/// Everything a port runs is a completion; each posted completion runs exactly once, on one
/// worker. See docs/architecture.md for the rules each backend keeps.
class port {
 public:
  virtual ~port() = default;
  port(const port&) = delete;
  port& operator=(const port&) = delete;

  /// Queues `c` to be invoked once on a worker with its recorded result.
  /// Thread-safe, lock-free on the native port, never blocks.
  /// After shutdown the completion is still invoked exactly once, with errc::aborted.
  virtual void post(completion* c) noexcept = 0;

  /// Posts a callable (allocates one small node). Thread-safe. The callable receives
  /// errc::aborted instead of running normally if the port shuts down first.
  template <class F>
  void post_fn(F&& f) {
    post(new fn_completion<std::decay_t<F>>(std::forward<F>(f)));
  }

  /// The port's clock. Thread-safe.
  virtual port_time now() const noexcept = 0;

  /// Starts a timer that expires after `delay`, then (if `period` > 0) every `period` after
  /// that. A repeating timer is re-armed only after its callback returns, so invocations of one
  /// timer never overlap; the next deadline is the previous deadline plus the period, or now if
  /// that has already passed. Thread-safe.
  virtual timer_id start_timer(millis delay, timer_callback cb, millis period = millis{0}) = 0;

  /// Cancels a timer. Returns true if it was pending; its callback is then invoked once with
  /// errc::aborted. Returns false if it already fired (one-shot) or is unknown. Thread-safe.
  virtual bool cancel_timer(timer_id id) noexcept = 0;

  /// Runs `work` on the blocking-work pool (never on a worker), then posts `done` to the port.
  /// `done` is invoked exactly once, and its error says exactly what happened to `work`:
  /// no error when `work` returned, errc::work_failed when it threw, and errc::aborted if and
  /// only if `work` never ran (the port shut down before the job started). A job whose `work`
  /// ran gets its result even if the port shuts down meanwhile (then `done` runs during the
  /// shutdown drain, on the thread that stops the port). Thread-safe.
  virtual void run_blocking(unique_function<void()> work,
                            unique_function<void(std::error_code)> done) = 0;

  /// Number of workers running completions (1 on the manual port). Thread-safe.
  virtual std::size_t concurrency() const noexcept = 0;

  /// True when the calling thread is one of this port's workers (or the manual stepper).
  virtual bool in_worker() const noexcept = 0;

 protected:
  port() = default;

 private:
  template <class F>
  struct fn_completion final : completion {
    explicit fn_completion(F&& f) : completion(&run), fn(std::move(f)) {}
    explicit fn_completion(const F& f) : completion(&run), fn(f) {}
    static void run(completion* self, std::error_code ec, std::size_t) {
      auto* me = static_cast<fn_completion*>(self);
      // Free the node even if the callable throws.
      struct guard {
        fn_completion* p;
        ~guard() { delete p; }
      } g{me};
      if constexpr (std::is_invocable_v<F&, std::error_code>) {
        me->fn(ec);
      } else if (!ec) {
        me->fn();
      }
    }
    F fn;
  };
};

}  // namespace quay
