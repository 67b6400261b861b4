// The worker loop of the IOCP backend: wait on the completion port with
// GetQueuedCompletionStatusEx (timeout = the next timer deadline), run what it returns, expire
// timers that are due. Every worker does the same; the kernel picks which one wakes.
#include <algorithm>
#include <chrono>
#include <string>

#include "backend/iocp/iocp_backend.hpp"
#include "backend/iocp/iocp_socket.hpp"
#include "backend/iocp/win32.hpp"
#include "quay/runtime/log.hpp"
#include "run_completion.hpp"

namespace quay::detail {

namespace {

thread_local const native_backend* tls_backend = nullptr;

}  // namespace

bool native_backend::in_worker() const noexcept { return tls_backend == this; }

void native_backend::start_workers(std::size_t count) {
  threads_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    threads_.emplace_back([this] { worker_loop(); });
  }
}

void native_backend::worker_loop() {
  // Threads stay unnamed: mingw-w64 10 does not declare SetThreadDescription.
  tls_backend = this;
  std::vector<OVERLAPPED_ENTRY> entries(batch_);
  for (;;) {
    // The worker's half of the timer handshake (see on_earlier_deadline): count itself as
    // waiting before it reads the deadline its timeout is computed from.
    waiting_.fetch_add(1, std::memory_order_seq_cst);
    const DWORD timeout = wait_timeout_ms();
    ULONG n = 0;
    const BOOL ok = ::GetQueuedCompletionStatusEx(
        iocp_, entries.data(), static_cast<ULONG>(entries.size()), &n, timeout, FALSE);
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    if (!ok) n = 0;  // WAIT_TIMEOUT: a timer is due (the port outlives the workers)

    for (ULONG i = 0; i < n; ++i) {
      if (stopping_.load(std::memory_order_acquire)) {
        // A worker exits after its current completion; the rest of its batch goes to stop(),
        // which runs it with errc::aborted. Exit packets in the batch are put back: one batch
        // can hold several, and a worker still blocked in the wait needs one to wake up.
        std::lock_guard lock(leftover_mu_);
        for (; i < n; ++i) {
          const OVERLAPPED_ENTRY& e = entries[i];
          if (e.lpCompletionKey == exit_key) {
            post_packet(exit_key, nullptr);
          } else {
            leftovers_.push_back(
                {e.lpCompletionKey, e.lpOverlapped, e.dwNumberOfBytesTransferred});
          }
        }
        break;
      }
      const OVERLAPPED_ENTRY& e = entries[i];
      dispatch(e.lpCompletionKey, e.lpOverlapped, e.dwNumberOfBytesTransferred, false);
    }
    if (stopping_.load(std::memory_order_acquire)) break;
    if (now().time_since_epoch().count() >= timer_check_at_.load(std::memory_order_seq_cst)) {
      expire_timers();
    }
  }
  tls_backend = nullptr;
}

void native_backend::dispatch(std::uintptr_t key, void* overlapped, std::uint32_t bytes,
                              bool aborting) noexcept {
  auto* ov = static_cast<OVERLAPPED*>(overlapped);
  switch (key) {
    case post_key:
      if (aborting) {
        run_completion_aborted(from_overlapped(ov));
      } else {
        run_completion(from_overlapped(ov));
      }
      return;
    case wake_key:
      // seq_cst: pairs with on_earlier_deadline's exchange (see there).
      wake_pending_.store(false, std::memory_order_seq_cst);
      return;
    case exit_key:
      return;
    default:
      break;
  }
  // A socket operation's packet: the kernel wrote its NTSTATUS into the OVERLAPPED.
  auto* s = reinterpret_cast<socket_state*>(key);
  const auto status = static_cast<NTSTATUS>(ov->Internal);
  const DWORD error = status >= 0 ? 0 : ::RtlNtStatusToDosError(status);
  completion* done = complete_socket_op(*s, from_overlapped(ov), error, bytes, aborting);
  // Uncounted only after the operation is finished (or continued, which counts it again), so
  // stop()'s drain never sees zero while an operation still owes a packet.
  pending_io_.fetch_sub(1, std::memory_order_release);
  if (done != nullptr) run_completion(done);
}

// The timer handshake. A start that makes the earliest deadline earlier lowers
// timer_check_at_ and then, if a worker is waiting (or about to), queues one wake packet. A
// worker increments waiting_ and then reads timer_check_at_ for its timeout. All four
// operations are seq_cst, so either the worker reads the lowered value or the start sees
// waiting_ > 0 and wakes someone. Busy workers need no wake: they compare the clock with
// timer_check_at_ after every batch.
void native_backend::on_earlier_deadline(port_time t) noexcept {
  lower_timer_check(t.time_since_epoch().count());
  if (waiting_.load(std::memory_order_seq_cst) == 0) return;
  // Coalesced: one wake packet at a time. If one is already queued, its receiver clears the
  // flag before re-reading timer_check_at_, so it sees this lower value (the exchange that
  // read `true` is ordered before that clear, and the lowering before the exchange).
  if (!wake_pending_.exchange(true, std::memory_order_seq_cst)) post_packet(wake_key, nullptr);
}

void native_backend::lower_timer_check(std::int64_t t) noexcept {
  std::int64_t cur = timer_check_at_.load(std::memory_order_seq_cst);
  while (t < cur &&
         !timer_check_at_.compare_exchange_weak(cur, t, std::memory_order_seq_cst)) {
  }
}

void native_backend::expire_timers() noexcept {
  try {
    timers_->expire(now());
    // Re-arm the check at the new earliest deadline. A start between the read and the store
    // may have lowered timer_check_at_ below it, and the store would undo that: the second
    // read (after the store) sees any such timer: its start stored its shard's earliest
    // deadline (seq_cst) before the callback's lowering, which came before the store.
    const auto next = timers_->next_deadline();
    timer_check_at_.store(next ? next->time_since_epoch().count() : no_timer_deadline,
                          std::memory_order_seq_cst);
    if (const auto again = timers_->next_deadline()) {
      lower_timer_check(again->time_since_epoch().count());
    }
  } catch (const std::exception& e) {
    // expire() allocates (it posts callbacks); keep the check armed so a later pass retries.
    log::get("runtime")->error("timer expiry failed: {}", e.what());
  }
}

std::uint32_t native_backend::wait_timeout_ms() const noexcept {
  const std::int64_t t = timer_check_at_.load(std::memory_order_seq_cst);
  if (t == no_timer_deadline) return INFINITE;
  const auto remaining = (epoch_ + millis(t)) - std::chrono::steady_clock::now();
  if (remaining <= std::chrono::steady_clock::duration::zero()) return 0;
  // Rounded up: waking before the deadline would only find nothing due and wait again.
  const auto ms = std::chrono::ceil<millis>(remaining).count();
  return static_cast<std::uint32_t>(std::min<std::int64_t>(ms, INFINITE - 1));
}

}  // namespace quay::detail
