#include "blocking_pool.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "quay/runtime/error.hpp"
#include "quay/runtime/log.hpp"

namespace quay::detail {
namespace {

std::shared_ptr<spdlog::logger> runtime_logger() { return quay::log::get("runtime"); }

// One job: a single allocation that carries the work, its continuation, and the completion
// that delivers the continuation to the owner port.
//
// Exact outcome: once `work` has run, `done` gets the work's result even when the port
// delivers the job with errc::aborted (a closed port runs the post inline, aborted; a port
// shutting down drains its queue aborted). Only a job whose work never ran hears aborted
// (stop() and a refused submit call `done` directly for those).
struct job final : completion {
  job(unique_function<void()> w, unique_function<void(std::error_code)> d)
      : completion(&on_run), work(std::move(w)), done(std::move(d)) {}

  static void on_run(completion* self, std::error_code, std::size_t) {
    std::unique_ptr<job> owned(static_cast<job*>(self));
    // Only posted after `work` ran (loop() below), so the port's error is ignored.
    if (owned->done) owned->done(owned->result);
  }

  unique_function<void()> work;
  unique_function<void(std::error_code)> done;
  std::error_code result;  // written by the pool thread before the post that hands the job over
};

}  // namespace

struct blocking_pool::impl {
  impl(port& o, std::string n) : owner(o), name(std::move(n)) {}

  port& owner;
  const std::string name;

  mutable std::mutex mu;
  std::condition_variable wake;
  std::deque<job*> queue;
  std::size_t running = 0;
  bool stopping = false;
  std::vector<std::thread> threads;

  void loop() {
    for (;;) {
      job* j = nullptr;
      {
        std::unique_lock lock(mu);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        // On stop, threads leave even with jobs queued: stop() aborts those exactly once.
        if (stopping) return;
        j = queue.front();
        queue.pop_front();
        ++running;
      }
      std::error_code result;
      try {
        j->work();
      } catch (const std::exception& e) {
        runtime_logger()->error("blocking pool '{}': work threw: {}", name, e.what());
        result = make_error_code(errc::work_failed);
      } catch (...) {
        runtime_logger()->error("blocking pool '{}': work threw a non-standard exception", name);
        result = make_error_code(errc::work_failed);
      }
      // Release the work's captures here, off the workers, before the result travels.
      j->work = nullptr;
      j->result = result;
      {
        // Not pending once `done` can run, so pending() reads 0 inside the last `done`.
        std::lock_guard lock(mu);
        --running;
      }
      owner.post(j);
    }
  }
};

blocking_pool::blocking_pool(port& owner, std::size_t threads, std::string name)
    : impl_(std::make_unique<impl>(owner, std::move(name))) {
  if (threads == 0) threads = 1;
  impl_->threads.reserve(threads);
  try {
    for (std::size_t i = 0; i < threads; ++i) {
      impl_->threads.emplace_back([p = impl_.get()] { p->loop(); });
    }
  } catch (...) {
    stop();
    throw;
  }
}

blocking_pool::~blocking_pool() { stop(); }

void blocking_pool::submit(unique_function<void()> work,
                           unique_function<void(std::error_code)> done) {
  auto j = std::make_unique<job>(std::move(work), std::move(done));
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->queue.push_back(j.release());
      impl_->wake.notify_one();
      return;
    }
  }
  if (j->done) j->done(make_error_code(errc::aborted));
}

void blocking_pool::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    threads.swap(impl_->threads);  // only the first stop() joins
  }
  impl_->wake.notify_all();
  for (auto& t : threads) t.join();

  // No thread is left to take these: each unstarted job hears errc::aborted exactly once.
  std::deque<job*> unstarted;
  {
    std::lock_guard lock(impl_->mu);
    unstarted.swap(impl_->queue);
  }
  for (job* raw : unstarted) {
    std::unique_ptr<job> j(raw);
    if (j->done) j->done(make_error_code(errc::aborted));
  }
}

std::size_t blocking_pool::pending() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue.size() + impl_->running;
}

}  // namespace quay::detail
