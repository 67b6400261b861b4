// bench_actors_scale: what one reply and one timer message cost an actor, as a function of how
// many requests and timers it has pending (issue 18 item 6). The cost should not depend on the
// count: it is measured at today's count (10 per actor, a player actor's order of magnitude),
// 10x and 100x.
//
// Single-threaded on a manual_port, so the figure is the actor's own bookkeeping (the port's
// queue and timer wheel are the same at every count), not scheduling noise:
//   actor_reply_pending_<n>:   an actor holds <n> requests with a deadline that are never
//                              answered, and asks another actor for a reply, one at a time.
//   actor_timer_active_<n>:    an actor holds <n> idle timers (1 h period) and one every(1 ms)
//                              timer; the clock moves 1 ms at a time.
// Prints `BENCH name=... impl=quay value=<ns> unit=ns_per_reply|ns_per_timer_message` with the
// min and max of the repetitions.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "quay/actors/actors.hpp"
#include "quay/actors/testing.hpp"

namespace {

using namespace std::chrono_literals;
using quay::actor_ref;

struct ping {
  using reply_type = std::uint32_t;
  std::uint32_t n;
};
struct parked {  // a request nobody answers (until its 1 h deadline)
  using reply_type = std::uint32_t;
};
struct begin {
  actor_ref echo;
  actor_ref silent;
  std::uint32_t pending;
  std::uint32_t rounds;
};
struct tick {};
struct idle_tick {};

class echo final : public quay::actor {
 public:
  static void define(quay::handlers<echo>& h) { h.on<&echo::on_ping>(); }

 private:
  std::uint32_t on_ping(const ping& p) { return p.n + 1; }
};

class silent final : public quay::actor {
 public:
  static void define(quay::handlers<silent>& h) { h.on<&silent::on_parked>(); }

 private:
  void on_parked(const parked&) {}  // never answers: the request stays pending at the asker
};

class asker final : public quay::actor {
 public:
  explicit asker(std::uint32_t* done) : done_(done) {}
  static void define(quay::handlers<asker>& h) { h.on<&asker::on_begin>(); }

 private:
  void on_begin(const begin& b) {
    for (std::uint32_t i = 0; i < b.pending; ++i) {
      ask(b.silent, parked{}, 3'600'000ms, [](quay::result<std::uint32_t>) {});
    }
    echo_ = b.echo;
    left_ = b.rounds;
    next(0);
  }
  void next(std::uint32_t n) {
    if (left_ == 0) {
      return;
    }
    --left_;
    ask(echo_, ping{n}, 3'600'000ms, [this](quay::result<std::uint32_t> r) {
      ++*done_;
      next(r ? *r : 0);
    });
  }
  std::uint32_t* done_;
  actor_ref echo_;
  std::uint32_t left_ = 0;
};

class ticker final : public quay::actor {
 public:
  ticker(std::uint32_t idle, std::uint32_t* ticks) : idle_(idle), ticks_(ticks) {}
  static void define(quay::handlers<ticker>& h) {
    h.on<&ticker::on_tick>().on<&ticker::on_idle>();
  }

 private:
  void on_start() override {
    for (std::uint32_t i = 0; i < idle_; ++i) {
      every(3'600'000ms, idle_tick{});
    }
    every(1ms, tick{});  // started last: a linear search by id meets it at the end
  }
  void on_tick(tick&) { ++*ticks_; }
  void on_idle(idle_tick&) {}
  std::uint32_t idle_;
  std::uint32_t* ticks_;
};

struct figure {
  double min = 0;
  double max = 0;
  double median = 0;
};

figure summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return figure{v.front(), v.back(), v[v.size() / 2]};
}

void print(const std::string& name, const char* unit, const figure& f, std::uint32_t reps) {
  char extra[128];
  std::snprintf(extra, sizeof extra, "min=%.1f max=%.1f reps=%u", f.min, f.max, reps);
  quay::bench::print_bench(name, "quay", f.median, unit, extra);
}

double reply_ns(std::uint32_t pending, std::uint32_t rounds) {
  quay::testing::actor_fixture f;
  std::uint32_t done = 0;
  const actor_ref e = f.spawn<echo>();
  const actor_ref s = f.spawn<silent>();
  const actor_ref a = f.spawn<asker>(&done);
  f.run();
  f.send(a, begin{e, s, pending, 0});  // parks the pending requests
  f.run();
  quay::bench::stopwatch w;
  f.send(a, begin{e, s, 0, rounds});
  f.run();
  const double ns = w.wall() * 1e9 / rounds;
  if (done != rounds) {
    std::fprintf(stderr, "actors_scale: %u of %u replies\n", done, rounds);
    std::exit(1);
  }
  return ns;
}

double timer_ns(std::uint32_t idle, std::uint32_t ticks_wanted) {
  quay::testing::actor_fixture f;
  std::uint32_t ticks = 0;
  f.spawn<ticker>(idle, &ticks);
  f.run();
  quay::bench::stopwatch w;
  for (std::uint32_t i = 0; i < ticks_wanted; ++i) {
    f.advance(1ms);
  }
  const double ns = w.wall() * 1e9 / ticks_wanted;
  if (ticks != ticks_wanted) {
    std::fprintf(stderr, "actors_scale: %u of %u ticks\n", ticks, ticks_wanted);
    std::exit(1);
  }
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  quay::bench::args args(argc, argv);
  const auto reps = static_cast<std::uint32_t>(args.get_u64("reps", 5));
  const auto rounds = static_cast<std::uint32_t>(args.get_u64("rounds", 20'000));
  if (!args.unknown().empty() || reps == 0 || rounds < 10) {
    std::fprintf(stderr, "usage: bench_actors_scale [--reps=5] [--rounds=20000]\n");
    return 2;
  }
  const std::uint32_t base = 10;  // pending requests / timers per actor today
  for (const std::uint32_t n : {base, base * 10, base * 100}) {
    std::vector<double> r;
    std::vector<double> t;
    reply_ns(n, rounds / 10);  // warm-up: envelope pool, handler tables
    timer_ns(n, rounds / 10);
    for (std::uint32_t i = 0; i < reps; ++i) {
      r.push_back(reply_ns(n, rounds));
      t.push_back(timer_ns(n, rounds));
    }
    print("actor_reply_pending_" + std::to_string(n), "ns_per_reply", summarize(r), reps);
    print("actor_timer_active_" + std::to_string(n), "ns_per_timer_message", summarize(t), reps);
  }
  return 0;
}
