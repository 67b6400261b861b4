#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "quay/runtime/port.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay::detail {

/// The timers of one port: hierarchical timer wheels (quay/runtime/timer_wheel.hpp, a pure
/// structure), one per shard, each behind its own mutex, plus the callbacks. It reads no clock:
/// the owning port passes `now` in. Expiries and cancellations are posted to the owning port as
/// completions.
///
/// Sharding: a timer lives in the shard of the thread that started it (threads are spread over
/// the shards), and its id names the shard. start, cancel and each expiry take only that
/// shard's mutex, so their cost does not depend on the timers of other shards; expire() and
/// next_deadline() skip a shard with nothing due by reading its cached earliest deadline, an
/// atomic, without its mutex.
///
/// Thread contract: every member is thread-safe.
class timer_service {
 public:
  /// `on_earlier_deadline` is called (outside any lock) whenever a start or re-arm makes the
  /// earliest pending deadline earlier, so the port can re-arm its wait (timerfd, GQCS timeout).
  /// `shards` (1..64, clamped) is the number of wheels; ports pass their worker count.
  explicit timer_service(port& owner, unique_function<void(port_time)> on_earlier_deadline = {},
                         std::size_t shards = 1);
  ~timer_service();
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;

  /// Starts a timer (see port::start_timer for the contract).
  timer_id start(port_time now, millis delay, timer_callback cb, millis period);
  /// Cancels a pending timer; posts its callback with errc::aborted. See port::cancel_timer.
  bool cancel(timer_id id) noexcept;
  /// Expires every timer due at `now`, posting each callback as a completion, in deadline order
  /// (ties: shard order, then start order). Returns how many expired.
  std::size_t expire(port_time now);
  /// The earliest pending deadline, if any, without taking a lock. Never later than the true
  /// earliest deadline; after a cancel it may be earlier (at worst one early wake-up) until
  /// the next expire() of that timer's shard recomputes it. Exact after a start or expire().
  std::optional<port_time> next_deadline() const;
  /// Shutdown: invokes every pending timer's callback with errc::aborted on the calling thread
  /// (shard by shard, each in deadline order), and refuses new timers (their callbacks are
  /// invoked with errc::aborted at once).
  void abort_all();
  std::size_t pending() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace quay::detail
