#include "timer_service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "quay/runtime/error.hpp"
#include "quay/runtime/io_port.hpp"
#include "quay/runtime/manual_port.hpp"

namespace quay::detail {
namespace {

const std::error_code aborted = make_error_code(errc::aborted);

port_time at(long ms) { return port_time{millis{ms}}; }

template <class Cond>
bool wait_until(Cond cond) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

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

// Timers started from different threads land in different shards; one expire() still posts
// them in deadline order, and each id cancels its own timer.
TEST(timer_service, with_several_shards_expiries_are_posted_in_deadline_order_across_shards) {
  manual_port port;
  timer_service timers{port, {}, 4};
  std::vector<int> order;
  std::vector<timer_id> ids;
  for (int d : {40, 10, 30, 10, 20, 50, 15, 35}) {
    std::thread([&, d] {
      ids.push_back(timers.start(port.now(), millis{d}, [&, d](std::error_code ec) {
        order.push_back(ec ? -d : d);
      }, millis{0}));
    }).join();
  }
  EXPECT_EQ(timers.next_deadline(), at(10));
  EXPECT_TRUE(timers.cancel(ids[5]));  // the 50
  EXPECT_EQ(timers.pending(), 7u);
  EXPECT_EQ(timers.expire(at(1000)), 7u);
  EXPECT_EQ(port.run_all(), 8u);
  EXPECT_EQ(order, (std::vector<int>{-50, 10, 10, 15, 20, 30, 35, 40}));
  EXPECT_FALSE(timers.next_deadline());
}

// A cancel leaves its shard's cached deadline early; the next expire corrects it, and an
// early cached deadline never makes a later timer fire early.
TEST(timer_service, next_deadline_after_a_cancel_is_never_late_and_an_expire_makes_it_exact) {
  fixture f;
  std::vector<std::error_code> got;
  const timer_id first = f.timers.start(f.port.now(), millis{10}, [&](std::error_code ec) {
    got.push_back(ec);
  }, millis{0});
  f.timers.start(f.port.now(), millis{70}, [&](std::error_code ec) { got.push_back(ec); },
                 millis{0});
  ASSERT_TRUE(f.timers.cancel(first));
  ASSERT_TRUE(f.timers.next_deadline());
  EXPECT_LE(*f.timers.next_deadline(), at(70));
  f.move_to(10);
  EXPECT_EQ(f.timers.next_deadline(), at(70));
  f.port.run_all();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], aborted);
  f.move_to(69);
  f.port.run_all();
  EXPECT_EQ(got.size(), 1u) << "nothing fires before its deadline";
  f.move_to(70);
  f.port.run_all();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[1]);
}

// The TSan stress: on a running io_port (one timer shard per worker), workers and outside
// threads start timers and cancel each other's while the port expires them. Each timer's
// callback runs exactly once, and a cancel that returned true is the one that delivered an
// abort (a false one leaves the expiry).
TEST(timer_service, concurrent_starts_cancels_and_expiries_across_shards_deliver_each_timer_once) {
  io_port p([] {
    io_port_options o;
    o.workers = 3;
    o.blocking_threads = 1;
    return o;
  }());
  constexpr int starters = 4;  // two on workers, two outside
  constexpr int per_starter = 3000;
  constexpr int total = starters * per_starter;
  struct slot {
    std::atomic<int> fired{0};
    std::atomic<int> aborts{0};
    std::atomic<int> cancel_won{0};
    std::atomic<std::uint64_t> id{0};
  };
  std::vector<slot> slots(total);
  std::atomic<int> calls{0};
  std::atomic<int> finished_starters{0};
  auto start_batch = [&](int s) {
    for (int i = 0; i < per_starter; ++i) {
      slot& sl = slots[static_cast<std::size_t>(s * per_starter + i)];
      const timer_id id = p.start_timer(millis{i % 7}, [&sl, &calls](std::error_code ec) {
        (ec ? sl.aborts : sl.fired).fetch_add(1);
        calls.fetch_add(1);
      });
      sl.id.store(id.value, std::memory_order_release);
      // Cancel a timer another starter made (it may be armed, queued, running or done).
      const int other = ((s + 1) % starters) * per_starter + i;
      slot& victim = slots[static_cast<std::size_t>(other)];
      if (i % 2 == 0) {
        if (const auto v = victim.id.load(std::memory_order_acquire); v != 0) {
          if (p.cancel_timer(timer_id{v})) victim.cancel_won.fetch_add(1);
        }
      }
    }
    finished_starters.fetch_add(1);
  };
  p.post_fn([&] { start_batch(0); });
  p.post_fn([&] { start_batch(1); });
  std::thread outside_a([&] { start_batch(2); });
  std::thread outside_b([&] { start_batch(3); });
  outside_a.join();
  outside_b.join();
  ASSERT_TRUE(wait_until([&] { return finished_starters.load() == starters; }));
  ASSERT_TRUE(wait_until([&] { return calls.load() == total; }));
  p.stop();
  EXPECT_EQ(calls.load(), total);
  for (int i = 0; i < total; ++i) {
    const slot& sl = slots[static_cast<std::size_t>(i)];
    ASSERT_EQ(sl.fired.load() + sl.aborts.load(), 1) << "timer " << i;
    ASSERT_EQ(sl.aborts.load(), sl.cancel_won.load()) << "timer " << i;
  }
}

}  // namespace
}  // namespace quay::detail
