#include "timer_service.hpp"

#include <array>
#include <atomic>
#include <cassert>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"
#include "quay/runtime/timer_wheel.hpp"

namespace quay::detail {
namespace {

std::shared_ptr<spdlog::logger> runtime_logger() { return quay::log::get("runtime"); }

std::uint64_t to_ms(port_time t) noexcept {
  const auto c = t.time_since_epoch().count();
  return c < 0 ? 0 : static_cast<std::uint64_t>(c);
}
// Saturates instead of wrapping: a delay of millis::max() must mean "never", not "at once".
std::uint64_t add_ms(std::uint64_t a, std::uint64_t b) noexcept {
  return b > ~std::uint64_t{0} - a ? ~std::uint64_t{0} : a + b;
}
port_time from_ms(std::uint64_t ms) noexcept {
  return port_time{millis{static_cast<millis::rep>(ms)}};
}

// Life of one timer record, all transitions under its shard's mutex:
//   armed    -> in the wheel, waiting for its deadline
//   posted   -> its expiry is queued on the port; the callback has not started
//   running  -> the callback is running on a worker (expiry delivery)
//   aborting -> the record is queued on the port to deliver errc::aborted
// A record is posted at most once at a time; the completion *is* the record, so an expiry
// costs no allocation.
enum class state : std::uint8_t { free, armed, posted, running, aborting };

constexpr std::size_t chunk_size = 256;
constexpr std::uint64_t never = ~std::uint64_t{0};

// timer_id layout: generation (32 bits) | shard (6 bits) | record index (26 bits).
constexpr unsigned shard_bits = 6;
constexpr unsigned index_bits = 32 - shard_bits;
constexpr std::uint32_t index_mask = (1u << index_bits) - 1;

// Which shard a thread starts its timers in: threads are numbered on first use, so the
// workers of a port (and other long-lived threads) spread over the shards.
std::atomic<std::uint32_t> next_thread_number{0};
std::uint32_t thread_number() noexcept {
  thread_local const std::uint32_t n = next_thread_number.fetch_add(1, std::memory_order_relaxed);
  return n;
}

}  // namespace

struct timer_service::impl {
  struct shard;

  struct record final : completion {
    record() : completion(&on_run) {}
    static void on_run(completion* self, std::error_code ec, std::size_t);

    shard* home = nullptr;
    timer_callback cb;
    std::uint64_t deadline = 0;
    std::uint64_t period = 0;  // 0: one-shot
    timer_wheel::handle wheel_handle;
    std::uint32_t index = 0;
    std::uint32_t generation = 1;
    std::uint32_t next_free = 0;
    record* next_post = nullptr;  // chains records to post once the mutex is released
    state st = state::free;
    bool cancel_requested = false;  // a repeating timer cancelled while its callback runs
  };

  // One wheel, its records and its mutex. A shard's mutex is taken only by operations on its
  // own timers, so the cost of each operation does not grow with the timers of other shards,
  // nor with the threads working on them.
  struct shard {
    shard(impl& s, std::uint32_t n) : service(s), number(n) {}

    impl& service;
    const std::uint32_t number;
    std::mutex mu;
    timer_wheel wheel;
    // Records live in fixed chunks so their addresses stay valid while they are queued on the
    // port; freed records are reused through a free list.
    std::vector<std::unique_ptr<record[]>> chunks;
    std::uint32_t free_head = no_record;
    std::uint32_t record_count = 0;
    std::size_t outstanding = 0;  // records queued on the port or running
    std::vector<timer_wheel::expired> scratch;
    bool stopped = false;
    // A lower bound of the earliest deadline in `wheel` (`never` if empty), read without the
    // mutex. Exact after a start or an expire; a cancel leaves it (possibly early) until the
    // next expire of this shard recomputes it. Written only under `mu`.
    std::atomic<std::uint64_t> next_due{never};

    record& at(std::uint32_t index) { return chunks[index / chunk_size][index % chunk_size]; }

    record* lookup(std::uint32_t index, std::uint32_t generation) {
      if (index >= record_count) return nullptr;
      record& r = at(index);
      if (r.generation != generation || r.st == state::free) return nullptr;
      return &r;
    }

    record& allocate() {
      if (free_head == no_record) {
        if (record_count > index_mask) throw std::length_error("timer_service: too many timers");
        if (record_count % chunk_size == 0) {
          chunks.push_back(std::make_unique<record[]>(chunk_size));
        }
        record& r = at(record_count);
        r.home = this;
        r.index = record_count++;
        return r;
      }
      record& r = at(free_head);
      free_head = r.next_free;
      return r;
    }

    void release(record& r) {
      r.cb = nullptr;
      r.st = state::free;
      r.cancel_requested = false;
      if (++r.generation == 0) r.generation = 1;
      r.next_free = free_head;
      free_head = r.index;
    }

    // Arms `r` at `deadline`; returns true if it lowered this shard's earliest deadline.
    bool arm(record& r, std::uint64_t deadline) {
      r.deadline = deadline;
      r.wheel_handle = wheel.insert(deadline, r.index);
      r.st = state::armed;
      if (deadline >= next_due.load(std::memory_order_relaxed)) return false;
      // seq_cst: pairs with the poller, which publishes that it waits, then reads next_due.
      next_due.store(deadline, std::memory_order_seq_cst);
      return true;
    }

    void refresh_next_due() {
      const auto d = wheel.next_deadline();
      next_due.store(d ? *d : never, std::memory_order_seq_cst);
    }

    // Decides, under the mutex, that `r` goes to the port with `ec`; the caller posts it with
    // post_chain() after unlocking. Never post under the mutex: a closed port invokes a posted
    // completion inline, and on_run() takes the mutex again.
    record* prepare_post(record& r, std::error_code ec, record* chain) {
      r.set_result(ec, 0);
      r.next_post = chain;
      ++outstanding;
      return &r;
    }

    // cancel() for a record that is not armed (or not found). Mutex held.
    bool cancel_locked(record* r) noexcept;
  };

  static constexpr std::uint32_t no_record = 0xffff'ffffu;
  static constexpr std::size_t max_shards = std::size_t{1} << shard_bits;

  impl(port& o, unique_function<void(port_time)> hook, std::size_t n)
      : owner(o), on_earlier_deadline(std::move(hook)) {
    if (n == 0) n = 1;
    if (n > max_shards) n = max_shards;
    shards.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      shards.push_back(std::make_unique<shard>(*this, static_cast<std::uint32_t>(i)));
    }
  }

  port& owner;
  unique_function<void(port_time)> on_earlier_deadline;
  std::vector<std::unique_ptr<shard>> shards;

  shard& local_shard() noexcept { return *shards[thread_number() % shards.size()]; }

  std::uint64_t earliest() const noexcept {
    std::uint64_t best = never;
    for (const auto& sh : shards) {
      const std::uint64_t d = sh->next_due.load(std::memory_order_seq_cst);
      if (d < best) best = d;
    }
    return best;
  }

  // Called after a start or re-arm lowered its shard's earliest deadline (outside the mutex).
  void notify_if_earliest(std::uint64_t deadline) {
    if (on_earlier_deadline && deadline <= earliest()) on_earlier_deadline(from_ms(deadline));
  }

  // Posts a chain built by prepare_post(). Reads the link before posting: once posted, a
  // record may run, be freed and be reused at once.
  void post_chain(record* r) noexcept {
    while (r != nullptr) {
      record* next = r->next_post;
      owner.post(r);
      r = next;
    }
  }

  static void call(timer_callback& cb, std::error_code ec) noexcept {
    if (!cb) return;
    try {
      cb(ec);
    } catch (const std::exception& e) {
      runtime_logger()->error("timer callback threw: {}", e.what());
    } catch (...) {
      runtime_logger()->error("timer callback threw a non-standard exception");
    }
  }
};

void timer_service::impl::record::on_run(completion* self, std::error_code port_ec, std::size_t) {
  auto& r = *static_cast<record*>(self);
  shard& s = *r.home;
  std::error_code deliver;
  {
    std::lock_guard lock(s.mu);
    // The port delivers errc::aborted for queued completions at shutdown; a cancel that
    // caught the expiry still queued turned it into an abort.
    if (port_ec || r.st == state::aborting) {
      deliver = make_error_code(errc::aborted);
      r.st = state::aborting;
    } else {
      r.st = state::running;
    }
  }
  // Outside the lock: the callback may start or cancel timers.
  call(r.cb, deliver);

  bool earlier = false;
  std::uint64_t armed_at = 0;
  record* to_post = nullptr;
  impl& service = s.service;
  {
    std::lock_guard lock(s.mu);
    --s.outstanding;
    if (deliver || r.period == 0) {
      s.release(r);
    } else if (r.cancel_requested || s.stopped) {
      // A repeating timer cancelled (or shut down) while its callback ran: deliver the one
      // abort now that the callback has returned, so invocations never overlap.
      r.st = state::aborting;
      to_post = s.prepare_post(r, make_error_code(errc::aborted), nullptr);
    } else {
      const std::uint64_t now = to_ms(service.owner.now());
      std::uint64_t next = add_ms(r.deadline, r.period);
      if (next < now) next = now;
      armed_at = next;
      earlier = s.arm(r, next);
    }
  }
  // `r` may be reused from here (another thread can free and restart it): only `service`.
  service.post_chain(to_post);
  if (earlier) service.notify_if_earliest(armed_at);
}

timer_service::timer_service(port& owner, unique_function<void(port_time)> on_earlier_deadline,
                             std::size_t shards)
    : impl_(std::make_unique<impl>(owner, std::move(on_earlier_deadline), shards)) {}

timer_service::~timer_service() {
  abort_all();
  std::size_t outstanding = 0;
  for (auto& sh : impl_->shards) {
    std::lock_guard lock(sh->mu);
    outstanding += sh->outstanding;
  }
  // Every posted record must have run before its memory goes: the port drains its queue
  // (with errc::aborted) before it destroys its timer service.
  if (outstanding != 0) {
    runtime_logger()->critical("timer_service destroyed with {} timer completions still queued",
                               outstanding);
    assert(outstanding == 0);
  }
}

timer_id timer_service::start(port_time now, millis delay, timer_callback cb, millis period) {
  impl& s = *impl_;
  impl::shard& sh = s.local_shard();
  std::uint64_t deadline = 0;
  bool earlier = false;
  timer_id id;
  {
    std::lock_guard lock(sh.mu);
    if (!sh.stopped) {
      impl::record& r = sh.allocate();
      r.cb = std::move(cb);
      r.period = period.count() > 0 ? static_cast<std::uint64_t>(period.count()) : 0;
      r.cancel_requested = false;
      const std::uint64_t d = delay.count() > 0 ? static_cast<std::uint64_t>(delay.count()) : 0;
      deadline = add_ms(to_ms(now), d);
      earlier = sh.arm(r, deadline);
      id.value = (std::uint64_t{r.generation} << 32) |
                 (std::uint64_t{sh.number} << index_bits) | r.index;
    }
  }
  if (!id) {
    // Refused after shutdown: the callback still hears about it, once.
    impl::call(cb, make_error_code(errc::aborted));
    return id;
  }
  if (earlier) s.notify_if_earliest(deadline);
  return id;
}

bool timer_service::cancel(timer_id id) noexcept {
  impl& s = *impl_;
  const auto low = static_cast<std::uint32_t>(id.value & 0xffff'ffffu);
  const auto generation = static_cast<std::uint32_t>(id.value >> 32);
  const std::uint32_t shard_number = low >> index_bits;
  if (shard_number >= s.shards.size()) return false;
  impl::shard& sh = *s.shards[shard_number];
  impl::record* to_post = nullptr;
  {
    std::lock_guard lock(sh.mu);
    impl::record* r = sh.lookup(low & index_mask, generation);
    if (r == nullptr || r->st != state::armed) return sh.cancel_locked(r);
    // next_due is left as it is: early at worst, corrected by this shard's next expire.
    sh.wheel.cancel(r->wheel_handle);
    r->st = state::aborting;
    to_post = sh.prepare_post(*r, make_error_code(errc::aborted), nullptr);
  }
  s.post_chain(to_post);
  return true;
}

bool timer_service::impl::shard::cancel_locked(record* r) noexcept {
  if (r == nullptr) return false;
  switch (r->st) {
    case state::armed:  // handled by cancel(), which posts the abort after unlocking
      return false;
    case state::posted:
      // The expiry is queued but has not started: it will deliver the abort instead.
      r->st = state::aborting;
      return true;
    case state::running:
      if (r->period == 0 || r->cancel_requested) return false;  // a one-shot has fired
      r->cancel_requested = true;
      return true;
    case state::aborting:
    case state::free:
      return false;
  }
  return false;
}

std::size_t timer_service::expire(port_time now) {
  impl& s = *impl_;
  const std::uint64_t now_ms = to_ms(now);
  // One chain per shard, each in deadline order; merged by deadline below.
  std::array<impl::record*, impl::max_shards> chains{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.shards.size(); ++i) {
    impl::shard& sh = *s.shards[i];
    // A shard with nothing due is skipped without its mutex: next_due is never late.
    if (sh.next_due.load(std::memory_order_seq_cst) > now_ms) continue;
    std::lock_guard lock(sh.mu);
    sh.scratch.clear();
    n += sh.wheel.advance(now_ms, sh.scratch);
    sh.refresh_next_due();
    // Chained in reverse so that the chain, walked from its head, is in deadline order.
    impl::record* chain = nullptr;
    for (auto it = sh.scratch.rbegin(); it != sh.scratch.rend(); ++it) {
      impl::record& r = sh.at(static_cast<std::uint32_t>(it->payload));
      r.st = state::posted;
      r.wheel_handle = {};
      chain = sh.prepare_post(r, {}, chain);
    }
    chains[i] = chain;
  }
  // A cancel between here and the post finds the record `posted` and turns it into an abort
  // without posting it again. The deadlines are read before each post (a posted record may
  // run and be reused at once); ties go to the lower shard.
  for (;;) {
    std::size_t best = impl::max_shards;
    std::uint64_t best_deadline = never;
    for (std::size_t i = 0; i < s.shards.size(); ++i) {
      if (chains[i] == nullptr) continue;
      if (best == impl::max_shards || chains[i]->deadline < best_deadline) {
        best = i;
        best_deadline = chains[i]->deadline;
      }
    }
    if (best == impl::max_shards) break;
    impl::record* r = chains[best];
    chains[best] = r->next_post;
    s.owner.post(r);
  }
  return n;
}

std::optional<port_time> timer_service::next_deadline() const {
  const std::uint64_t d = impl_->earliest();
  if (d == never) return std::nullopt;
  return from_ms(d);
}

void timer_service::abort_all() {
  impl& s = *impl_;
  // Every shard refuses starts before any callback hears its abort, so a callback that starts
  // a timer is refused wherever the new timer would land.
  for (auto& shp : s.shards) {
    std::lock_guard lock(shp->mu);
    shp->stopped = true;
  }
  for (auto& shp : s.shards) {
    impl::shard& sh = *shp;
    std::vector<timer_wheel::expired> pending;
    {
      std::lock_guard lock(sh.mu);
      // Taking every armed timer out of the wheel in deadline order; records already queued
      // on the port get their abort when the port drains its queue.
      sh.wheel.advance(never, pending);
      sh.refresh_next_due();
      for (const auto& e : pending) {
        sh.at(static_cast<std::uint32_t>(e.payload)).st = state::aborting;
      }
    }
    for (const auto& e : pending) {
      impl::record& r = sh.at(static_cast<std::uint32_t>(e.payload));
      impl::call(r.cb, make_error_code(errc::aborted));
      std::lock_guard lock(sh.mu);
      sh.release(r);
    }
  }
}

std::size_t timer_service::pending() const {
  std::size_t n = 0;
  for (auto& sh : impl_->shards) {
    std::lock_guard lock(sh->mu);
    n += sh->wheel.size();
  }
  return n;
}

}  // namespace quay::detail
