// The worker loop of the epoll backend: run batches of completions; when there are none, take
// the poller token and wait in epoll_wait; otherwise spin briefly, then sleep.
#include "backend/epoll/epoll_worker.hpp"
#include "run_completion.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>

namespace quay::detail {

namespace {

thread_local native_backend::worker* tls_worker = nullptr;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Under a steady load the workers never go idle, so nobody would wait in epoll_wait; a worker
// then polls without blocking at most this often, so I/O and timers keep moving.
constexpr std::int64_t busy_poll_interval_ms = 1;

// Reading the clock after every batch cost ~20% of a worker's time on tiny completions, so the
// busy-poll check reads it once per this many completions run.
constexpr std::size_t clock_check_every = 32;

// The fairness bound of the LIFO slot: after a completion taken from the queue, at most this
// many slot items run in a row; then the slot item goes to the shared queue and the worker takes
// its next item from there. A chain of self-posts therefore yields after this many hops.
constexpr std::size_t lifo_run_limit = 16;

}  // namespace

native_backend::worker* current_worker() noexcept { return tls_worker; }

void native_backend::start_workers(std::size_t count) {
  workers_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<worker>(*this, i, batch_, count));
  }
  // Tokens are made before any thread starts, so the workers never race on construction.
  for (auto& w : workers_) {
    worker* raw = w.get();
    w->thread = std::thread([this, raw] { worker_loop(*raw); });
  }
}

void native_backend::worker_loop(worker& w) {
  tls_worker = &w;
  // Linux limits thread names to 15 characters.
  const std::string thread_name = (name_ + "-" + std::to_string(w.index)).substr(0, 15);
  ::pthread_setname_np(::pthread_self(), thread_name.c_str());

  std::size_t since_clock = 0;
  while (!stopping_.load(std::memory_order_acquire)) {
    if (const std::size_t n = run_batch(w); n != 0) {
      since_clock += n;
      if (since_clock >= clock_check_every) {
        since_clock = 0;
        const std::int64_t t = now().time_since_epoch().count();
        if (t - last_poll_ms_.load(std::memory_order_relaxed) >= busy_poll_interval_ms) {
          try_poll(w, /*block=*/false);
        }
      }
      continue;
    }
    since_clock = clock_check_every;  // after idling, the next batch checks I/O at once
    if (steal(w) != 0) continue;
    if (try_poll(w, /*block=*/true)) continue;
    if (spin()) {
      QUAY_PORT_STAT(w, spins_won);
      continue;
    }
    if (steal(w) != 0) continue;
    QUAY_PORT_STAT(w, sleeps);
    sleep();
  }
  tls_worker = nullptr;
}

std::size_t native_backend::run_batch(worker& w) {
  // The slot first: a post made while this worker polled (a timer expiry) waits there.
  if (completion* c = w.next.load(std::memory_order_relaxed)) {
    c = w.next.exchange(nullptr, std::memory_order_acquire);
    if (c != nullptr) return run_here(w, c);
  }
  // Take a fair share, not always a full batch: a completion that runs long holds the rest of
  // its worker's batch back, so when little is queued, the items are spread over the workers.
  // Under load the share reaches dequeue_batch and the batching pays for itself.
  const std::size_t share = queue_.size_approx() / workers_.size();
  const std::size_t want = std::clamp<std::size_t>(share, 1, w.items.size());
  const std::size_t n = queue_.try_dequeue_bulk(w.ctok, w.items.data(), want);
  if (n == 0) {
    QUAY_PORT_STAT(w, empty);
    return 0;
  }
  QUAY_PORT_STAT(w, batches);
  // Wake another worker when there is likely more work than this one can take (a full batch),
  // or when nobody polls: the ex-poller may have handed itself long work, and I/O must not
  // wait for it to finish.
  if (sleepers_.load(std::memory_order_relaxed) != 0 &&
      (n == w.items.size() || !poller_busy_.load(std::memory_order_relaxed))) {
    wake_sleeper();
  }
  std::size_t ran = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (stopping_.load(std::memory_order_relaxed)) {
      // A worker exits after its current completion; the rest go back for stop() to abort (and
      // what its slot holds, stop() takes from there).
      enqueue_or_die(queue_.enqueue_bulk(w.ptok, w.items.data() + i, n - i));
      break;
    }
    ran += run_here(w, w.items[i]);
  }
  return ran;
}

std::size_t native_backend::run_here(worker& w, completion* c) {
  // The scheduling rule (docs/architecture.md): a completion posted by a worker runs next on
  // that worker, so a chain of posts stays on one core, with no queue operation and no wake-up
  // per hop; after lifo_run_limit hops in a row it goes to the shared queue, behind the others.
  std::size_t ran = 0;
  for (;;) {
    run_completion(c);
    ++ran;
    // One plain store per completion: thieves read it to tell a stalled worker from a busy one.
    w.progress.store(++w.completions, std::memory_order_relaxed);
    if (w.next.load(std::memory_order_relaxed) == nullptr) break;
    if (ran > lifo_run_limit || stopping_.load(std::memory_order_relaxed)) {
      if (completion* out = w.next.exchange(nullptr, std::memory_order_acquire)) {
        spill(w, out, /*slot_full=*/false);
      }
      break;
    }
    c = w.next.exchange(nullptr, std::memory_order_acquire);
    if (c == nullptr) break;  // an idle worker stole it
  }
#if defined(QUAY_PORT_STATS)
  w.st.ran += ran;
#endif
  return ran;
}

std::size_t native_backend::steal(worker& w) {
  // A slot item waits for its worker's current completion to return. An idle worker takes it
  // when that worker has run no completion since this one last looked (it is inside one long
  // completion). An idle worker comes back here after every epoll_wait return and after every
  // spin; nobody is woken for a slot item (docs/architecture.md, "Scheduling rule"). It steals
  // nothing from a worker that makes progress: taking each hop of a running chain would bounce
  // the chain between cores at every hop, the cost the slot exists to avoid.
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    worker& other = *workers_[i];
    if (&other == &w) continue;
    const std::uint64_t progress = other.progress.load(std::memory_order_relaxed);
    const bool stalled = progress == w.seen_progress[i];
    w.seen_progress[i] = progress;
    if (!stalled || other.next.load(std::memory_order_relaxed) == nullptr) continue;
    if (completion* c = other.next.exchange(nullptr, std::memory_order_acquire)) {
      QUAY_PORT_STAT(w, steals);
      return run_here(w, c);
    }
  }
  return 0;
}

bool native_backend::try_poll(worker& w, bool block) {
  if (poller_busy_.load(std::memory_order_relaxed) ||
      poller_busy_.exchange(true, std::memory_order_acquire)) {
    return false;
  }
  if (block) {
    QUAY_PORT_STAT(w, polls);
  } else {
    QUAY_PORT_STAT(w, busy_polls);
  }
  poll_once(w, block);
  return true;
}

int native_backend::poll_timeout_ms() const {
  const auto next = timers_->next_deadline();
  if (!next) return -1;
  const auto wait = (*next - now()).count();
  if (wait <= 0) return 0;
  return wait > INT_MAX ? INT_MAX : static_cast<int>(wait);
}

void native_backend::poll_once(worker& w, bool block) {
  int timeout = 0;
  if (block) {
    // The poller's half of the wake protocol (see post()): publish that it is about to block,
    // then re-check the queue, so a post either sees the flag or is seen here.
    poller_waiting_.store(true, std::memory_order_seq_cst);
    full_fence();
    if (queue_.size_approx() == 0 && !stopping_.load(std::memory_order_seq_cst)) {
      timeout = poll_timeout_ms();
      // While another worker's slot holds an item, come back within a millisecond to see
      // whether that worker is stuck in a long completion (steal()).
      if (timeout != 0 && a_slot_is_full(w)) timeout = 1;
    }
  }
  int n = ::epoll_wait(epoll_fd_, w.events.data(), static_cast<int>(w.events.size()), timeout);
  poller_waiting_.store(false, std::memory_order_relaxed);
  if (n < 0) n = 0;  // EINTR: treat as a spurious wake
  last_poll_ms_.store(now().time_since_epoch().count(), std::memory_order_relaxed);

  w.done.clear();
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = w.events[static_cast<std::size_t>(i)];
    if (ev.data.u64 == interrupt_key) {
      // Drain first, then clear the flag. The other order lost wake-ups for good: an
      // interrupter that set the flag between the clear and the read had its write drained
      // here, which left the flag set with the eventfd empty, so every later interrupt was
      // coalesced into nothing and a timer started earlier than the poller's timeout waited for
      // it (bench_timers hung in 2 of 14 runs). An interrupter that finds the flag still set
      // before the clear needs no write: this poller is awake and re-reads the queue and the
      // timer deadlines (published before the interrupt) before it waits again.
      std::uint64_t value = 0;
      while (::read(event_fd_, &value, sizeof value) < 0 && errno == EINTR) {
      }
      interrupt_pending_.store(false, std::memory_order_seq_cst);
      continue;
    }
    const auto index = static_cast<std::uint32_t>(ev.data.u64 & 0xffffffffu);
    const auto generation = static_cast<std::uint32_t>(ev.data.u64 >> 32);
    if (socket_state* s = sockets_.at(index)) handle_socket_event(*s, generation, ev.events, w.done);
  }
  if (!w.done.empty()) enqueue_or_die(queue_.enqueue_bulk(w.ptok, w.done.data(), w.done.size()));
  // Timer expiries are posted by the timer service through post(), which wakes as usual.
  timers_->expire(now());
  poller_busy_.store(false, std::memory_order_release);
  if (!w.done.empty()) {
    // Hand off: this worker will now run some of what it produced, so wake sleepers (one per
    // finished operation at most); one of them becomes the next poller.
    full_fence();
    wake_sleepers(w.done.size());
  }
}

bool native_backend::a_slot_is_full(const worker& w) const noexcept {
  for (const auto& other : workers_) {
    if (other.get() != &w && other->next.load(std::memory_order_relaxed) != nullptr) return true;
  }
  return false;
}

bool native_backend::spin() {
  const auto until = std::chrono::steady_clock::now() + idle_spin_;
  do {
    for (int i = 0; i < 64; ++i) {
      if (queue_.size_approx() != 0 || !poller_busy_.load(std::memory_order_relaxed) ||
          stopping_.load(std::memory_order_relaxed)) {
        return true;
      }
      cpu_relax();
    }
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

void native_backend::sleep() {
  // The sleeper's half of the wake protocol (see post()).
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  full_fence();
  // Besides queued work, a free poller token is a reason to stay awake: someone must poll.
  if (queue_.size_approx() != 0 || !poller_busy_.load(std::memory_order_seq_cst) ||
      stopping_.load(std::memory_order_seq_cst)) {
    if (cancel_sleep()) return;
  }
  while (::sem_wait(&sleep_sem_) != 0 && errno == EINTR) {
  }
}

}  // namespace quay::detail
