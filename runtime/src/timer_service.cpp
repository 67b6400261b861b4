#include "timer_service.hpp"

#include <cassert>
#include <exception>
#include <mutex>
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

// Life of one timer record, all transitions under the service mutex:
//   armed    -> in the wheel, waiting for its deadline
//   posted   -> its expiry is queued on the port; the callback has not started
//   running  -> the callback is running on a worker (expiry delivery)
//   aborting -> the record is queued on the port to deliver errc::aborted
// A record is posted at most once at a time; the completion *is* the record, so an expiry
// costs no allocation.
enum class state : std::uint8_t { free, armed, posted, running, aborting };

constexpr std::size_t chunk_size = 256;

}  // namespace

struct timer_service::impl {
  struct record final : completion {
    record() : completion(&on_run) {}
    static void on_run(completion* self, std::error_code ec, std::size_t);

    impl* service = nullptr;
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

  impl(port& o, unique_function<void(port_time)> hook)
      : owner(o), on_earlier_deadline(std::move(hook)) {}

  port& owner;
  unique_function<void(port_time)> on_earlier_deadline;

  mutable std::mutex mu;
  timer_wheel wheel;
  // Records live in fixed chunks so their addresses stay valid while they are queued on the
  // port; freed records are reused through a free list.
  std::vector<std::unique_ptr<record[]>> chunks;
  std::uint32_t free_head = no_record;
  std::uint32_t record_count = 0;
  std::size_t outstanding = 0;  // records queued on the port or running
  std::vector<timer_wheel::expired> scratch;
  bool stopped = false;

  static constexpr std::uint32_t no_record = 0xffff'ffffu;

  record& at(std::uint32_t index) { return chunks[index / chunk_size][index % chunk_size]; }

  record* lookup(timer_id id) {
    const auto index = static_cast<std::uint32_t>(id.value & 0xffff'ffffu);
    const auto generation = static_cast<std::uint32_t>(id.value >> 32);
    if (index >= record_count) return nullptr;
    record& r = at(index);
    if (r.generation != generation || r.st == state::free) return nullptr;
    return &r;
  }

  record& allocate() {
    if (free_head == no_record) {
      if (record_count % chunk_size == 0) {
        chunks.push_back(std::make_unique<record[]>(chunk_size));
      }
      record& r = at(record_count);
      r.service = this;
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

  // Arms `r` at `deadline`; returns true if it became the earliest pending deadline.
  bool arm(record& r, std::uint64_t deadline) {
    const auto before = wheel.next_deadline();
    r.deadline = deadline;
    r.wheel_handle = wheel.insert(deadline, r.index);
    r.st = state::armed;
    return !before || deadline < *before;
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
  // Posts a chain built by prepare_post(). Reads the link before posting: once posted, a
  // record may run, be freed and be reused at once.
  void post_chain(record* r) noexcept {
    while (r != nullptr) {
      record* next = r->next_post;
      owner.post(r);
      r = next;
    }
  }

  // cancel() for a record that is not armed (or not found). Mutex held.
  bool cancel_locked(record* r) noexcept;

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
  impl& s = *r.service;
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
      const std::uint64_t now = to_ms(s.owner.now());
      std::uint64_t next = add_ms(r.deadline, r.period);
      if (next < now) next = now;
      armed_at = next;
      earlier = s.arm(r, next);
    }
  }
  s.post_chain(to_post);
  if (earlier && s.on_earlier_deadline) s.on_earlier_deadline(from_ms(armed_at));
}

timer_service::timer_service(port& owner, unique_function<void(port_time)> on_earlier_deadline)
    : impl_(std::make_unique<impl>(owner, std::move(on_earlier_deadline))) {}

timer_service::~timer_service() {
  abort_all();
  std::lock_guard lock(impl_->mu);
  // Every posted record must have run before its memory goes: the port drains its queue
  // (with errc::aborted) before it destroys its timer service.
  if (impl_->outstanding != 0) {
    runtime_logger()->critical("timer_service destroyed with {} timer completions still queued",
                               impl_->outstanding);
    assert(impl_->outstanding == 0);
  }
}

timer_id timer_service::start(port_time now, millis delay, timer_callback cb, millis period) {
  impl& s = *impl_;
  std::uint64_t deadline = 0;
  bool earlier = false;
  timer_id id;
  {
    std::lock_guard lock(s.mu);
    if (!s.stopped) {
      impl::record& r = s.allocate();
      r.cb = std::move(cb);
      r.period = period.count() > 0 ? static_cast<std::uint64_t>(period.count()) : 0;
      r.cancel_requested = false;
      const std::uint64_t d = delay.count() > 0 ? static_cast<std::uint64_t>(delay.count()) : 0;
      deadline = add_ms(to_ms(now), d);
      earlier = s.arm(r, deadline);
      id.value = (std::uint64_t{r.generation} << 32) | r.index;
    }
  }
  if (!id) {
    // Refused after shutdown: the callback still hears about it, once.
    impl::call(cb, make_error_code(errc::aborted));
    return id;
  }
  if (earlier && s.on_earlier_deadline) s.on_earlier_deadline(from_ms(deadline));
  return id;
}

bool timer_service::cancel(timer_id id) noexcept {
  impl& s = *impl_;
  impl::record* to_post = nullptr;
  {
    std::lock_guard lock(s.mu);
    impl::record* r = s.lookup(id);
    if (r == nullptr || r->st != state::armed) return s.cancel_locked(r);
    s.wheel.cancel(r->wheel_handle);
    r->st = state::aborting;
    to_post = s.prepare_post(*r, make_error_code(errc::aborted), nullptr);
  }
  s.post_chain(to_post);
  return true;
}

bool timer_service::impl::cancel_locked(record* r) noexcept {
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
  impl::record* chain = nullptr;
  std::size_t n = 0;
  {
    std::lock_guard lock(s.mu);
    s.scratch.clear();
    n = s.wheel.advance(to_ms(now), s.scratch);
    // Chained in reverse so that the chain, walked from its head, is in deadline order.
    for (auto it = s.scratch.rbegin(); it != s.scratch.rend(); ++it) {
      impl::record& r = s.at(static_cast<std::uint32_t>(it->payload));
      r.st = state::posted;
      r.wheel_handle = {};
      chain = s.prepare_post(r, {}, chain);
    }
  }
  // A cancel between here and the post finds the record `posted` and turns it into an abort
  // without posting it again.
  s.post_chain(chain);
  return n;
}

std::optional<port_time> timer_service::next_deadline() const {
  std::lock_guard lock(impl_->mu);
  const auto d = impl_->wheel.next_deadline();
  if (!d) return std::nullopt;
  return from_ms(*d);
}

void timer_service::abort_all() {
  impl& s = *impl_;
  std::vector<timer_wheel::expired> pending;
  {
    std::lock_guard lock(s.mu);
    s.stopped = true;
    // Taking every armed timer out of the wheel in deadline order; records already queued on
    // the port get their abort when the port drains its queue.
    s.wheel.advance(~std::uint64_t{0}, pending);
    for (const auto& e : pending) s.at(static_cast<std::uint32_t>(e.payload)).st = state::aborting;
  }
  for (const auto& e : pending) {
    impl::record& r = s.at(static_cast<std::uint32_t>(e.payload));
    impl::call(r.cb, make_error_code(errc::aborted));
    std::lock_guard lock(s.mu);
    s.release(r);
  }
}

std::size_t timer_service::pending() const {
  std::lock_guard lock(impl_->mu);
  return impl_->wheel.size();
}

}  // namespace quay::detail
