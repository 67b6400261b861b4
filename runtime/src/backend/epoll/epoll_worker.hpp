#pragma once

#include <sys/epoll.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "backend/epoll/epoll_backend.hpp"

namespace quay::detail {

/// One worker thread's private state. Only its own thread touches it, except `thread` (the
/// owner joins it) and `owner`/`index` (immutable).
struct native_backend::worker {
  worker(native_backend& o, std::size_t i, std::size_t batch, std::size_t count)
      : owner(&o), index(i), seen_progress(count), ctok(o.queue_), ptok(o.queue_), items(batch) {
    done.reserve(events.size() * 2);
  }

  native_backend* const owner;
  const std::size_t index;
  /// The LIFO slot: the latest completion this worker posted, run by it as soon as the current
  /// completion returns (see docs/architecture.md, "Scheduling rule"). Only this worker fills
  /// it; this worker or an idle thief empties it, always with an exchange, so exactly one takes
  /// what it holds.
  std::atomic<completion*> next{nullptr};
  /// Completions this worker has run (written by it alone; read by thieves, see steal()).
  std::atomic<std::uint64_t> progress{0};
  std::uint64_t completions = 0;           // this worker's copy of `progress`
  std::vector<std::uint64_t> seen_progress;  // every worker's progress when this one last looked
  moodycamel::ConsumerToken ctok;
  moodycamel::ProducerToken ptok;
  std::vector<completion*> items;  // the batch being run
  std::vector<completion*> done;   // operations the poller finished in this poll
  std::array<epoll_event, 128> events{};
  std::thread thread;
#if defined(QUAY_PORT_STATS)
  // Scheduling counters for diagnosing the port (issue 18 item 11); printed by stop(). Only the
  // worker's own thread writes them; stop() reads them after joining it.
  struct stats {
    std::uint64_t ran = 0, batches = 0, empty = 0, polls = 0, busy_polls = 0, spins_won = 0,
                  sleeps = 0, sem_posts = 0, interrupts = 0, steals = 0;
  } st;
#endif
};

#if defined(QUAY_PORT_STATS)
#define QUAY_PORT_STAT(w, field) (++(w).st.field)
#else
#define QUAY_PORT_STAT(w, field) ((void)0)
#endif

/// The worker running on this thread (of any backend), or nullptr.
native_backend::worker* current_worker() noexcept;

}  // namespace quay::detail
