#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

#include "quay/runtime/port.hpp"
#include "quay/runtime/unique_function.hpp"

namespace quay::detail {

/// A small pool of threads that run blocking work (SQLite, files) off the workers, then post
/// the work's `done` continuation back to the owning port as a completion.
///
/// Thread contract: submit() is thread-safe; stop() is called once by the port's owner.
class blocking_pool {
 public:
  blocking_pool(port& owner, std::size_t threads, std::string name);
  ~blocking_pool();  // calls stop()
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Queues `work`; after it returns, posts `done` to the owner with no error. If `work`
  /// throws, the exception is logged (logger "runtime") and `done` gets errc::work_failed.
  /// The outcome is exact: `done` hears errc::aborted if and only if `work` never ran. Once
  /// `work` has run, `done` gets its result even if the owner port shuts down before `done`
  /// runs (the port then invokes it during its shutdown drain, or inline if already closed).
  /// After stop(), `done` is invoked at once on the calling thread with errc::aborted.
  /// Thread-safe.
  void submit(unique_function<void()> work, unique_function<void(std::error_code)> done);
  /// Joins the threads after the job each is running. Jobs that never started have their
  /// `done` invoked with errc::aborted on the calling thread. Later submits are refused the
  /// same way. Idempotent.
  void stop();
  /// Jobs queued or running. Thread-safe.
  std::size_t pending() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace quay::detail
