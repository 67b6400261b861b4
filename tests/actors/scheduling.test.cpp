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


// ---- ready chains: the actors one turn makes runnable are posted together -----------------

struct poke {};
struct poked {};
struct poke_all {
  int rounds;
};

class pokee final : public quay::actor {
 public:
  explicit pokee(std::atomic<int>* overlaps) : overlaps_(overlaps) {}
  static void define(quay::handlers<pokee>& h) { h.on<&pokee::on_poke>(); }
  int handled() const { return handled_.load(); }

 private:
  void on_poke(poke&) {
    if (inside_.fetch_add(1) != 0) {
      overlaps_->fetch_add(1);
    }
    handled_.fetch_add(1);
    reply(poked{});
    inside_.fetch_sub(1);
  }
  std::atomic<int>* overlaps_;
  std::atomic<int> inside_{0};
  std::atomic<int> handled_{0};
};

class poker final : public quay::actor {
 public:
  poker(std::vector<actor_ref> targets, std::atomic<int>* acks)
      : targets_(std::move(targets)), acks_(acks) {}
  static void define(quay::handlers<poker>& h) {
    h.on<&poker::on_poke_all>().on<&poker::on_poked>();
  }

 private:
  void on_poke_all(poke_all& p) {
    for (int r = 0; r < p.rounds; ++r) {
      for (const actor_ref& t : targets_) {
        send(t, poke{});
      }
    }
  }
  void on_poked(poked&) { acks_->fetch_add(1); }
  std::vector<actor_ref> targets_;
  std::atomic<int>* acks_;
};

TEST(scheduling, actors_woken_by_one_turn_each_run_exactly_once_per_message_across_ready_chains) {
  quay::io_port port(quay::io_port_options{.workers = 2});
  std::atomic<int> overlaps{0};
  std::atomic<int> acks{0};
  constexpr int targets = 100;
  constexpr int rounds = 200;
  {
    quay::actor_system_options o;
    o.ready_batch = 3;  // small, so one turn flushes many chains, the last one partial
    quay::actor_system sys(port, o);
    std::vector<actor_ref> refs;
    for (int i = 0; i < targets; ++i) {
      refs.push_back(sys.spawn<pokee>(&overlaps));
    }
    const actor_ref p = sys.spawn<poker>(refs, &acks);
    sys.send(p, poke_all{rounds});
    ASSERT_TRUE(wait_until([&] { return acks.load() == targets * rounds; }));
    port.stop();
  }
  EXPECT_EQ(acks.load(), targets * rounds);
  EXPECT_EQ(overlaps.load(), 0);
}

struct labelled {
  actor_ref ref;
  char who;
};

class forwarder final : public quay::actor {
 public:
  explicit forwarder(std::vector<labelled> to) : to_(std::move(to)) {}
  static void define(quay::handlers<forwarder>& h) { h.on<&forwarder::on_mark>(); }

 private:
  void on_mark(mark&) {
    for (const labelled& t : to_) {
      send(t.ref, mark{t.who});
    }
  }
  std::vector<labelled> to_;
};

TEST(scheduling, a_ready_chain_is_one_port_completion_and_runs_in_the_order_actors_became_ready) {
  auto o = quay::testing::deterministic_options();
  o.ready_batch = 8;
  quay::testing::actor_fixture f(o);
  std::string log;
  const actor_ref a = f.spawn<marker>(&log, 0);
  const actor_ref b = f.spawn<marker>(&log, 0);
  const actor_ref c = f.spawn<marker>(&log, 0);
  f.run();
  const actor_ref fwd = f.spawn<forwarder>(std::vector<labelled>{{c, 'c'}, {a, 'a'}, {b, 'b'}});
  f.run();
  f.send(fwd, mark{'x'});
  EXPECT_TRUE(f.step());  // the forwarder's turn: c, a and b become ready, chained
  EXPECT_EQ(log, "");
  EXPECT_TRUE(f.step());  // one completion runs the whole chain, in order
  EXPECT_EQ(log, "cab");
  EXPECT_FALSE(f.step());
}

}  // namespace
