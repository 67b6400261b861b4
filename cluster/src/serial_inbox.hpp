#pragma once
// serial_queue: one stream of arrivals (a subscription's messages, a watch's entries), handed
// to its handler one at a time on a port.
//
// A transport's own thread (libnats, or the simulation's scheduler) pushes; when a push makes
// an idle queue non-empty, one drain is posted to the port. The drain runs a bounded batch on
// a worker, then re-posts itself if more arrived, so invocations of one handler never overlap
// and come in push order, whichever worker runs them (the same scheme as an actor mailbox).
// The queue is bounded: a push past `limit` is refused and the caller counts the drop.
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>

#include "quay/cluster/transport.hpp"

namespace quay::cluster::detail {

template <class T>
class serial_queue : public std::enable_shared_from_this<serial_queue<T>> {
 public:
  using handler_type = unique_function<void(T&&)>;

  serial_queue(port& p, handler_type handler, std::size_t limit)
      : port_(p), handler_(std::move(handler)), limit_(limit) {}

  /// Queues `v`; false when full or closed (nothing queued). Thread-safe.
  bool push(T&& v) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || queue_.size() >= limit_) return false;
      queue_.push_back(std::move(v));
      if (scheduled_) return true;
      scheduled_ = true;
    }
    // Posted outside the lock: on a stopped port the post may run inline (STYLE 15).
    schedule();
    return true;
  }

  /// No handler starts after this returns, except within a batch already begun (it checks
  /// between items). Thread-safe; callable from inside the handler.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    queue_.clear();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  void schedule() {
    port_.post_fn([self = this->shared_from_this()](std::error_code ec) {
      if (ec) {
        std::lock_guard lock(self->mutex_);
        self->queue_.clear();
        self->scheduled_ = false;
        return;
      }
      self->drain();
    });
  }

  void drain() {
    constexpr std::size_t batch = 64;
    for (std::size_t i = 0; i < batch; ++i) {
      T v;
      {
        std::lock_guard lock(mutex_);
        if (closed_ || queue_.empty()) {
          queue_.clear();
          scheduled_ = false;
          return;
        }
        v = std::move(queue_.front());
        queue_.pop_front();
      }
      try {
        handler_(std::move(v));
      } catch (...) {
        // A throwing handler loses its item, not the worker.
      }
    }
    schedule();  // batch used up: yield the worker, continue later (fairness)
  }

  port& port_;
  handler_type handler_;  // touched only by the one drain in flight
  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::deque<T> queue_;
  bool scheduled_ = false;
  bool closed_ = false;
};

using serial_inbox = serial_queue<message>;

}  // namespace quay::cluster::detail
