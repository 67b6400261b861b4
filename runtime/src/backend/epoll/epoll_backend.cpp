// The epoll backend's life cycle and its posting side: construction, post() and the wake
// protocol, stop(). The worker loop and the poller are in epoll_worker.cpp.
#include "backend/epoll/epoll_backend.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <system_error>

#include "backend/epoll/epoll_worker.hpp"
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
}  // namespace

native_backend::native_backend(io_port& owner, const io_port_options& options)
    : owner_(owner),
      batch_(options.dequeue_batch == 0 ? 1 : options.dequeue_batch),
      idle_spin_(options.idle_spin),
      name_(options.name),
      epoch_(std::chrono::steady_clock::now()),
      queue_(1024) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    const int err = errno;
    ::close(epoll_fd_);
    throw std::system_error(err, std::system_category(), "eventfd");
  }
  // The interrupter is level-triggered: it stays readable until the poller drains it, so an
  // interrupt written while the poller is busy is seen by its next epoll_wait.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = interrupt_key;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0 ||
      ::sem_init(&sleep_sem_, 0, 0) != 0) {
    const int err = errno;
    ::close(event_fd_);
    ::close(epoll_fd_);
    throw std::system_error(err, std::system_category(), "epoll backend setup");
  }
  const std::size_t workers = default_workers(options.workers);
  // One timer shard per worker (see docs/architecture.md, "Timers").
  timers_ = std::make_unique<timer_service>(owner_, [this](port_time) {
    // A timer now expires earlier than the poller's epoll_wait timeout: make it recompute.
    // The poller publishes poller_waiting_ (seq_cst) before it reads next_deadline(), which
    // loads each shard's earliest deadline seq_cst; the start stored its shard's deadline
    // seq_cst before this callback, so either the poller saw the new deadline or this load
    // sees it waiting.
    if (poller_waiting_.load(std::memory_order_seq_cst)) interrupt_poller();
  }, workers);
  blocking_ = std::make_unique<blocking_pool>(owner_, options.blocking_threads, name_ + "-blk");
  start_workers(workers);
}

native_backend::~native_backend() {
  // io_port::~io_port ran stop(); the workers are joined and nothing polls any more.
  if (const std::size_t open = sockets_.live(); open != 0) {
    // Their tcp_socket objects point into the slab freed below: closing them later is a
    // use-after-free. Say so loudly; the contract is to close sockets before the port.
    log::get("runtime")->error("{} socket(s) still open when their io_port is destroyed", open);
  }
  blocking_.reset();
  timers_.reset();
  ::sem_destroy(&sleep_sem_);
  ::close(event_fd_);
  ::close(epoll_fd_);
}

port_time native_backend::now() const noexcept {
  return port_time(std::chrono::duration_cast<millis>(std::chrono::steady_clock::now() - epoch_));
}

bool native_backend::in_worker() const noexcept {
  const worker* w = current_worker();
  return w != nullptr && w->owner == this;
}

// The wake protocol (docs/architecture.md, "Wake protocol"):
//
//   post:    enqueue(c); fence(seq_cst); if a sleeper is counted, take it (CAS sleepers_ down)
//            and sem_post; otherwise, if the poller is in epoll_wait, write the eventfd.
//   sleeper: sleepers_ += 1; fence(seq_cst); re-check the queue (and that someone holds the
//            poller token); if there is work, take itself off the count, else sem_wait.
//   poller:  poller_waiting_ = true; fence(seq_cst); re-check the queue; epoll_wait with a zero
//            timeout if it is not empty.
//
// A post from one of this port's own workers skips the protocol (see the branch below): the
// poster is awake and returns to its LIFO slot and the queue itself, so its items are never
// stranded.
// Why no wake-up is lost: the two seq_cst fences (the poster's, and the sleeper's or the
// poller's) are totally ordered. If the poster's fence comes first, the sleeper's re-check
// after its own fence sees the enqueued item and does not sleep. If the sleeper's fence comes
// first, the poster's load after its fence sees the incremented count (or the poller's flag)
// and wakes it. A semaphore counts, so a sem_post that lands before the sem_wait is kept. The
// count is only ever decremented by a CAS from a positive value, by a poster (who then posts
// the semaphore once) or by the sleeper cancelling itself, so posts and waits pair up.
void native_backend::post(completion* c) noexcept {
  worker* w = current_worker();
  if (w != nullptr && w->owner == this) {
    // Workers are joined before closed_ is set, so a worker's post always reaches its slot or
    // the queue. The post takes the LIFO slot and the item it held (if any) moves to the shared
    // queue. Only this worker fills its slot, so if it reads empty nobody can fill it before the
    // store; a thief may empty a full slot at any moment, hence the exchange in that case.
    if (w->next.load(std::memory_order_relaxed) == nullptr) {
      w->next.store(c, std::memory_order_release);
      return;
    }
    completion* prev = w->next.exchange(c, std::memory_order_acq_rel);
    if (prev != nullptr) spill(*w, prev, /*slot_full=*/true);
    return;
  }
  // outside_posts_ lets stop() wait for a post that saw closed_ == false but has not enqueued
  // yet; both sides use seq_cst, so either the post sees closed_ or stop() sees the count.
  outside_posts_.fetch_add(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    outside_posts_.fetch_sub(1, std::memory_order_release);
    run_completion_aborted(c);
    return;
  }
  enqueue_or_die(queue_.enqueue(c));
  outside_posts_.fetch_sub(1, std::memory_order_release);
  full_fence();
  if (!wake_sleeper() && poller_waiting_.load(std::memory_order_relaxed)) interrupt_poller();
}

void native_backend::spill(worker& w, completion* c, bool slot_full) noexcept {
  enqueue_or_die(queue_.enqueue(w.ptok, c));
  // A worker's own post cannot be stranded: this worker goes back to its slot and the queue
  // before it can poll or sleep, so it runs the item itself if nobody else does. Waking someone
  // is only about sharing work, so it needs no fence on the common path: wake only when someone
  // looks idle and there is more than this worker takes next (its slot item, else one queued
  // item). A stale relaxed read costs parallelism for a moment, never an item.
  if ((sleepers_.load(std::memory_order_relaxed) != 0 ||
       poller_waiting_.load(std::memory_order_relaxed)) &&
      (slot_full || queue_.size_approx() > 1)) {
    full_fence();
    if (!wake_sleeper() && poller_waiting_.load(std::memory_order_relaxed)) interrupt_poller();
  }
}

bool native_backend::wake_sleeper() noexcept {
  std::uint32_t s = sleepers_.load(std::memory_order_relaxed);
  while (s > 0) {
    if (sleepers_.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
      ::sem_post(&sleep_sem_);
#if defined(QUAY_PORT_STATS)
      if (worker* w = current_worker()) ++w->st.sem_posts; else outside_sem_posts_.fetch_add(1);
#endif
      return true;
    }
  }
  return false;
}

void native_backend::wake_sleepers(std::size_t n) noexcept {
  while (n-- > 0 && wake_sleeper()) {
  }
}

bool native_backend::cancel_sleep() noexcept {
  // Same CAS as wake_sleeper(): if it fails, a poster already took this sleeper off the count
  // and will post the semaphore, so the caller must consume that post with sem_wait.
  std::uint32_t s = sleepers_.load(std::memory_order_relaxed);
  while (s > 0) {
    if (sleepers_.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void native_backend::interrupt_poller() noexcept {
  // Coalesced: one eventfd write until the poller drains it.
  if (interrupt_pending_.exchange(true, std::memory_order_acq_rel)) return;
#if defined(QUAY_PORT_STATS)
  if (worker* w = current_worker()) ++w->st.interrupts; else outside_interrupts_.fetch_add(1);
#endif
  const std::uint64_t one = 1;
  while (::write(event_fd_, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void native_backend::enqueue_or_die(bool ok) noexcept {
  // The queue only fails when it cannot allocate a block. A completion cannot be dropped
  // silently (its owner would wait forever), and there is no error channel in post().
  if (ok) return;
  log::get("runtime")->critical("run queue allocation failed; aborting");
  std::terminate();
}

void native_backend::request_stop() noexcept {
  {
    std::lock_guard lock(wait_mu_);
    stopping_.store(true, std::memory_order_seq_cst);
  }
  wait_cv_.notify_all();
  // One semaphore post per worker wakes every sleeper; a worker that counts itself as a
  // sleeper after this sees stopping_ in its re-check.
  for (std::size_t i = 0; i < workers_.size(); ++i) ::sem_post(&sleep_sem_);
  interrupt_pending_.store(false, std::memory_order_relaxed);
  interrupt_poller();
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
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
#if defined(QUAY_PORT_STATS)
  for (auto& w : workers_) {
    const auto& t = w->st;
    std::fprintf(stderr,
                 "port-stats %s worker=%zu ran=%lu batches=%lu empty=%lu polls=%lu busy_polls=%lu "
                 "spins_won=%lu sleeps=%lu sem_posts=%lu interrupts=%lu steals=%lu\n",
                 name_.c_str(), w->index, t.ran, t.batches, t.empty, t.polls, t.busy_polls,
                 t.spins_won, t.sleeps, t.sem_posts, t.interrupts, t.steals);
  }
  std::fprintf(stderr, "port-stats %s outside sem_posts=%lu interrupts=%lu\n", name_.c_str(),
               outside_sem_posts_.load(), outside_interrupts_.load());
#endif
  // From here posts run inline with errc::aborted. Socket starts read closed() under the
  // socket's mutex, and abort_sockets() takes every socket's mutex after this store, so an
  // operation is either seen pending by the abort pass or refused at its start.
  closed_.store(true, std::memory_order_seq_cst);
  abort_sockets();
  timers_->abort_all();
  drain_aborted();
  blocking_->stop();
  drain_aborted();
  stop_done_ = true;
}

void native_backend::abort_sockets() {
  std::vector<completion*> done;
  abort_socket_ops(sockets_, done);
  for (completion* c : done) run_completion(c);  // their result is errc::aborted already
}

void native_backend::drain_aborted() {
  // The workers are joined: what their LIFO slots still hold is aborted like the queue.
  for (auto& w : workers_) {
    if (completion* c = w->next.exchange(nullptr, std::memory_order_acquire)) {
      run_completion_aborted(c);
    }
  }
  std::vector<completion*> items(batch_);
  for (;;) {
    const std::size_t n = queue_.try_dequeue_bulk(items.data(), items.size());
    for (std::size_t i = 0; i < n; ++i) run_completion_aborted(items[i]);
    if (n != 0) continue;
    // A post that passed its closed_ check before the store is still enqueueing.
    if (outside_posts_.load(std::memory_order_acquire) != 0) {
      std::this_thread::yield();
      continue;
    }
    if (queue_.size_approx() == 0) return;
  }
}

std::error_code native_backend::register_socket(socket_state& s) noexcept {
  // Registered once, edge-triggered, for both directions: no epoll_ctl per operation. An op
  // start always tries its syscall first, so an edge that arrived while nothing was pending is
  // not needed later (see docs/architecture.md, "Socket state").
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = s.key();
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev) != 0) return map_os_error(errno);
  return {};
}

void native_backend::deregister_socket(int fd) noexcept {
  // Explicit, so a descriptor duplicated elsewhere cannot keep delivering events for a slot.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

bool a_worker_is_waiting_for_io(io_port& p) noexcept {
  const native_backend& b = detail::backend_access::backend(p);
  return b.poller_waiting_.load(std::memory_order_seq_cst);
}

}  // namespace quay::detail

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer does not model standalone atomic fences, and moodycamel ConcurrentQueue hands
// a recycled block from consumer back to producer through relaxed flags plus a fence, which
// TSan reports as a race on the element slot. Only accesses whose stack is inside the queue are
// suppressed: a race in a completion (run after the dequeue returned) is still reported.
extern "C" const char* __tsan_default_suppressions() {  // NOLINT: name fixed by TSan
  return "race:moodycamel::ConcurrentQueue\n";
}
#endif
