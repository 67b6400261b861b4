// The native port's posting contract: exactly once, from anywhere, and what stop() does to
// work that has not run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "quay/runtime/error.hpp"
#include "quay/runtime/io_port.hpp"
#include "port_probe.hpp"

namespace quay {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto patience = std::chrono::seconds(20);

template <class Cond>
bool wait_until(Cond cond) {
  const auto deadline = clock_type::now() + patience;
  while (!cond()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// A completion that counts its invocations and remembers its last error.
struct counted final : completion {
  counted() : completion(&on_run) {}
  static void on_run(completion* self, std::error_code ec, std::size_t) {
    auto* me = static_cast<counted*>(self);
    me->ec = ec;
    me->runs.fetch_add(1, std::memory_order_acq_rel);
  }
  std::atomic<int> runs{0};
  std::error_code ec;
};

io_port_options workers(std::size_t n) {
  io_port_options o;
  o.workers = n;
  o.blocking_threads = 1;
  return o;
}

TEST(io_port, every_completion_posted_from_outside_runs_exactly_once_on_a_worker) {
  io_port p(workers(2));
  constexpr std::size_t n = 20'000;
  std::vector<counted> items(n);
  std::atomic<std::size_t> done{0};
  std::atomic<bool> all_on_workers{true};
  for (auto& c : items) p.post(&c);
  p.post_fn([&] {
    if (!p.in_worker()) all_on_workers = false;
    done.fetch_add(1);
  });
  ASSERT_TRUE(wait_until([&] {
    std::size_t ran = 0;
    for (auto& c : items) ran += c.runs.load() != 0 ? 1 : 0;
    return ran == n && done.load() == 1;
  }));
  p.stop();
  for (auto& c : items) {
    EXPECT_EQ(c.runs.load(), 1);
    EXPECT_FALSE(c.ec);
  }
  EXPECT_TRUE(all_on_workers.load());
  EXPECT_FALSE(p.in_worker());
}

TEST(io_port, completions_posted_by_workers_run_and_keep_running_until_the_chain_ends) {
  io_port p(workers(2));
  constexpr int chains = 64;
  constexpr int hops = 500;
  std::atomic<int> finished{0};
  std::atomic<int> hops_run{0};
  // Each hop posts the next from inside a worker.
  struct hop {
    static void go(io_port& port, std::atomic<int>& count, std::atomic<int>& fin, int left) {
      port.post_fn([&port, &count, &fin, left] {
        count.fetch_add(1);
        if (left == 0) {
          fin.fetch_add(1);
        } else {
          go(port, count, fin, left - 1);
        }
      });
    }
  };
  for (int i = 0; i < chains; ++i) hop::go(p, hops_run, finished, hops - 1);
  ASSERT_TRUE(wait_until([&] { return finished.load() == chains; }));
  EXPECT_EQ(hops_run.load(), chains * hops);
}

// A completion that re-posts itself until told to stop (or a cap of hops), counting its hops.
struct self_poster final : completion {
  self_poster() : completion(&on_run) {}
  static void on_run(completion* self, std::error_code ec, std::size_t) {
    auto* me = static_cast<self_poster*>(self);
    const long n = me->hops.fetch_add(1, std::memory_order_relaxed) + 1;
    if (ec || me->stop_now.load(std::memory_order_acquire) || n == me->cap) {
      me->finished.store(true, std::memory_order_release);
      return;
    }
    me->port->post(me);  // allowed: this invocation has started
  }
  io_port* port = nullptr;
  long cap = 0;
  std::atomic<long> hops{0};
  std::atomic<bool> stop_now{false};
  std::atomic<bool> finished{false};
};

// The fairness bound of the scheduling rule (docs/architecture.md): a worker runs what it posts
// next, but only a bounded number of times in a row. Without the bound the chain below keeps
// its one worker to itself until it reaches its cap, and the other post runs after it.
TEST(io_port, a_completion_that_keeps_posting_itself_does_not_starve_a_post_queued_behind_it) {
  io_port p(workers(1));
  self_poster chain;
  chain.port = &p;
  chain.cap = 1'000'000;
  p.post(&chain);
  ASSERT_TRUE(wait_until([&] { return chain.hops.load() > 0; }));
  std::atomic<long> hops_when_other_ran{-1};
  p.post_fn([&] {
    hops_when_other_ran.store(chain.hops.load(std::memory_order_relaxed));
    chain.stop_now.store(true, std::memory_order_release);
  });
  ASSERT_TRUE(wait_until([&] { return chain.finished.load(); }));
  ASSERT_TRUE(wait_until([&] { return hops_when_other_ran.load() >= 0; }));
  EXPECT_LT(hops_when_other_ran.load(), chain.cap) << "the other post waited for the whole chain";
  p.stop();
}

// A post a worker makes stays with that worker until its current completion returns; if that
// completion runs long, an idle worker that comes back to look for work (here: the poller,
// woken by a 1 ms repeating timer) takes the post instead of leaving it behind the long work.
TEST(io_port, a_post_made_inside_a_long_completion_is_run_by_an_idle_worker_that_looks) {
  io_port p(workers(2));
  const timer_id ticker = p.start_timer(millis(1), [](std::error_code) {}, millis(1));
  std::atomic<bool> inner_ran{false};
  std::atomic<bool> outer_saw_it{false};
  std::atomic<bool> outer_done{false};
  p.post_fn([&] {
    p.post_fn([&] { inner_ran.store(true, std::memory_order_release); });
    // Long work that ends when the inner post has run elsewhere (or at a deadline).
    const auto deadline = clock_type::now() + std::chrono::seconds(10);
    while (!inner_ran.load(std::memory_order_acquire) && clock_type::now() < deadline) {
      std::this_thread::yield();
    }
    outer_saw_it.store(inner_ran.load(std::memory_order_acquire));
    outer_done.store(true, std::memory_order_release);
  });
  ASSERT_TRUE(wait_until([&] { return outer_done.load(); }));
  EXPECT_TRUE(outer_saw_it.load()) << "the post waited for the long completion that made it";
  p.cancel_timer(ticker);
  p.stop();
}

TEST(io_port, concurrency_is_the_number_of_workers_asked_for) {
  io_port p(workers(3));
  EXPECT_EQ(p.concurrency(), 3u);
}

TEST(io_port, a_post_after_stop_runs_at_once_with_aborted) {
  io_port p(workers(2));
  p.stop();
  counted c;
  p.post(&c);
  EXPECT_EQ(c.runs.load(), 1);
  EXPECT_EQ(c.ec, make_error_code(errc::aborted));
  bool called = false;
  p.post_fn([&] { called = true; });  // a no-arg callable is skipped on abort, node freed
  EXPECT_FALSE(called);
}

TEST(io_port, stop_runs_queued_completions_with_aborted_and_their_follow_ups_too) {
  io_port p(workers(2));
  // Occupy both workers until stop() is requested, so the items below stay queued.
  // One at a time: a worker may take several queued items as one batch.
  std::atomic<int> blockers_started{0};
  for (int i = 0; i < 2; ++i) {
    p.post_fn([&] {
      blockers_started.fetch_add(1);
      p.wait_stopped();
    });
    ASSERT_TRUE(wait_until([&] { return blockers_started.load() == i + 1; }));
  }

  constexpr int n = 100;
  std::atomic<int> aborted{0};
  std::atomic<int> ran_normally{0};
  std::atomic<int> follow_ups_aborted{0};
  for (int i = 0; i < n; ++i) {
    p.post_fn([&](std::error_code ec) {
      if (ec != make_error_code(errc::aborted)) {
        ran_normally.fetch_add(1);
        return;
      }
      aborted.fetch_add(1);
      p.post_fn([&](std::error_code ec2) {
        if (ec2 == make_error_code(errc::aborted)) follow_ups_aborted.fetch_add(1);
      });
    });
  }
  std::thread stopper([&] { p.stop(); });
  stopper.join();
  EXPECT_EQ(ran_normally.load(), 0);
  EXPECT_EQ(aborted.load(), n);
  EXPECT_EQ(follow_ups_aborted.load(), n);
}

TEST(io_port, stop_is_idempotent_and_wait_stopped_returns_after_it) {
  io_port p(workers(1));
  std::thread waiter([&] { p.wait_stopped(); });
  p.stop();
  waiter.join();
  p.stop();
  SUCCEED();
}

TEST(io_port, a_stop_requested_by_a_worker_lets_the_owner_finish_it) {
  io_port p(workers(2));
  p.post_fn([&] { p.stop(); });
  p.wait_stopped();
  p.stop();
  counted c;
  p.post(&c);
  EXPECT_EQ(c.ec, make_error_code(errc::aborted));
}

TEST(io_port, a_completion_that_throws_does_not_take_its_worker_down) {
  io_port p(workers(1));
  p.post_fn([] { throw std::runtime_error("expected by the test"); });
  std::atomic<bool> after{false};
  p.post_fn([&] { after = true; });
  EXPECT_TRUE(wait_until([&] { return after.load(); }));
}

TEST(io_port, the_clock_moves_forward_in_milliseconds_since_creation) {
  io_port p(workers(1));
  const port_time t0 = p.now();
  EXPECT_GE(t0.time_since_epoch().count(), 0);
  EXPECT_TRUE(wait_until([&] { return p.now() - t0 >= millis(5); }));
}

TEST(io_port, a_timer_fires_on_a_worker_no_earlier_than_its_delay) {
  io_port p(workers(2));
  const port_time start = p.now();
  std::atomic<bool> fired{false};
  std::atomic<bool> on_worker{false};
  std::atomic<long long> elapsed{-1};
  p.start_timer(millis(30), [&](std::error_code ec) {
    if (ec) return;
    on_worker = p.in_worker();
    elapsed = (p.now() - start).count();
    fired = true;
  });
  ASSERT_TRUE(wait_until([&] { return fired.load(); }));
  EXPECT_TRUE(on_worker.load());
  EXPECT_GE(elapsed.load(), 30);
}

TEST(io_port, a_timer_started_earlier_than_the_pollers_wait_is_not_delayed_by_it) {
  io_port p(workers(1));
  std::atomic<bool> late_fired{false};
  std::atomic<bool> early_fired{false};
  p.start_timer(millis(60'000), [&](std::error_code ec) { late_fired = !ec; });
  // The single worker has committed to waiting for I/O (epoll_wait / GQCS): it published that
  // before reading the one-minute deadline, so the start below either is seen by that read or
  // sees the waiter and interrupts it. Either way the wait must not delay the new timer.
  ASSERT_TRUE(wait_until([&] { return detail::a_worker_is_waiting_for_io(p); }));
  const auto t0 = clock_type::now();
  p.start_timer(millis(10), [&](std::error_code ec) { early_fired = !ec; });
  ASSERT_TRUE(wait_until([&] { return early_fired.load(); }));
  EXPECT_LT(clock_type::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(late_fired.load());
}

TEST(io_port, short_timers_started_from_several_threads_keep_waking_a_poller_that_waits_an_hour) {
  // Rounds of 1 ms timers started from two outside threads at once, on a port whose poller
  // otherwise waits an hour: every start races the poller draining the last interrupt. One
  // interrupt lost for good (the poller's coalescing flag left set with its eventfd empty) and
  // a later round's timers wait for the hour. Bounded: at most 4,000 rounds or 3 s of rounds.
  io_port p(workers(2));
  p.start_timer(millis(3'600'000), [](std::error_code) {});
  const auto stop_at = clock_type::now() + std::chrono::seconds(3);
  constexpr int per_thread = 200;
  // One counter for every round (atomic throughout: a per-round counter on the stack would be
  // re-initialised while the last callback of the round before may still be touching it).
  std::atomic<int> fired{0};
  for (int round = 0; round < 4000 && clock_type::now() < stop_at; ++round) {
    auto starter = [&] {
      for (int i = 0; i < per_thread; ++i) {
        p.start_timer(millis(1), [&](std::error_code ec) {
          if (!ec) fired.fetch_add(1, std::memory_order_relaxed);
        });
      }
    };
    std::thread a(starter);
    std::thread b(starter);
    a.join();
    b.join();
    const int want = (round + 1) * 2 * per_thread;
    const auto deadline = clock_type::now() + std::chrono::seconds(3);
    while (fired.load() < want && clock_type::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    ASSERT_EQ(fired.load(), want) << "round " << round << ": 1 ms timers still pending after 3 s "
                                  << "(a lost poller wake-up)";
  }
}

TEST(io_port, blocking_work_runs_off_the_workers_and_its_result_comes_back_on_one) {
  io_port p(workers(2));
  std::atomic<bool> work_on_worker{true};
  std::atomic<bool> done_on_worker{false};
  std::atomic<bool> done{false};
  p.run_blocking([&] { work_on_worker = p.in_worker(); },
                 [&](std::error_code ec) {
                   done_on_worker = p.in_worker() && !ec;
                   done = true;
                 });
  ASSERT_TRUE(wait_until([&] { return done.load(); }));
  EXPECT_FALSE(work_on_worker.load());
  EXPECT_TRUE(done_on_worker.load());
}

}  // namespace
}  // namespace quay
