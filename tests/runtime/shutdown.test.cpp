// stop() with everything in flight at once: socket operations, timers (pending, repeating,
// firing), blocking work (running and queued), self-reposting work and posts from another
// thread. Every completion must be invoked exactly once (a repeating timer: any number of
// expiries, then exactly one errc::aborted), and nothing may leak (ASan/LSan builds).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "socket_test_support.hpp"

namespace quay {
namespace {

using test::connect_pair;
using test::connected_pair;
using test::recorded;
using test::wait_until;

const std::error_code aborted = make_error_code(errc::aborted);

struct timer_record {
  std::atomic<int> fired{0};
  std::atomic<int> aborts{0};
  std::atomic<int> other_errors{0};
};

// A completion that re-posts itself until it is aborted: keeps the workers busy at stop().
struct reposter final : completion {
  explicit reposter(io_port& p) : completion(&on_run), port(&p) {}
  static void on_run(completion* self, std::error_code ec, std::size_t) {
    auto* me = static_cast<reposter*>(self);
    if (ec) {
      me->aborts.fetch_add(1);
      return;
    }
    me->runs.fetch_add(1);
    me->port->post(me);
  }
  io_port* port;
  std::atomic<long> runs{0};
  std::atomic<int> aborts{0};
};

void stop_with_everything_in_flight(bool v6) {
  auto p = std::make_unique<io_port>([] {
    io_port_options o;
    o.workers = 2;
    o.blocking_threads = 2;
    return o;
  }());

  // Sockets: pairs with a receive pending on both ends, one with a send stuck against a peer
  // that does not read, and a pending accept.
  constexpr std::size_t pairs = 20;
  std::vector<std::unique_ptr<connected_pair>> conns;
  std::vector<std::unique_ptr<recorded<recv_op>>> recvs;
  std::vector<char> sink(64);
  for (std::size_t i = 0; i < pairs; ++i) {
    conns.push_back(std::make_unique<connected_pair>());
    ASSERT_NO_FATAL_FAILURE(connect_pair(*p, v6, *conns.back()));
    for (tcp_socket* s : {&conns.back()->client, &conns.back()->server}) {
      recvs.push_back(std::make_unique<recorded<recv_op>>(*p));
      recvs.back()->buffer = {sink.data(), sink.size()};
      async_recv(*s, *recvs.back());
    }
  }
  const std::vector<char> big(16u * 1024 * 1024, 'z');
  const const_buffer big_buf{big.data(), big.size()};
  recorded<send_op> stuck(*p);
  stuck.buffers = &big_buf;
  stuck.count = 1;
  connected_pair send_pair;
  ASSERT_NO_FATAL_FAILURE(connect_pair(*p, v6, send_pair));
  async_send(send_pair.client, stuck);
  recorded<accept_op> acc(*p);
  conns.front()->listener.async_accept(acc);

  // Timers: far ones (aborted), repeating ones (firing while we stop), near ones (fire).
  std::vector<std::unique_ptr<timer_record>> timers;
  auto add_timer = [&](millis delay, millis period) {
    timers.push_back(std::make_unique<timer_record>());
    timer_record* t = timers.back().get();
    p->start_timer(delay, [t](std::error_code ec) {
      if (!ec) {
        t->fired.fetch_add(1);
      } else if (ec == make_error_code(errc::aborted)) {
        t->aborts.fetch_add(1);
      } else {
        t->other_errors.fetch_add(1);
      }
    }, period);
  };
  for (int i = 0; i < 50; ++i) add_timer(millis(60'000), millis(0));
  for (int i = 0; i < 50; ++i) add_timer(millis(1), millis(1));
  for (int i = 0; i < 50; ++i) add_timer(millis(i % 5), millis(0));

  // Blocking work: more jobs than threads, each long enough to be running at stop().
  constexpr int jobs = 12;
  std::atomic<int> work_ran{0};
  std::atomic<int> done_ok{0};
  std::atomic<int> done_aborted{0};
  std::atomic<int> done_other{0};
  for (int i = 0; i < jobs; ++i) {
    p->run_blocking(
        [&] {
          work_ran.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        },
        [&](std::error_code ec) {
          if (!ec) {
            done_ok.fetch_add(1);
          } else if (ec == make_error_code(errc::aborted)) {
            done_aborted.fetch_add(1);
          } else {
            done_other.fetch_add(1);
          }
        });
  }

  // Busy workers and an outside thread posting through the stop.
  reposter r1(*p);
  reposter r2(*p);
  p->post(&r1);
  p->post(&r2);
  std::atomic<long> posted{0};
  std::atomic<long> post_runs{0};
  std::atomic<bool> stop_posting{false};
  std::thread poster([&] {
    while (!stop_posting.load()) {
      posted.fetch_add(1);
      p->post_fn([&](std::error_code) { post_runs.fetch_add(1); });
    }
  });
  ASSERT_TRUE(wait_until([&] { return r1.runs.load() > 100 && posted.load() > 100; }));

  p->stop();
  stop_posting = true;
  poster.join();

  // After stop() returns, everything has completed: no waiting needed.
  for (const auto& r : recvs) {
    EXPECT_EQ(r->runs.load(), 1);
    EXPECT_EQ(r->ec, aborted);
  }
  EXPECT_EQ(stuck.runs.load(), 1);
  EXPECT_EQ(stuck.ec, aborted);
  EXPECT_LT(stuck.bytes, big.size());  // the bytes known sent so far
  EXPECT_EQ(acc.runs.load(), 1);
  EXPECT_EQ(acc.ec, aborted);
  for (std::size_t i = 0; i < timers.size(); ++i) {
    const timer_record& t = *timers[i];
    EXPECT_EQ(t.other_errors.load(), 0);
    if (i < 50) {
      EXPECT_EQ(t.fired.load(), 0) << "a one-minute timer fired";
      EXPECT_EQ(t.aborts.load(), 1);
    } else if (i < 100) {
      EXPECT_EQ(t.aborts.load(), 1) << "a repeating timer ends with exactly one abort";
    } else {
      EXPECT_EQ(t.fired.load() + t.aborts.load(), 1) << "timer " << i;
    }
  }
  EXPECT_EQ(done_ok.load() + done_aborted.load(), jobs);
  EXPECT_EQ(done_other.load(), 0);
  // Exact outcome: a job whose work ran (some were running when stop() began) gives its done
  // the work's result; a job that never started hears errc::aborted and its work never runs.
  EXPECT_EQ(done_ok.load(), work_ran.load());
  EXPECT_EQ(done_aborted.load(), jobs - work_ran.load());
  EXPECT_EQ(r1.aborts.load(), 1);
  EXPECT_EQ(r2.aborts.load(), 1);
  EXPECT_EQ(post_runs.load(), posted.load());

  // Sockets close after stop() (no operation pending any more), then the port goes.
  send_pair.client.close();
  send_pair.server.close();
  send_pair.listener.close();
  conns.clear();
  p.reset();
}

TEST(shutdown, stop_invokes_every_completion_once_with_sockets_timers_and_blocking_work_in_flight) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    ASSERT_NO_FATAL_FAILURE(stop_with_everything_in_flight(/*v6=*/false));
  }
}

TEST(shutdown, the_same_holds_over_ipv6) {
  ASSERT_NO_FATAL_FAILURE(stop_with_everything_in_flight(/*v6=*/true));
}

TEST(shutdown, blocking_work_running_at_stop_gives_its_done_the_result_and_queued_work_is_aborted) {
  io_port p([] {
    io_port_options o;
    o.workers = 1;
    o.blocking_threads = 1;
    return o;
  }());
  // The first job runs until one of its own submits is refused inline, on its own thread:
  // then the pool is stopping, so the port is already closed and the job was certainly
  // running at stop(). Its one pool thread is busy meanwhile, so the second job (and every
  // probe accepted before the refusal) never starts.
  std::atomic<bool> started{false};
  std::atomic<int> probe_works{0};
  std::atomic<int> probe_dones{0};
  int probes = 0;
  std::error_code running_done = aborted;
  std::atomic<int> running_dones{0};
  p.run_blocking(
      [&] {
        started = true;
        const auto self = std::this_thread::get_id();
        bool refused = false;
        while (!refused) {
          ++probes;
          p.run_blocking([&] { probe_works.fetch_add(1); },
                         [&, self](std::error_code ec) {
                           if (ec == aborted) probe_dones.fetch_add(1);
                           if (ec == aborted && std::this_thread::get_id() == self) refused = true;
                         });
          std::this_thread::yield();
        }
      },
      [&](std::error_code ec) {
        running_done = ec;
        running_dones.fetch_add(1);
      });
  std::atomic<bool> queued_ran{false};
  std::error_code queued_done;
  std::atomic<int> queued_dones{0};
  p.run_blocking([&] { queued_ran = true; },
                 [&](std::error_code ec) {
                   queued_done = ec;
                   queued_dones.fetch_add(1);
                 });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  p.stop();
  EXPECT_EQ(running_dones.load(), 1);
  EXPECT_FALSE(running_done) << "work ran, so done sees its result, not aborted";
  EXPECT_EQ(queued_dones.load(), 1);
  EXPECT_FALSE(queued_ran.load());
  EXPECT_EQ(queued_done, aborted);
  EXPECT_EQ(probe_works.load(), 0);
  EXPECT_EQ(probe_dones.load(), probes);
}

TEST(shutdown, destroying_a_port_with_queued_work_runs_it_aborted_and_leaks_nothing) {
  std::atomic<int> aborts{0};
  {
    io_port p([] {
      io_port_options o;
      o.workers = 1;
      o.blocking_threads = 1;
      return o;
    }());
    p.post_fn([&] { p.wait_stopped(); });  // holds the only worker until the stop
    for (int i = 0; i < 1000; ++i) {
      p.post_fn([&](std::error_code ec) {
        if (ec == make_error_code(errc::aborted)) aborts.fetch_add(1);
      });
    }
    p.start_timer(millis(60'000), [&](std::error_code ec) {
      if (ec == make_error_code(errc::aborted)) aborts.fetch_add(1);
    });
  }  // ~io_port stops
  EXPECT_EQ(aborts.load(), 1001);
}

}  // namespace
}  // namespace quay
