#include "quay/runtime/manual_port.hpp"

#include <atomic>
#include <exception>

#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"
#include "timer_service.hpp"

namespace quay {
namespace detail {

// The port whose completion the current thread is running, for in_worker().
thread_local const manual_port* running_port = nullptr;

class manual_state {
 public:
  explicit manual_state(port& owner) : timers(owner) {}

  mutable std::mutex mu;
  std::deque<completion*> ready;
  bool closed = false;         // shutdown finished draining: posts are aborted inline
  bool shutting_down = false;  // shutdown started
  std::atomic<millis::rep> now{0};
  timer_service timers;
};

namespace {

// A blocking job on the manual port: one node, posted twice. The first run executes `work`
// inline on the stepping thread; the second delivers `done` with the work's result, even if
// the port delivers it aborted (shutdown drain). If the port aborts the first run (shutdown),
// work never runs and done hears errc::aborted.
struct manual_job final : completion {
  manual_job(port& p, unique_function<void()> w, unique_function<void(std::error_code)> d)
      : completion(&on_run), owner(p), work(std::move(w)), done(std::move(d)) {}

  static void on_run(completion* self, std::error_code ec, std::size_t) {
    auto* job = static_cast<manual_job*>(self);
    if (!job->work_done && !ec) {
      job->work_done = true;
      std::error_code result;
      try {
        job->work();
      } catch (const std::exception& e) {
        quay::log::get("runtime")->error("manual_port: blocking work threw: {}", e.what());
        result = make_error_code(errc::work_failed);
      } catch (...) {
        quay::log::get("runtime")->error("manual_port: blocking work threw a non-standard exception");
        result = make_error_code(errc::work_failed);
      }
      job->result = result;
      job->owner.post(job);
      return;
    }
    struct guard {
      manual_job* p;
      ~guard() { delete p; }
    } g{job};
    if (job->done) job->done(job->work_done ? job->result : ec);
  }

  port& owner;
  unique_function<void()> work;
  unique_function<void(std::error_code)> done;
  std::error_code result;
  bool work_done = false;
};

}  // namespace
}  // namespace detail

manual_port::manual_port() : state_(std::make_unique<detail::manual_state>(*this)) {}

manual_port::~manual_port() { shutdown(); }

bool manual_port::run_one() {
  // Timers that came due at the current time since the last step (a zero delay, or a
  // repeating timer re-armed at "now" after falling behind) become ready first.
  if (auto d = state_->timers.next_deadline(); d && *d <= now()) {
    state_->timers.expire(now());
  }
  completion* c = nullptr;
  bool aborted = false;
  {
    std::lock_guard lock(state_->mu);
    if (state_->ready.empty()) return false;
    c = state_->ready.front();
    state_->ready.pop_front();
    aborted = state_->shutting_down;
  }
  const manual_port* outer = detail::running_port;
  detail::running_port = this;
  struct restore {
    const manual_port* p;
    ~restore() { detail::running_port = p; }
  } r{outer};
  if (aborted) {
    c->invoke(make_error_code(errc::aborted), 0);
  } else {
    c->invoke();
  }
  return true;
}

std::size_t manual_port::run_all(std::size_t limit) {
  std::size_t n = 0;
  while (n < limit && run_one()) ++n;
  return n;
}

void manual_port::advance(millis d) {
  if (d.count() > 0) state_->now.fetch_add(d.count(), std::memory_order_relaxed);
  state_->timers.expire(now());
}

std::size_t manual_port::ready() const {
  std::lock_guard lock(state_->mu);
  return state_->ready.size();
}

std::size_t manual_port::pending_timers() const { return state_->timers.pending(); }

void manual_port::shutdown() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->shutting_down) return;
    state_->shutting_down = true;
  }
  // Pending timers hear errc::aborted on this thread; timers already queued (and anything
  // queued or posted while draining) run below with errc::aborted.
  state_->timers.abort_all();
  for (;;) {
    completion* c = nullptr;
    {
      std::lock_guard lock(state_->mu);
      if (state_->ready.empty()) {
        state_->closed = true;
        break;
      }
      c = state_->ready.front();
      state_->ready.pop_front();
    }
    c->invoke(make_error_code(errc::aborted), 0);
  }
}

void manual_port::post(completion* c) noexcept {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->closed) {
      state_->ready.push_back(c);
      return;
    }
  }
  // After shutdown nothing will step the port: the completion hears errc::aborted at once,
  // on the posting thread, exactly once.
  c->invoke(make_error_code(errc::aborted), 0);
}

port_time manual_port::now() const noexcept {
  return port_time{millis{state_->now.load(std::memory_order_relaxed)}};
}

timer_id manual_port::start_timer(millis delay, timer_callback cb, millis period) {
  return state_->timers.start(now(), delay, std::move(cb), period);
}

bool manual_port::cancel_timer(timer_id id) noexcept { return state_->timers.cancel(id); }

void manual_port::run_blocking(unique_function<void()> work,
                               unique_function<void(std::error_code)> done) {
  post(new detail::manual_job(*this, std::move(work), std::move(done)));
}

bool manual_port::in_worker() const noexcept { return detail::running_port == this; }

}  // namespace quay
