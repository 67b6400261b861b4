#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstddef>
#include <thread>
#include <vector>

#include "backend/epoll/epoll_backend.hpp"

namespace quay::detail {

/// One worker thread's private state. Only its own thread touches it, except `thread` (the
/// owner joins it) and `owner`/`index` (immutable).
struct native_backend::worker {
  worker(native_backend& o, std::size_t i, std::size_t batch)
      : owner(&o), index(i), ctok(o.queue_), ptok(o.queue_), items(batch) {
    done.reserve(events.size() * 2);
  }

  native_backend* const owner;
  const std::size_t index;
  moodycamel::ConsumerToken ctok;
  moodycamel::ProducerToken ptok;
  std::vector<completion*> items;  // the batch being run
  std::vector<completion*> done;   // operations the poller finished in this poll
  std::array<epoll_event, 128> events{};
  std::thread thread;
};

/// The worker running on this thread (of any backend), or nullptr.
native_backend::worker* current_worker() noexcept;

}  // namespace quay::detail
