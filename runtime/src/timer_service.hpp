#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "quay/runtime/port.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay::detail {

/// The timers of one port: a hierarchical timer wheel (quay/runtime/timer_wheel.hpp, a pure
/// structure) behind a mutex, plus the callbacks. It reads no clock: the owning port passes
/// `now` in. Expiries and cancellations are posted to the owning port as completions.
///
/// Thread contract: every member is thread-safe.
class timer_service {
 public:
  /// `on_earlier_deadline` is called (outside the lock) whenever a start makes the earliest
  /// pending deadline earlier, so the port can re-arm its wait (timerfd, GQCS timeout).
  explicit timer_service(port& owner, unique_function<void(port_time)> on_earlier_deadline = {});
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// Starts a timer (see port::start_timer for the contract).
  timer_id start(port_time now, millis delay, timer_callback cb, millis period);
  /// Cancels a pending timer; posts its callback with errc::aborted. See port::cancel_timer.
  bool cancel(timer_id id) noexcept;
  /// Expires every timer due at `now`, posting each callback as a completion, in deadline order.
  /// Returns how many expired.
  std::size_t expire(port_time now);
  /// The earliest pending deadline, if any.
  std::optional<port_time> next_deadline() const;
  /// Shutdown: invokes every pending timer's callback with errc::aborted on the calling thread,
  /// and refuses new timers (their callbacks are invoked with errc::aborted at once).
  void abort_all();
  std::size_t pending() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace quay::detail
