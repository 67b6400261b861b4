#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "quay/runtime/port.hpp"

namespace quay {

namespace detail {
class native_backend;
struct backend_access;
}

/// Options fixed when the port starts.
struct io_port_options {
  /// Worker threads that run completions; 0 means one per core.
  std::size_t workers = 0;
  /// Threads of the blocking-work pool (SQLite, files).
  std::size_t blocking_threads = 2;
  /// Completions a worker takes from the run queue at once.
  std::size_t dequeue_batch = 32;
  /// How long an idle worker spins (checking the run queue) before it sleeps.
  std::chrono::microseconds idle_spin{20};
  /// Thread name prefix, for debuggers and top.
  std::string name = "quay";
};

/// The native completion port: IOCP on Windows, epoll emulating completions on Linux.
///
/// A fixed pool of workers waits on the port and runs every completion: posted work, finished
/// socket operations, timer expiries and blocking-work results. The workers also wait for I/O
/// themselves; there is no extra I/O thread.
class io_port final : public port {
 public:
  /// Creates the port and starts its workers and the blocking-work pool.
  explicit io_port(io_port_options options = {});
  /// Calls stop().
  ~io_port() override;

  /// Stops the port: workers finish the completion they are running and exit; then, on the
  /// calling thread, pending socket operations complete with errc::aborted, pending timers are
  /// invoked with errc::aborted, queued completions run with errc::aborted (including ones they
  /// post in turn), and the blocking pool is joined after its running job. Idempotent.
  /// Thread-safe. From a worker it cannot join, so it only requests the stop (see
  /// wait_stopped()).
  void stop();

  /// Blocks the calling thread until stop() is called by anyone. Thread-safe. A worker calling
  /// stop() only requests the stop (the workers exit, this returns); the owner then calls
  /// stop() (or destroys the port) from a non-worker thread to finish it. A worker that waits
  /// here is held until then.
  void wait_stopped();

  void post(completion* c) noexcept override;
  port_time now() const noexcept override;
  timer_id start_timer(millis delay, timer_callback cb, millis period = millis{0}) override;
  bool cancel_timer(timer_id id) noexcept override;
  void run_blocking(unique_function<void()> work,
                    unique_function<void(std::error_code)> done) override;
  std::size_t concurrency() const noexcept override;
  bool in_worker() const noexcept override;

 private:
  friend struct detail::backend_access;  // the socket types' way to the backend
  std::unique_ptr<detail::native_backend> backend_;
};

}  // namespace quay
