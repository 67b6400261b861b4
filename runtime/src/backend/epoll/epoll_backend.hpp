#pragma once

#include <semaphore.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <concurrentqueue/concurrentqueue.h>

#include "backend/epoll/socket_table.hpp"
#include "blocking_pool.hpp"
#include "quay/runtime/io_port.hpp"
#include "timer_service.hpp"

namespace quay::detail {

/// The Linux backend of io_port: epoll emulating a completion port, with no extra I/O thread.
///
/// A post made on a worker goes to that worker's LIFO slot and runs next on it, up to a bound
/// (docs/architecture.md, "Scheduling rule"); other posts, and what leaves a slot, go to a
/// lock-free run queue (moodycamel ConcurrentQueue) that workers take batches from. A worker that
/// finds it empty tries to become the single poller: it waits in epoll_wait, performs the
/// non-blocking syscalls of ready sockets, expires timers and queues the finished operations.
/// Workers that cannot poll spin briefly, then sleep on a semaphore. The wake protocol is
/// described at post() and in docs/architecture.md.
///
/// Thread contract: post(), now(), timers(), blocking(), concurrency(), in_worker() are
/// thread-safe; stop() and wait_stopped() are for non-worker threads (a worker's stop() only
/// requests the stop).
class native_backend {
 public:
  native_backend(io_port& owner, const io_port_options& options);
  /// Requires stop() to have completed (io_port's destructor calls it).
  ~native_backend();
  native_backend(const native_backend&) = delete;
  native_backend& operator=(const native_backend&) = delete;

  void post(completion* c) noexcept;
  void stop();
  void wait_stopped();
  port_time now() const noexcept;
  std::size_t concurrency() const noexcept { return workers_.size(); }
  bool in_worker() const noexcept;
  timer_service& timers() noexcept { return *timers_; }
  blocking_pool& blocking() noexcept { return *blocking_; }

  // --- for the socket code (epoll_socket.cpp) ---

  /// True once the workers are gone: posts run inline with errc::aborted and new socket
  /// operations complete that way. Read under a socket's mutex it orders against stop()'s
  /// abort pass (see stop()).
  bool closed() const noexcept { return closed_.load(std::memory_order_seq_cst); }
  socket_table& sockets() noexcept { return sockets_; }
  /// Registers `s.fd` (edge-triggered, in+out) under `s.key()`. Caller holds s.mu.
  std::error_code register_socket(socket_state& s) noexcept;
  /// Removes `fd` from the epoll set. Caller holds the socket's mutex.
  void deregister_socket(int fd) noexcept;

  /// One worker thread's private state (defined in epoll_worker.cpp). Internal.
  struct worker;

  /// The epoll data word of the interrupter (no socket slot has this index).
  static constexpr std::uint64_t interrupt_key = ~std::uint64_t{0};

  friend bool a_worker_is_waiting_for_io(io_port& p) noexcept;  // port_probe.hpp, for tests

 private:
  using queue_type = moodycamel::ConcurrentQueue<completion*>;

  void start_workers(std::size_t count);
  void worker_loop(worker& w);
  std::size_t run_batch(worker& w);  // completions run, 0 if the queue was empty
  std::size_t run_here(worker& w, completion* c);  // c, then w's LIFO slot up to the bound
  std::size_t steal(worker& w);      // runs a stalled worker's slot item; completions run
  bool a_slot_is_full(const worker& w) const noexcept;  // another worker's slot holds an item
  // Moves a slot item to the shared queue; `slot_full`: the slot holds another one.
  void spill(worker& w, completion* c, bool slot_full) noexcept;
  bool try_poll(worker& w, bool block);
  void poll_once(worker& w, bool block);
  bool spin();
  void sleep();
  bool wake_sleeper() noexcept;
  bool cancel_sleep() noexcept;
  void wake_sleepers(std::size_t n) noexcept;
  void enqueue_or_die(bool ok) noexcept;
  void interrupt_poller() noexcept;
  void request_stop() noexcept;
  void abort_sockets();
  void drain_aborted();
  int poll_timeout_ms() const;

  /// The seq_cst fence of the wake protocol. GCC's ThreadSanitizer does not support
  /// atomic_thread_fence, so sanitized builds use a seq_cst read-modify-write on one word that
  /// every side of the protocol touches instead: those RMWs are totally ordered and each
  /// synchronises with the next, which gives the same Dekker guarantee (at the cost of a
  /// contended cache line, hence not used in normal builds).
  void full_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
    fence_word_.fetch_add(1, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }

  io_port& owner_;
  const std::size_t batch_;
  const std::chrono::nanoseconds idle_spin_;
  const std::string name_;
  const std::chrono::steady_clock::time_point epoch_;

  queue_type queue_;
  socket_table sockets_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;  // the poller's interrupter
  sem_t sleep_sem_{};

  // Wake protocol state (see post()).
  std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<bool> poller_busy_{false};     // the poller token
  std::atomic<bool> poller_waiting_{false};  // the token holder is (about to be) in epoll_wait
  std::atomic<bool> interrupt_pending_{false};
  std::atomic<std::int64_t> last_poll_ms_{0};
  std::atomic<std::uint64_t> fence_word_{0};  // full_fence() under ThreadSanitizer
#if defined(QUAY_PORT_STATS)
  std::atomic<std::uint64_t> outside_sem_posts_{0}, outside_interrupts_{0};
#endif

  // Shutdown state.
  std::atomic<bool> stopping_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> outside_posts_{0};  // non-worker posts between check and enqueue
  std::mutex stop_mu_;  // serialises stop()
  bool stop_done_ = false;
  std::mutex wait_mu_;  // with wait_cv_, wakes wait_stopped() when stopping_ is set
  std::condition_variable wait_cv_;

  std::vector<std::unique_ptr<worker>> workers_;
  std::unique_ptr<timer_service> timers_;
  std::unique_ptr<blocking_pool> blocking_;
};

/// Processes one epoll event for a socket slot: runs the ready side's syscalls and appends
/// operations that finished to `done` (with their result set). Stale events (the slot was closed
/// since) are ignored. Poller only. Defined in epoll_socket.cpp.
void handle_socket_event(socket_state& s, std::uint32_t generation, std::uint32_t events,
                         std::vector<completion*>& done);

/// Completes every pending operation of every socket with errc::aborted (appending them to
/// `done`). Called by stop() once closed() is true. Defined in epoll_socket.cpp.
void abort_socket_ops(socket_table& table, std::vector<completion*>& done);

}  // namespace quay::detail
