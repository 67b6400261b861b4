#include "blocking_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "quay/runtime/error.hpp"
#include "quay/runtime/manual_port.hpp"

namespace quay::detail {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto patience = std::chrono::seconds(20);

// Steps the port until `cond` holds or the deadline passes; returns whether it held.
template <class Cond>
bool step_until(manual_port& p, Cond cond) {
  const auto deadline = clock_type::now() + patience;
  while (!cond()) {
    if (clock_type::now() > deadline) return false;
    if (!p.run_one()) std::this_thread::yield();
  }
  return true;
}

template <class Cond>
bool wait_until(Cond cond) {
  const auto deadline = clock_type::now() + patience;
  while (!cond()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(blocking_pool, work_runs_off_the_stepping_thread_and_done_runs_on_it) {
  manual_port p;
  blocking_pool pool(p, 2, "test-blocking");
  const auto stepper = std::this_thread::get_id();
  std::atomic<bool> work_on_stepper{true};
  bool done_on_stepper = false;
  bool done = false;
  std::error_code got = make_error_code(errc::aborted);
  pool.submit([&] { work_on_stepper = std::this_thread::get_id() == stepper; },
              [&](std::error_code ec) {
                done_on_stepper = std::this_thread::get_id() == stepper && p.in_worker();
                got = ec;
                done = true;
              });
  ASSERT_TRUE(step_until(p, [&] { return done; }));
  EXPECT_FALSE(work_on_stepper.load());
  EXPECT_TRUE(done_on_stepper);
  EXPECT_FALSE(got);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(blocking_pool, every_job_runs_once_and_posts_its_done_once) {
  manual_port p;
  blocking_pool pool(p, 3, "test-blocking");
  constexpr int jobs = 2000;
  std::vector<std::atomic<int>> work_runs(jobs);
  std::vector<int> done_runs(jobs, 0);
  int done_total = 0;
  for (int i = 0; i < jobs; ++i) {
    pool.submit([&, i] { work_runs[i].fetch_add(1); },
                [&, i](std::error_code ec) {
                  EXPECT_FALSE(ec);
                  ++done_runs[i];
                  ++done_total;
                });
  }
  ASSERT_TRUE(step_until(p, [&] { return done_total == jobs; }));
  for (int i = 0; i < jobs; ++i) {
    EXPECT_EQ(work_runs[i].load(), 1) << i;
    EXPECT_EQ(done_runs[i], 1) << i;
  }
}

TEST(blocking_pool, work_that_throws_gives_done_work_failed_and_the_pool_keeps_going) {
  manual_port p;
  blocking_pool pool(p, 1, "test-blocking");
  std::vector<std::error_code> got;
  pool.submit([] { throw std::runtime_error("disk on fire"); },
              [&](std::error_code ec) { got.push_back(ec); });
  pool.submit([] { throw 42; }, [&](std::error_code ec) { got.push_back(ec); });
  pool.submit([] {}, [&](std::error_code ec) { got.push_back(ec); });
  ASSERT_TRUE(step_until(p, [&] { return got.size() == 3; }));
  EXPECT_EQ(got[0], make_error_code(errc::work_failed));
  EXPECT_EQ(got[1], make_error_code(errc::work_failed));
  EXPECT_FALSE(got[2]);
}

TEST(blocking_pool, stop_lets_the_running_job_finish_and_aborts_unstarted_jobs_exactly_once) {
  manual_port p;
  blocking_pool pool(p, 1, "test-blocking");
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::atomic<int> aborted_dones{0};
  std::atomic<int> ok_dones{0};
  std::atomic<int> unstarted_work_runs{0};
  auto count_done = [&](std::error_code ec) {
    if (ec == errc::aborted) {
      aborted_dones.fetch_add(1);
    } else {
      ok_dones.fetch_add(1);
    }
  };
  pool.submit(
      [&] {
        started = true;
        while (!release.load()) std::this_thread::yield();
      },
      count_done);
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  constexpr int queued = 10;
  for (int i = 0; i < queued; ++i) pool.submit([&] { unstarted_work_runs.fetch_add(1); }, count_done);
  EXPECT_EQ(pool.pending(), queued + 1u);

  std::thread stopper([&] { pool.stop(); });
  // Probe until a submit is refused: then stop() has begun and the running job may finish.
  // A refused probe hears its abort inline, on this thread; a queued one later, on the stopper.
  const auto test_thread = std::this_thread::get_id();
  std::atomic<bool> refused_inline{false};
  int probes = 0;
  ASSERT_TRUE(wait_until([&] {
    ++probes;
    pool.submit([&] { unstarted_work_runs.fetch_add(1); },
                [&](std::error_code ec) {
                  count_done(ec);
                  if (std::this_thread::get_id() == test_thread) refused_inline = true;
                });
    return refused_inline.load();
  }));
  release = true;
  stopper.join();

  EXPECT_EQ(unstarted_work_runs.load(), 0);
  EXPECT_EQ(aborted_dones.load(), queued + probes) << "every unstarted job aborted exactly once";
  // The running job finished and posted its done to the (still running) port.
  ASSERT_TRUE(step_until(p, [&] { return ok_dones.load() == 1; }));
  EXPECT_EQ(p.run_all(), 0u);
  EXPECT_EQ(ok_dones.load(), 1);
  EXPECT_EQ(pool.pending(), 0u);
}

TEST(blocking_pool, a_submit_after_stop_is_refused_with_aborted_on_the_calling_thread) {
  manual_port p;
  blocking_pool pool(p, 2, "test-blocking");
  pool.stop();
  pool.stop();  // idempotent
  bool ran = false;
  std::error_code got;
  pool.submit([&] { ran = true; }, [&](std::error_code ec) { got = ec; });
  EXPECT_FALSE(ran);
  EXPECT_EQ(got, make_error_code(errc::aborted));
  EXPECT_EQ(p.ready(), 0u);
}

TEST(blocking_pool, a_done_still_queued_when_the_port_shuts_down_sees_the_result_of_its_work) {
  manual_port p;
  blocking_pool pool(p, 1, "test-blocking");
  std::atomic<bool> work_ran{false};
  std::vector<std::error_code> got;
  pool.submit([&] { work_ran = true; }, [&](std::error_code ec) { got.push_back(ec); });
  pool.submit([] { throw std::runtime_error("disk on fire"); },
              [&](std::error_code ec) { got.push_back(ec); });
  ASSERT_TRUE(wait_until([&] { return p.ready() == 2; }));
  pool.stop();
  p.shutdown();  // runs the queued dones with errc::aborted: the jobs keep their own result
  EXPECT_TRUE(work_ran.load());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0]) << "work ran, so done sees its result, not aborted";
  EXPECT_EQ(got[1], make_error_code(errc::work_failed));
}

TEST(blocking_pool, a_done_posted_to_a_closed_port_sees_the_result_of_its_work) {
  manual_port p;
  blocking_pool pool(p, 1, "test-blocking");
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  std::atomic<int> dones{0};
  std::error_code got = make_error_code(errc::aborted);
  pool.submit(
      [&] {
        started = true;
        while (!release.load()) std::this_thread::yield();
      },
      [&](std::error_code ec) {
        got = ec;
        dones.fetch_add(1);
      });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  p.shutdown();  // closed: the job's post will run inline with errc::aborted
  release = true;
  pool.stop();  // joins after the running job has posted its done
  EXPECT_EQ(dones.load(), 1);
  EXPECT_FALSE(got) << "work ran, so done sees its result, not aborted";
}

TEST(blocking_pool, destroying_a_busy_pool_joins_and_accounts_for_every_job) {
  manual_port p;
  std::atomic<int> dones{0};
  std::atomic<int> works{0};
  constexpr int jobs = 200;
  {
    blocking_pool pool(p, 2, "test-blocking");
    for (int i = 0; i < jobs; ++i) {
      pool.submit([&] { works.fetch_add(1); }, [&](std::error_code) { dones.fetch_add(1); });
    }
  }
  // Jobs that ran posted their done to the port; the rest were aborted inline by stop().
  p.run_all();
  EXPECT_EQ(dones.load(), jobs);
  EXPECT_LE(works.load(), jobs);
}

}  // namespace
}  // namespace quay::detail
