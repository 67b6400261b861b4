// The IOCP backend's life cycle and its posting side: construction, post(), stop() and the
// drain that aborts what is left. The worker loop and the timers are in iocp_worker.cpp.
#include "backend/iocp/iocp_backend.hpp"

#include <exception>
#include <system_error>

#include "backend/iocp/iocp_socket.hpp"
#include "backend/iocp/win32.hpp"
#include "backend_access.hpp"
#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"
#include "port_probe.hpp"
#include "run_completion.hpp"

namespace quay::detail {

namespace {

std::size_t default_workers(std::size_t asked) {
  if (asked != 0) return asked;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

// While stop() waits for cancelled operations, it says so this often (a packet CancelIoEx owes
// should arrive at once; a long wait means an operation the kernel did not cancel).
constexpr auto drain_report_interval = std::chrono::seconds(5);

}  // namespace

native_backend::native_backend(io_port& owner, const io_port_options& options)
    : owner_(owner),
      batch_(options.dequeue_batch == 0 ? 1 : options.dequeue_batch),
      name_(options.name),
      epoch_(std::chrono::steady_clock::now()),
      timer_check_at_(no_timer_deadline) {
  winsock();  // starts Winsock and loads AcceptEx/ConnectEx once per process; throws on failure
  const std::size_t workers = default_workers(options.workers);
  // The concurrency value lets the kernel release one more worker while one blocks; with a
  // fixed pool of exactly `workers` threads it changes nothing else.
  iocp_ = ::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0,
                                   static_cast<DWORD>(workers));
  if (iocp_ == nullptr) {
    throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(),
                            "CreateIoCompletionPort");
  }
  // One timer shard per worker (see docs/architecture.md, "Timers").
  timers_ = std::make_unique<timer_service>(
      owner_, [this](port_time t) { on_earlier_deadline(t); }, workers);
  blocking_ = std::make_unique<blocking_pool>(owner_, options.blocking_threads, name_ + "-blk");
  start_workers(workers);
}

native_backend::~native_backend() {
  // io_port::~io_port ran stop(): the workers are joined and the port is empty.
  blocking_.reset();
  timers_.reset();
  ::CloseHandle(iocp_);
}

port_time native_backend::now() const noexcept {
  return port_time(std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - epoch_));
}

void native_backend::post(completion* c) noexcept {
  // outside_posts_ lets stop() wait for a post that saw closed_ == false but has not queued its
  // packet yet; both sides use seq_cst, so either the post sees closed_ or stop() sees the
  // count. (Workers post through here too: they are joined before closed_ is set.)
  outside_posts_.fetch_add(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    outside_posts_.fetch_sub(1, std::memory_order_release);
    run_completion_aborted(c);
    return;
  }
  post_packet(post_key, to_overlapped(c));
  outside_posts_.fetch_sub(1, std::memory_order_release);
}

void native_backend::post_packet(std::uintptr_t key, void* overlapped) noexcept {
  if (::PostQueuedCompletionStatus(iocp_, 0, key, static_cast<OVERLAPPED*>(overlapped))) return;
  // Fails only when the kernel cannot allocate the packet. A completion cannot be dropped
  // silently (its owner would wait forever), and post() has no error channel.
  log::get("runtime")->critical("PostQueuedCompletionStatus failed (error {}); aborting",
                                ::GetLastError());
  std::terminate();
}

std::error_code native_backend::adopt(socket_state& s) noexcept {
  const HANDLE h = reinterpret_cast<HANDLE>(static_cast<SOCKET>(s.sock));
  if (::CreateIoCompletionPort(h, iocp_, reinterpret_cast<ULONG_PTR>(&s), 0) == nullptr) {
    return map_os_error(static_cast<int>(::GetLastError()));
  }
  std::lock_guard lock(sockets_mu_);
  s.next = sockets_;
  s.prev = nullptr;
  if (sockets_ != nullptr) sockets_->prev = &s;
  sockets_ = &s;
  return {};
}

void native_backend::forget(socket_state& s) noexcept {
  std::lock_guard lock(sockets_mu_);
  if (s.prev != nullptr) {
    s.prev->next = s.next;
  } else if (sockets_ == &s) {
    sockets_ = s.next;
  }
  if (s.next != nullptr) s.next->prev = s.prev;
  s.prev = s.next = nullptr;
}

void native_backend::request_stop() noexcept {
  {
    std::lock_guard lock(wait_mu_);
    stopping_.store(true, std::memory_order_seq_cst);
  }
  wait_cv_.notify_all();
  // One exit packet per worker. A worker exits on the first packet (of any kind) it dequeues
  // after stopping_ and puts back the exit packets of its batch, so the port always holds at
  // least one per worker still waiting.
  for (std::size_t i = 0; i < threads_.size(); ++i) post_packet(exit_key, nullptr);
}

void native_backend::wait_stopped() {
  std::unique_lock lock(wait_mu_);
  wait_cv_.wait(lock, [this] { return stopping_.load(std::memory_order_relaxed); });
}

void native_backend::stop() {
  if (in_worker()) {
    // A worker cannot join itself: it only requests the stop; the owner's stop() or the
    // destructor finishes it.
    request_stop();
    return;
  }
  std::lock_guard lock(stop_mu_);
  if (stop_done_) return;
  request_stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  // From here posts run inline with errc::aborted. Socket starts read closed() under the
  // socket's mutex, and cancel_sockets() takes every socket's mutex after this store, so an
  // operation is either started before the cancel pass (and cancelled by it) or refused.
  closed_.store(true, std::memory_order_seq_cst);
  cancel_sockets();
  timers_->abort_all();
  drain_aborted();
  blocking_->stop();
  drain_aborted();
  stop_done_ = true;
}

void native_backend::cancel_sockets() noexcept {
  // Snapshot first, cancel after: a socket's mutex is never taken under sockets_mu_ (starts
  // take sockets_mu_ under a socket's mutex when they open a socket). A socket adopted after
  // the snapshot is adopted after closed_ was set, so its starts are refused.
  std::vector<socket_state*> live;
  {
    std::lock_guard list_lock(sockets_mu_);
    for (socket_state* s = sockets_; s != nullptr; s = s->next) {
      if (s->try_add_ref()) live.push_back(s);  // a state at zero is being freed: skip it
    }
  }
  for (socket_state* s : live) {
    {
      std::lock_guard lock(s->mu);
      // Each cancelled operation still queues its packet (ERROR_OPERATION_ABORTED); the
      // drain waits for them, so every operation completes exactly once.
      if (s->sock != INVALID_SOCKET) ::CancelIoEx(reinterpret_cast<HANDLE>(s->sock), nullptr);
    }
    s->release();
  }
}

void native_backend::drain_aborted() {
  std::vector<packet> left;
  {
    std::lock_guard lock(leftover_mu_);
    left.swap(leftovers_);
  }
  for (const packet& p : left) dispatch(p.key, p.overlapped, p.bytes, /*aborting=*/true);

  std::vector<OVERLAPPED_ENTRY> entries(batch_);
  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    // Wait only while a started operation still owes its packet; otherwise empty the port.
    const bool owed = pending_io_.load(std::memory_order_acquire) > 0;
    ULONG n = 0;
    if (::GetQueuedCompletionStatusEx(iocp_, entries.data(), static_cast<ULONG>(entries.size()),
                                      &n, owed ? 100 : 0, FALSE)) {
      for (ULONG i = 0; i < n; ++i) {
        const OVERLAPPED_ENTRY& e = entries[i];
        dispatch(e.lpCompletionKey, e.lpOverlapped, e.dwNumberOfBytesTransferred, true);
      }
      last_progress = std::chrono::steady_clock::now();
      continue;
    }
    // The port is empty. A post that passed its closed_ check before the store is still
    // queueing its packet.
    if (outside_posts_.load(std::memory_order_acquire) != 0) {
      std::this_thread::yield();
      continue;
    }
    const auto owed_now = pending_io_.load(std::memory_order_acquire);
    if (owed_now <= 0) return;
    if (std::chrono::steady_clock::now() - last_progress > drain_report_interval) {
      log::get("runtime")->warn("stop: still waiting for {} cancelled socket operations",
                                owed_now);
      last_progress = std::chrono::steady_clock::now();
    }
  }
}

bool a_worker_is_waiting_for_io(io_port& p) noexcept {
  const native_backend& b = detail::backend_access::backend(p);
  return b.waiting_.load(std::memory_order_seq_cst) != 0;
}

}  // namespace quay::detail
