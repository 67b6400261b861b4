#pragma once
// Waiting in cluster tests: a condition set on workers, waited for with a deadline.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace quay::test {

/// A mutex-guarded state that workers change and the test waits on. Thread-safe.
class signal_board {
 public:
  /// Runs `change` under the lock and wakes waiters.
  template <class F>
  void update(F change) {
    {
      std::lock_guard lock(m_);
      change();
    }
    cv_.notify_all();
  }
  /// Waits until `pred()` (evaluated under the lock) or `timeout`; returns pred().
  template <class P>
  bool wait(P pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, pred);
  }
  /// For a condition nobody signals (counters): re-checks every 10 ms until `timeout`.
  template <class P>
  bool poll(P pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::unique_lock lock(m_);
      cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }
  std::mutex& mutex() { return m_; }

 private:
  std::mutex m_;
  std::condition_variable cv_;
};

}  // namespace quay::test
