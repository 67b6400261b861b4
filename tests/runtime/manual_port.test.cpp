#include "quay/runtime/manual_port.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "quay/runtime/error.hpp"

namespace quay {
namespace {

// A completion that records (tag, error) into a shared log when invoked.
struct logging_op final : completion {
  logging_op(std::vector<std::string>& l, std::string t)
      : completion(&on_run), log(l), tag(std::move(t)) {}
  static void on_run(completion* self, std::error_code ec, std::size_t bytes) {
    auto* me = static_cast<logging_op*>(self);
    me->log.push_back(me->tag + (ec ? ":aborted" : ":ok") + ":" + std::to_string(bytes));
  }
  std::vector<std::string>& log;
  std::string tag;
};

TEST(manual_port, runs_nothing_until_stepped_then_runs_posts_in_fifo_order) {
  manual_port p;
  std::vector<std::string> log;
  logging_op a(log, "a"), b(log, "b"), c(log, "c");
  b.set_result({}, 7);
  p.post(&a);
  p.post(&b);
  p.post(&c);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(p.ready(), 3u);
  EXPECT_TRUE(p.run_one());
  EXPECT_EQ(log, (std::vector<std::string>{"a:ok:0"}));
  EXPECT_EQ(p.run_all(), 2u);
  EXPECT_EQ(log, (std::vector<std::string>{"a:ok:0", "b:ok:7", "c:ok:0"}));
  EXPECT_FALSE(p.run_one());
}

TEST(manual_port, a_completion_posted_while_running_goes_behind_those_already_queued) {
  manual_port p;
  std::vector<std::string> order;
  p.post_fn([&] {
    order.push_back("first");
    p.post_fn([&] { order.push_back("posted-by-first"); });
  });
  p.post_fn([&] { order.push_back("second"); });
  p.run_all();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "posted-by-first"}));
}

TEST(manual_port, run_all_stops_at_its_limit) {
  manual_port p;
  int runs = 0;
  for (int i = 0; i < 10; ++i) p.post_fn([&] { ++runs; });
  EXPECT_EQ(p.run_all(4), 4u);
  EXPECT_EQ(runs, 4);
  EXPECT_EQ(p.ready(), 6u);
  p.run_all();
}

TEST(manual_port, posts_from_other_threads_run_on_the_stepping_thread) {
  manual_port p;
  const auto stepper = std::this_thread::get_id();
  int on_stepper = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        p.post_fn([&] { on_stepper += std::this_thread::get_id() == stepper ? 1 : 0; });
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(p.run_all(), 400u);
  EXPECT_EQ(on_stepper, 400);
}

TEST(manual_port, in_worker_is_true_only_inside_a_completion_of_this_port) {
  manual_port p;
  manual_port other;
  bool inside = false;
  bool other_inside = true;
  p.post_fn([&] {
    inside = p.in_worker();
    other_inside = other.in_worker();
  });
  EXPECT_FALSE(p.in_worker());
  p.run_all();
  EXPECT_TRUE(inside);
  EXPECT_FALSE(other_inside);
  EXPECT_FALSE(p.in_worker());
}

TEST(manual_port, a_timer_becomes_ready_only_when_the_clock_reaches_its_deadline) {
  manual_port p;
  std::vector<std::error_code> fired;
  p.start_timer(millis{100}, [&](std::error_code ec) { fired.push_back(ec); });
  EXPECT_EQ(p.pending_timers(), 1u);
  p.advance(millis{99});
  p.run_all();
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(p.now().time_since_epoch(), millis{99});
  p.advance(millis{1});
  EXPECT_TRUE(fired.empty()) << "expiry must wait for a step";
  EXPECT_EQ(p.ready(), 1u);
  p.run_all();
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_FALSE(fired[0]);
  EXPECT_EQ(p.pending_timers(), 0u);
}

TEST(manual_port, timers_due_in_one_advance_run_in_deadline_order) {
  manual_port p;
  std::vector<int> order;
  p.start_timer(millis{30}, [&](std::error_code) { order.push_back(30); });
  p.start_timer(millis{10}, [&](std::error_code) { order.push_back(10); });
  p.start_timer(millis{5000}, [&](std::error_code) { order.push_back(5000); });
  p.start_timer(millis{20}, [&](std::error_code) { order.push_back(20); });
  p.advance(millis{10'000});
  p.run_all();
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30, 5000}));
}

TEST(manual_port, a_zero_delay_timer_runs_at_the_next_step_without_advancing) {
  manual_port p;
  int fired = 0;
  p.start_timer(millis{0}, [&](std::error_code ec) { fired += ec ? 0 : 1; });
  EXPECT_EQ(p.run_all(), 1u);
  EXPECT_EQ(fired, 1);
}

TEST(manual_port, a_repeating_timer_fires_once_per_period) {
  manual_port p;
  int fired = 0;
  p.start_timer(millis{10}, [&](std::error_code ec) { fired += ec ? 0 : 1; }, millis{10});
  for (int i = 1; i <= 5; ++i) {
    p.advance(millis{10});
    p.run_all();
    EXPECT_EQ(fired, i);
  }
}

TEST(manual_port, a_cancelled_timer_hears_aborted_once_and_never_fires) {
  manual_port p;
  std::vector<std::error_code> got;
  const timer_id id = p.start_timer(millis{50}, [&](std::error_code ec) { got.push_back(ec); });
  EXPECT_TRUE(p.cancel_timer(id));
  EXPECT_FALSE(p.cancel_timer(id));
  p.advance(millis{100});
  p.run_all();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], make_error_code(errc::aborted));
}

TEST(manual_port, blocking_work_runs_when_stepped_and_its_done_is_queued_after) {
  manual_port p;
  std::vector<std::string> order;
  p.run_blocking([&] { order.push_back("work"); },
                 [&](std::error_code ec) { order.push_back(ec ? "done:error" : "done:ok"); });
  p.post_fn([&] { order.push_back("other"); });
  EXPECT_TRUE(order.empty());
  p.run_all();
  EXPECT_EQ(order, (std::vector<std::string>{"work", "other", "done:ok"}));
}

TEST(manual_port, blocking_work_that_throws_gives_done_work_failed) {
  manual_port p;
  std::error_code got;
  p.run_blocking([] { throw std::runtime_error("disk on fire"); },
                 [&](std::error_code ec) { got = ec; });
  p.run_all();
  EXPECT_EQ(got, make_error_code(errc::work_failed));
}

TEST(manual_port, blocking_work_that_ran_before_shutdown_gives_done_its_result_not_aborted) {
  bool work_ran = false;
  std::vector<std::error_code> got;
  manual_port p;
  p.run_blocking([&] { work_ran = true; }, [&](std::error_code ec) { got.push_back(ec); });
  p.run_blocking([] { throw std::runtime_error("disk on fire"); },
                 [&](std::error_code ec) { got.push_back(ec); });
  ASSERT_TRUE(p.run_one());  // the first work runs; its done is queued
  ASSERT_TRUE(p.run_one());  // the second work throws; its done is queued
  ASSERT_TRUE(work_ran);
  ASSERT_TRUE(got.empty());
  p.shutdown();  // drains the queued dones with errc::aborted
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0]);
  EXPECT_EQ(got[1], make_error_code(errc::work_failed));
}

TEST(manual_port, shutdown_aborts_timers_queued_completions_and_unstarted_blocking_work) {
  std::vector<std::string> log;
  bool work_ran = false;
  std::error_code done_ec;
  std::error_code timer_ec;
  logging_op queued(log, "queued");
  logging_op late(log, "late");
  {
    manual_port p;
    p.start_timer(millis{1000}, [&](std::error_code ec) { timer_ec = ec; });
    p.post(&queued);
    p.run_blocking([&] { work_ran = true; }, [&](std::error_code ec) { done_ec = ec; });
    p.shutdown();
    EXPECT_EQ(timer_ec, make_error_code(errc::aborted));
    EXPECT_FALSE(work_ran);
    EXPECT_EQ(done_ec, make_error_code(errc::aborted));
    EXPECT_EQ(log, (std::vector<std::string>{"queued:aborted:0"}));
    EXPECT_EQ(p.pending_timers(), 0u);
    EXPECT_EQ(p.ready(), 0u);
    // After shutdown a post is still invoked exactly once, with errc::aborted.
    p.post(&late);
    EXPECT_EQ(log.back(), "late:aborted:0");
    std::error_code refused;
    EXPECT_FALSE(p.start_timer(millis{1}, [&](std::error_code ec) { refused = ec; }));
    EXPECT_EQ(refused, make_error_code(errc::aborted));
    p.shutdown();  // idempotent
  }
  EXPECT_EQ(log.size(), 2u);
}

TEST(manual_port, a_repeating_timer_that_shuts_the_port_down_hears_one_abort_after_it_returns) {
  manual_port p;
  std::vector<std::error_code> got;
  p.start_timer(millis{10},
                [&](std::error_code ec) {
                  got.push_back(ec);
                  if (!ec) p.shutdown();
                },
                millis{10});
  p.advance(millis{10});
  p.run_all();
  EXPECT_EQ(got, (std::vector<std::error_code>{{}, make_error_code(errc::aborted)}));
  EXPECT_EQ(p.pending_timers(), 0u);
}

TEST(manual_port, destruction_aborts_what_is_still_queued) {
  int aborted = 0;
  {
    manual_port p;
    p.post_fn([&](std::error_code ec) { aborted += ec == errc::aborted ? 1 : 0; });
    p.start_timer(millis{5}, [&](std::error_code ec) { aborted += ec == errc::aborted ? 1 : 0; });
  }
  EXPECT_EQ(aborted, 2);
}

}  // namespace
}  // namespace quay
