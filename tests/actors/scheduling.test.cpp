// Scheduling: bounded batches with re-posting (fairness), per-actor batch, and an actor never
// running on two workers at once.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "actor_test_support.hpp"
#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"
#include "quay/runtime/io_port.hpp"

namespace {

using quay::actor_ref;
using quay::actor_test::wait_until;

struct mark {
  char who;
};

class marker final : public quay::actor {
 public:
  marker(std::string* log, std::uint32_t batch) : log_(log) {
    if (batch != 0) {
      set_batch(batch);
    }
  }
  static void define(quay::handlers<marker>& h) { h.on<&marker::on_mark>(); }

 private:
  void on_mark(mark& m) { log_->push_back(m.who); }
  std::string* log_;
};

quay::actor_system_options batch_of(std::uint32_t n) {
  auto o = quay::testing::deterministic_options();
  o.batch = n;
  return o;
}

TEST(scheduling, a_busy_actor_yields_after_its_batch_so_others_get_a_turn) {
  quay::testing::actor_fixture f(batch_of(4));
  std::string log;
  const actor_ref a = f.spawn<marker>(&log, 0);
  const actor_ref b = f.spawn<marker>(&log, 0);
  f.run();
  for (int i = 0; i < 10; ++i) {
    f.send(a, mark{'a'});
  }
  f.send(b, mark{'b'});
  f.run();
  EXPECT_EQ(log, "aaaabaaaaaa");
}

TEST(scheduling, an_actor_can_set_its_own_batch) {
  quay::testing::actor_fixture f(batch_of(64));
  std::string log;
  const actor_ref a = f.spawn<marker>(&log, 2);
  const actor_ref b = f.spawn<marker>(&log, 0);
  f.run();
  for (int i = 0; i < 5; ++i) {
    f.send(a, mark{'a'});
  }
  for (int i = 0; i < 3; ++i) {
    f.send(b, mark{'b'});
  }
  f.run();
  EXPECT_EQ(log, "aabbbaaa");
}

TEST(scheduling, a_send_to_an_idle_actor_makes_it_runnable_exactly_once) {
  quay::testing::actor_fixture f(batch_of(64));
  std::string log;
  const actor_ref a = f.spawn<marker>(&log, 0);
  f.run();
  EXPECT_EQ(f.port.ready(), 0u);
  f.send(a, mark{'x'});
  EXPECT_EQ(f.port.ready(), 1u);
  f.send(a, mark{'y'});
  f.send(a, mark{'z'});
  EXPECT_EQ(f.port.ready(), 1u);  // already scheduled: no second post
  f.run();
  EXPECT_EQ(log, "xyz");
}

struct enter {};

class exclusive final : public quay::actor {
 public:
  exclusive(std::atomic<int>* inside, std::atomic<int>* overlaps, std::atomic<int>* done)
      : inside_(inside), overlaps_(overlaps), done_(done) {
    set_batch(1);
  }
  static void define(quay::handlers<exclusive>& h) { h.on<&exclusive::on_enter>(); }

 private:
  void on_enter(enter&) {
    if (inside_->fetch_add(1) != 0) {
      overlaps_->fetch_add(1);
    }
    std::atomic<int> spin{0};
    while (spin.fetch_add(1, std::memory_order_relaxed) < 50) {
    }
    ++unsynchronized_;  // a data race (TSan) if two workers ever ran this actor at once
    inside_->fetch_sub(1);
    done_->fetch_add(1);
  }
  std::atomic<int>* inside_;
  std::atomic<int>* overlaps_;
  std::atomic<int>* done_;
  long unsynchronized_ = 0;
};

TEST(scheduling, an_actor_never_runs_on_two_workers_at_once) {
  quay::io_port port(quay::io_port_options{.workers = 4});
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> done{0};
  constexpr int threads = 4;
  constexpr int per_thread = 20'000;
  {
    quay::actor_system sys(port);
    const actor_ref a = sys.spawn<exclusive>(&inside, &overlaps, &done);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i) {
          sys.send(a, enter{});
        }
      });
    }
    for (auto& t : ts) {
      t.join();
    }
    ASSERT_TRUE(wait_until([&] { return done.load() == threads * per_thread; }));
    port.stop();
  }
  EXPECT_EQ(overlaps.load(), 0);
}

}  // namespace
