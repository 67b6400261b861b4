#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "quay/runtime/port.hpp"

namespace quay {

namespace detail {
class manual_state;
}

/// A deterministic single-thread port for tests: nothing runs until the test steps it.
///
/// Posts may come from any thread; completions run only inside run_one()/run_all() on the
/// calling thread, in FIFO order. Time moves only through advance(). Blocking work runs inline
/// on the stepping thread when its turn comes, then its `done` is queued. No sockets.
class manual_port final : public port {
 public:
  manual_port();
  ~manual_port() override;

  /// Runs the oldest ready completion. Returns false if none is ready. Stepper only.
  bool run_one();
  /// Runs completions until none is ready or `limit` have run; returns how many ran.
  std::size_t run_all(std::size_t limit = 1'000'000);
  /// Moves the clock forward by `d`, expiring due timers in deadline order (their callbacks
  /// become ready completions; nothing runs until stepped). Stepper only.
  void advance(millis d);
  /// Ready completions not yet run. Thread-safe.
  std::size_t ready() const;
  /// Timers still pending. Thread-safe.
  std::size_t pending_timers() const;
  /// Stops: pending timers and queued completions are invoked with errc::aborted. Idempotent.
  void shutdown();

  void post(completion* c) noexcept override;
  port_time now() const noexcept override;
  timer_id start_timer(millis delay, timer_callback cb, millis period = millis{0}) override;
  bool cancel_timer(timer_id id) noexcept override;
  void run_blocking(unique_function<void()> work,
                    unique_function<void(std::error_code)> done) override;
  std::size_t concurrency() const noexcept override { return 1; }
  bool in_worker() const noexcept override;

 private:
  std::unique_ptr<detail::manual_state> state_;
};

}  // namespace quay
