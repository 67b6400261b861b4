#pragma once
// No Windows header here: this file reaches io_port.cpp through backend/backend.hpp, and
// <windows.h> would leak its macros into platform-neutral code. Handles are kept as void* and
// sockets as native_socket; the .cpp files of this folder include the real headers.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "blocking_pool.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/platform.hpp"
#include "timer_service.hpp"

namespace quay::detail {

class socket_state;

// Completion keys of the packets that are not socket I/O. A socket's packets carry its
// socket_state's address, which is never one of these small values.
inline constexpr std::uintptr_t post_key = 1;  // a posted completion
inline constexpr std::uintptr_t wake_key = 2;  // "recompute your timeout": a timer got earlier
inline constexpr std::uintptr_t exit_key = 3;  // stop() wakes a worker to exit
// timer_check_at_ when no timer is pending.
inline constexpr std::int64_t no_timer_deadline = INT64_MAX;

/// The Windows backend of io_port: a real I/O completion port.
///
/// Every completion is an OVERLAPPED (its first bytes, see completion.hpp). Posts go through
/// PostQueuedCompletionStatus; socket operations are overlapped AcceptEx / ConnectEx / WSARecv /
/// WSASend whose packets the kernel queues on the same port; the workers wait on it with
/// GetQueuedCompletionStatusEx, whose timeout is the next timer deadline. No extra thread.
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
  std::size_t concurrency() const noexcept { return threads_.size(); }
  bool in_worker() const noexcept;
  timer_service& timers() noexcept { return *timers_; }
  blocking_pool& blocking() noexcept { return *blocking_; }

  // --- for the socket code (iocp_socket*.cpp) ---

  /// True once the workers are gone: posts run inline with errc::aborted and new socket
  /// operations complete that way. Read under a socket's mutex it orders against stop()'s
  /// cancel pass (see stop()).
  bool closed() const noexcept { return closed_.load(std::memory_order_seq_cst); }
  /// Associates a new socket with the completion port; its packets carry `s` as their key.
  /// Also links `s` into the set stop() cancels. Thread-safe.
  std::error_code adopt(socket_state& s) noexcept;
  /// Unlinks a socket whose last reference is gone. Thread-safe.
  void forget(socket_state& s) noexcept;
  /// Counts an overlapped operation about to be started; it owes the port one packet.
  /// Called under the socket's mutex, before the call that starts it.
  void io_begin() noexcept { pending_io_.fetch_add(1, std::memory_order_relaxed); }
  /// Uncounts an operation whose starting call failed at once (the kernel queues no packet).
  void io_not_started() noexcept { pending_io_.fetch_sub(1, std::memory_order_relaxed); }

  friend bool a_worker_is_waiting_for_io(io_port& p) noexcept;  // port_probe.hpp, for tests

 private:
  void start_workers(std::size_t count);
  void worker_loop();
  // Runs one dequeued packet. `aborting` forces errc::aborted (stop()'s drain).
  void dispatch(std::uintptr_t key, void* overlapped, std::uint32_t bytes, bool aborting) noexcept;
  void post_packet(std::uintptr_t key, void* overlapped) noexcept;
  // Timers: `timer_check_at_` is a lower bound of the earliest pending deadline (in port ms).
  void on_earlier_deadline(port_time t) noexcept;
  void lower_timer_check(std::int64_t t) noexcept;
  void expire_timers() noexcept;
  std::uint32_t wait_timeout_ms() const noexcept;
  void request_stop() noexcept;
  void cancel_sockets() noexcept;
  void drain_aborted();

  io_port& owner_;
  const std::size_t batch_;
  const std::string name_;
  const std::chrono::steady_clock::time_point epoch_;
  void* iocp_ = nullptr;  // HANDLE

  std::atomic<std::int64_t> timer_check_at_;
  std::atomic<std::uint32_t> waiting_{0};  // workers inside GetQueuedCompletionStatusEx
  std::atomic<bool> wake_pending_{false};  // a timer wake packet is queued

  // Sockets alive on this port, for stop()'s cancel pass. Guarded by sockets_mu_.
  std::mutex sockets_mu_;
  socket_state* sockets_ = nullptr;
  // Overlapped operations started and not yet dequeued: stop() drains until it is zero.
  std::atomic<std::int64_t> pending_io_{0};

  // Shutdown state.
  std::atomic<bool> stopping_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> outside_posts_{0};  // posts between their closed_ check and PQCS
  std::mutex leftover_mu_;  // packets workers dequeued but did not run once stopping
  struct packet {
    std::uintptr_t key;
    void* overlapped;
    std::uint32_t bytes;
  };
  std::vector<packet> leftovers_;
  std::mutex stop_mu_;  // serialises stop()
  bool stop_done_ = false;
  std::mutex wait_mu_;  // with wait_cv_, signals wait_stopped()
  std::condition_variable wait_cv_;

  std::vector<std::thread> threads_;
  std::unique_ptr<timer_service> timers_;
  std::unique_ptr<blocking_pool> blocking_;
};

}  // namespace quay::detail
