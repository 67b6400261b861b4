#include "timer_service.hpp"

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

const std::error_code aborted = make_error_code(errc::aborted);

port_time at(long ms) { return port_time{millis{ms}}; }

// A timer_service posting to a manual port; the test moves the port's clock and calls expire().
struct fixture {
  manual_port port;
  timer_service timers{port};

  void move_to(long ms) {
    port.advance(millis{ms} - port.now().time_since_epoch());
    timers.expire(port.now());
  }
};

TEST(timer_service, a_one_shot_timer_posts_one_expiry_at_its_deadline) {
  fixture f;
  std::vector<std::error_code> got;
  f.timers.start(f.port.now(), millis{100}, [&](std::error_code ec) { got.push_back(ec); },
                 millis{0});
  EXPECT_EQ(f.timers.next_deadline(), at(100));
  EXPECT_EQ(f.timers.expire(at(99)), 0u);
  EXPECT_EQ(f.timers.expire(at(100)), 1u);
  EXPECT_TRUE(got.empty()) << "the expiry is a completion: it runs when the port runs it";
  EXPECT_EQ(f.port.run_all(), 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0]);
  EXPECT_EQ(f.timers.pending(), 0u);
  EXPECT_FALSE(f.timers.next_deadline());
}

TEST(timer_service, a_timer_with_the_largest_delay_does_not_wrap_around_and_fire_early) {
  fixture f;
  f.move_to(1000);
  int fired = 0;
  f.timers.start(f.port.now(), millis::max(), [&](std::error_code ec) { fired += ec ? 0 : 1; },
                 millis{0});
  f.move_to(10'000'000);
  f.port.run_all();
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(f.timers.pending(), 1u);
  f.timers.abort_all();
}

TEST(timer_service, expiries_are_posted_in_deadline_order) {
  fixture f;
  std::vector<int> order;
  for (int d : {40, 10, 30, 10, 20}) {
    f.timers.start(f.port.now(), millis{d}, [&, d](std::error_code) { order.push_back(d); },
                   millis{0});
  }
  EXPECT_EQ(f.timers.expire(at(1000)), 5u);
  f.port.run_all();
  EXPECT_EQ(order, (std::vector<int>{10, 10, 20, 30, 40}));
}

TEST(timer_service, a_repeating_timer_is_rearmed_only_after_its_callback_returns) {
  fixture f;
  std::vector<long> fired_at;
  f.timers.start(f.port.now(), millis{10},
                 [&](std::error_code ec) {
                   if (ec) return;
                   fired_at.push_back(f.port.now().time_since_epoch().count());
                 },
                 millis{10});
  f.move_to(10);
  EXPECT_FALSE(f.timers.next_deadline()) << "not re-armed while its expiry is queued";
  EXPECT_EQ(f.timers.pending(), 0u);
  f.port.run_all();
  EXPECT_EQ(f.timers.next_deadline(), at(20)) << "previous deadline plus the period";
  f.move_to(20);
  f.port.run_all();
  f.move_to(30);
  f.port.run_all();
  EXPECT_EQ(fired_at, (std::vector<long>{10, 20, 30}));
  f.timers.abort_all();
}

TEST(timer_service, a_repeating_timer_that_fell_behind_is_rearmed_at_now) {
  fixture f;
  int fired = 0;
  f.timers.start(f.port.now(), millis{10}, [&](std::error_code) { ++fired; }, millis{10});
  f.move_to(55);
  f.port.run_all();
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(f.timers.next_deadline(), at(55));
  f.timers.expire(f.port.now());
  f.port.run_all();
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(f.timers.next_deadline(), at(65));
  f.timers.abort_all();
}

TEST(timer_service, cancelling_a_pending_timer_posts_aborted_exactly_once) {
  fixture f;
  std::vector<std::error_code> got;
  const timer_id id = f.timers.start(f.port.now(), millis{50},
                                     [&](std::error_code ec) { got.push_back(ec); }, millis{0});
  ASSERT_TRUE(id);
  EXPECT_TRUE(f.timers.cancel(id));
  EXPECT_FALSE(f.timers.cancel(id));
  EXPECT_EQ(f.timers.pending(), 0u);
  f.move_to(100);
  f.port.run_all();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], aborted);
  EXPECT_FALSE(f.timers.cancel(id)) << "the id is stale once the abort ran";
}

TEST(timer_service, cancelling_a_one_shot_whose_expiry_is_queued_delivers_only_the_abort) {
  fixture f;
  std::vector<std::error_code> got;
  const timer_id id = f.timers.start(f.port.now(), millis{5},
                                     [&](std::error_code ec) { got.push_back(ec); }, millis{0});
  f.move_to(5);
  EXPECT_EQ(f.port.ready(), 1u);
  EXPECT_TRUE(f.timers.cancel(id));
  f.port.run_all();
  EXPECT_EQ(got, (std::vector<std::error_code>{aborted}));
}

TEST(timer_service, cancelling_a_one_shot_that_already_ran_returns_false) {
  fixture f;
  int calls = 0;
  const timer_id id =
      f.timers.start(f.port.now(), millis{5}, [&](std::error_code) { ++calls; }, millis{0});
  f.move_to(5);
  f.port.run_all();
  EXPECT_FALSE(f.timers.cancel(id));
  f.port.run_all();
  EXPECT_EQ(calls, 1);
}

TEST(timer_service, a_repeating_timer_cancelled_from_its_own_callback_hears_aborted_after_it) {
  fixture f;
  std::vector<std::error_code> got;
  timer_id id;
  bool cancel_result = false;
  id = f.timers.start(f.port.now(), millis{10},
                      [&](std::error_code ec) {
                        got.push_back(ec);
                        if (!ec && got.size() == 2) cancel_result = f.timers.cancel(id);
                      },
                      millis{10});
  for (long t = 10; t <= 60; t += 10) {
    f.move_to(t);
    f.port.run_all();
  }
  EXPECT_TRUE(cancel_result);
  EXPECT_EQ(got, (std::vector<std::error_code>{{}, {}, aborted}));
  EXPECT_EQ(f.timers.pending(), 0u);
}

TEST(timer_service, a_start_that_makes_the_earliest_deadline_earlier_notifies_the_port) {
  manual_port port;
  std::vector<port_time> notified;
  timer_service timers(port, [&](port_time t) { notified.push_back(t); });
  timers.start(at(0), millis{100}, [](std::error_code) {}, millis{0});
  timers.start(at(0), millis{200}, [](std::error_code) {}, millis{0});
  timers.start(at(0), millis{50}, [](std::error_code) {}, millis{0});
  EXPECT_EQ(notified, (std::vector<port_time>{at(100), at(50)}));
  timers.abort_all();
}

TEST(timer_service, abort_all_invokes_pending_timers_inline_and_refuses_new_ones) {
  fixture f;
  std::vector<int> aborted_order;
  std::error_code queued_ec;
  f.timers.start(f.port.now(), millis{1}, [&](std::error_code ec) { queued_ec = ec; }, millis{0});
  f.timers.start(f.port.now(), millis{300}, [&](std::error_code ec) {
    if (ec == errc::aborted) aborted_order.push_back(300);
  }, millis{0});
  f.timers.start(f.port.now(), millis{200}, [&](std::error_code ec) {
    if (ec == errc::aborted) aborted_order.push_back(200);
  }, millis{7});
  f.move_to(1);  // the first one's expiry is queued on the port
  f.timers.abort_all();
  EXPECT_EQ(aborted_order, (std::vector<int>{200, 300}));
  EXPECT_EQ(f.timers.pending(), 0u);

  std::error_code refused;
  const timer_id late =
      f.timers.start(f.port.now(), millis{1}, [&](std::error_code ec) { refused = ec; }, millis{0});
  EXPECT_FALSE(late);
  EXPECT_EQ(refused, aborted);

  f.port.shutdown();  // the queued expiry is drained with errc::aborted
  EXPECT_EQ(queued_ec, aborted);
}

TEST(timer_service, a_callback_that_throws_is_contained_and_the_timer_keeps_repeating) {
  fixture f;
  int calls = 0;
  f.timers.start(f.port.now(), millis{10},
                 [&](std::error_code ec) {
                   if (ec) return;
                   ++calls;
                   throw std::runtime_error("bad callback");
                 },
                 millis{10});
  for (long t = 10; t <= 30; t += 10) {
    f.move_to(t);
    f.port.run_all();
  }
  EXPECT_EQ(calls, 3);
  f.timers.abort_all();
}

TEST(timer_service, a_cancel_on_a_closed_port_that_runs_the_abort_inline_does_not_deadlock) {
  fixture f;
  f.port.shutdown();  // from now on a post is invoked inline with errc::aborted
  std::vector<std::error_code> got;
  const timer_id id = f.timers.start(f.port.now(), millis{10},
                                     [&](std::error_code ec) { got.push_back(ec); }, millis{0});
  EXPECT_TRUE(f.timers.cancel(id));
  EXPECT_EQ(got, (std::vector<std::error_code>{aborted}));
  f.timers.start(f.port.now(), millis{10}, [&](std::error_code ec) { got.push_back(ec); },
                 millis{0});
  EXPECT_EQ(f.timers.expire(at(10)), 1u);
  EXPECT_EQ(got, (std::vector<std::error_code>{aborted, aborted}));
}

// One-shot timers cancelled from another thread while the stepping thread expires them: each
// timer's callback runs exactly once, with the abort exactly when cancel() returned true.
TEST(timer_service, a_cancel_racing_an_expiry_yields_exactly_one_of_them) {
  fixture f;
  constexpr int timers = 20'000;
  std::vector<timer_id> ids(timers);
  std::vector<int> ok_calls(timers, 0);
  std::vector<int> abort_calls(timers, 0);
  std::vector<char> cancel_won(timers, 0);
  for (int i = 0; i < timers; ++i) {
    ids[i] = f.timers.start(f.port.now(), millis{1 + i / 100},
                            [&, i](std::error_code ec) { ++(ec ? abort_calls : ok_calls)[i]; },
                            millis{0});
  }
  std::atomic<bool> go{false};
  std::thread canceller([&] {
    while (!go.load()) std::this_thread::yield();
    for (int i = timers - 1; i >= 0; i -= 1) cancel_won[i] = f.timers.cancel(ids[i]) ? 1 : 0;
  });
  go = true;
  for (long t = 1; t <= 1 + timers / 100; ++t) {
    f.move_to(t);
    f.port.run_all();
  }
  canceller.join();
  f.port.run_all();
  for (int i = 0; i < timers; ++i) {
    ASSERT_EQ(ok_calls[i] + abort_calls[i], 1) << "timer " << i;
    ASSERT_EQ(abort_calls[i], cancel_won[i]) << "timer " << i;
  }
}

// Repeating timers cancelled from another thread mid-flight: after the cancel returns true,
// exactly one abort arrives, nothing arrives after it, and no callback is lost.
TEST(timer_service, a_repeating_timer_cancelled_from_another_thread_ends_with_one_abort) {
  fixture f;
  constexpr int timers = 200;
  std::vector<int> ok_calls(timers, 0);
  std::vector<int> abort_calls(timers, 0);
  std::vector<char> after_abort(timers, 0);
  std::vector<timer_id> ids(timers);
  for (int i = 0; i < timers; ++i) {
    ids[i] = f.timers.start(f.port.now(), millis{1 + i % 7},
                            [&, i](std::error_code ec) {
                              if (abort_calls[i] != 0) after_abort[i] = 1;
                              ++(ec ? abort_calls : ok_calls)[i];
                            },
                            millis{1 + i % 5});
  }
  std::atomic<int> cancelled{0};
  std::thread canceller([&] {
    for (int i = 0; i < timers; ++i) {
      if (f.timers.cancel(ids[i])) cancelled.fetch_add(1);
      std::this_thread::yield();
    }
  });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  long t = 0;
  while (cancelled.load() < timers && std::chrono::steady_clock::now() < give_up) {
    f.move_to(++t);
    f.port.run_all();
  }
  canceller.join();
  f.port.run_all();
  EXPECT_EQ(cancelled.load(), timers);
  EXPECT_EQ(f.timers.pending(), 0u);
  for (int i = 0; i < timers; ++i) {
    EXPECT_EQ(abort_calls[i], 1) << "timer " << i;
    EXPECT_EQ(after_abort[i], 0) << "timer " << i;
  }
}

// Threads start and cancel timers while the stepper expires them; every started timer's
// callback runs exactly once in total.
TEST(timer_service, concurrent_starts_and_cancels_lose_no_callback) {
  fixture f;
  constexpr int threads = 3;
  constexpr int per_thread = 5000;
  std::atomic<int> callbacks{0};
  std::atomic<int> started{0};
  std::atomic<int> done_threads{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < per_thread; ++i) {
        const timer_id id = f.timers.start(f.port.now(), millis{i % 13},
                                           [&](std::error_code) { callbacks.fetch_add(1); },
                                           millis{0});
        started.fetch_add(1);
        if ((i + w) % 3 == 0) f.timers.cancel(id);
      }
      done_threads.fetch_add(1);
    });
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  long t = 0;
  while ((done_threads.load() < threads || callbacks.load() < started.load()) &&
         std::chrono::steady_clock::now() < give_up) {
    f.move_to(++t);
    f.port.run_all();
  }
  for (auto& th : workers) th.join();
  EXPECT_EQ(started.load(), threads * per_thread);
  EXPECT_EQ(callbacks.load(), threads * per_thread);
}

}  // namespace
}  // namespace quay::detail
