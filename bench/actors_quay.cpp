// The Quay side of the actor benchmark: the same workloads as actors_caf.cpp on the actor SDK,
// running on a quay::io_port with `threads` workers and the SDK's default options.

#include <quay/actors/actors.hpp>
#include <quay/runtime/io_port.hpp>

#include <array>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actor_bench.hpp"
#include "alloc_counter.hpp"
#include "bench_util.hpp"

namespace quay::bench {
namespace quay_side {
namespace {

// The port and the actor system of one workload. The port is stopped before the system is
// destroyed, as actor_system requires.
struct runtime_holder {
  explicit runtime_holder(std::size_t threads) : port(options(threads)), sys(port) {}
  ~runtime_holder() { port.stop(); }
  /// Stops `refs` and waits (bounded) until no actor is alive, so that teardown does not rely
  /// on ~actor_system stopping live actors.
  void stop_and_wait(std::initializer_list<actor_ref> refs) {
    for (actor_ref r : refs) sys.stop(r);
    auto deadline = bench_clock::now() + std::chrono::seconds(10);
    while (sys.live_actors() != 0 && bench_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  static io_port_options options(std::size_t threads) {
    io_port_options o;
    o.workers = threads;
    o.name = "bench";
    return o;
  }
  io_port port;
  actor_system sys;
};

struct ball {
  int v = 0;
};
struct msg8 {
  std::uint64_t v = 0;
};
struct msg64 {
  std::array<std::uint64_t, 8> words{};
};
static_assert(sizeof(msg64) == 64);

// ---- pingpong and alloc --------------------------------------------------------------------

template <class M>
struct pong_actor final : actor {
  void on_msg(M& m) { reply(m); }
  static void define(handlers<pong_actor>& h) { h.template on<&pong_actor::on_msg>(); }
};

// Counts allocations over the last `measured` round trips when `measured` > 0.
template <class M>
struct ping_actor final : actor {
  ping_actor(actor_ref pong, std::uint64_t n, std::uint64_t measured, done_flag* done)
      : pong_(pong), left_(n), measured_(measured), done_(done) {}
  void on_start() override { send(pong_, M{}); }
  void on_msg(M& m) {
    std::uint64_t left = --left_;
    if (measured_ != 0 && left == measured_) alloc::start_counting();
    if (left == 0) {
      if (measured_ != 0) alloc::stop_counting();
      done_->set();
      return;
    }
    send(pong_, m);
  }
  static void define(handlers<ping_actor>& h) { h.template on<&ping_actor::on_msg>(); }

  actor_ref pong_;
  std::uint64_t left_;
  std::uint64_t measured_;
  done_flag* done_;
};

template <class M>
std::pair<double, std::string> bounce_seconds(std::size_t threads, std::uint64_t n,
                                              std::uint64_t measured) {
  runtime_holder rt(threads);
  done_flag done;
  stopwatch sw;
  actor_ref pong = rt.sys.spawn<pong_actor<M>>();
  rt.sys.spawn<ping_actor<M>>(pong, n, measured, &done);
  done.wait();
  return {sw.wall(), sw.times()};
}

std::vector<figure> pingpong(const actor_params& p) {
  auto [s, times] = bounce_seconds<ball>(p.threads, p.pingpong_round_trips, 0);
  return {{"pingpong", 2.0 * static_cast<double>(p.pingpong_round_trips) / s, "msgs/s",
           times}};
}

std::vector<figure> allocs(const actor_params& p) {
  bounce_seconds<msg8>(p.threads, p.alloc_warmup + p.alloc_measured, p.alloc_measured);
  double per8 = static_cast<double>(alloc::calls.load()) / (2.0 * p.alloc_measured);
  bounce_seconds<msg64>(p.threads, p.alloc_warmup + p.alloc_measured, p.alloc_measured);
  double per64 = static_cast<double>(alloc::calls.load()) / (2.0 * p.alloc_measured);
  return {{"alloc_per_msg_8B", per8, "allocs/msg", ""},
          {"alloc_per_msg_64B", per64, "allocs/msg", ""}};
}

// ---- fanout -------------------------------------------------------------------------------

struct work {
  int v = 0;
};
struct ack {};
struct go {};

struct fan_worker final : actor {
  void on_work(work&) { reply(ack{}); }
  static void define(handlers<fan_worker>& h) { h.on<&fan_worker::on_work>(); }
};

struct fan_driver final : actor {
  fan_driver(std::vector<actor_ref> workers, std::uint64_t msgs, done_flag* done)
      : workers_(std::move(workers)), msgs_(msgs), acks_left_(msgs), done_(done) {}
  void on_go(go&) {
    for (std::uint64_t i = 0; i < msgs_; ++i) {
      send(workers_[i % workers_.size()], work{static_cast<int>(i)});
    }
  }
  void on_ack(ack&) {
    progress.fetch_add(1, std::memory_order_relaxed);
    if (--acks_left_ == 0) done_->set();
  }
  static void define(handlers<fan_driver>& h) {
    h.on<&fan_driver::on_go>().on<&fan_driver::on_ack>();
  }

  std::vector<actor_ref> workers_;
  std::uint64_t msgs_;
  std::uint64_t acks_left_;
  done_flag* done_;
};

std::vector<figure> fanout(const actor_params& p) {
  runtime_holder rt(p.threads);
  std::vector<actor_ref> workers;
  for (std::uint64_t i = 0; i < p.fanout_workers; ++i) workers.push_back(rt.sys.spawn<fan_worker>());
  done_flag done;
  actor_ref driver = rt.sys.spawn<fan_driver>(workers, p.fanout_messages, &done);
  stopwatch sw;
  rt.sys.send(driver, go{});
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  return {{"fanout", 2.0 * static_cast<double>(p.fanout_messages) / s, "msgs/s",
           times}};
}

// ---- spawn --------------------------------------------------------------------------------

struct short_lived final : actor {
  short_lived(std::uint64_t n, done_flag* done) : n_(n), done_(done) {}
  void on_start() override {
    if (progress.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) done_->set();
    stop();
  }
  std::uint64_t n_;
  done_flag* done_;
};

struct spawner final : actor {
  spawner(std::uint64_t n, done_flag* done) : n_(n), done_(done) {}
  void on_start() override {
    for (std::uint64_t i = 0; i < n_; ++i) spawn<short_lived>(n_, done_);
    stop();
  }
  std::uint64_t n_;
  done_flag* done_;
};

std::vector<figure> spawn(const actor_params& p) {
  runtime_holder rt(p.threads);
  done_flag done;
  progress.store(0);
  stopwatch sw;
  rt.sys.spawn<spawner>(p.spawn_actors, &done);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  return {{"spawn", static_cast<double>(p.spawn_actors) / s, "actors/s",
           times}};
}

// ---- ring ---------------------------------------------------------------------------------

struct set_next {
  actor_ref next;
};
struct token {
  std::uint64_t left = 0;
};

struct ring_node final : actor {
  explicit ring_node(done_flag* done) : done_(done) {}
  void on_next(set_next& m) { next_ = m.next; }
  void on_token(token& t) {
    if (t.left == 0) {
      done_->set();
      return;
    }
    send(next_, token{t.left - 1});
  }
  static void define(handlers<ring_node>& h) {
    h.on<&ring_node::on_next>().on<&ring_node::on_token>();
  }
  actor_ref next_{};
  done_flag* done_;
};

std::vector<figure> ring(const actor_params& p) {
  runtime_holder rt(p.threads);
  done_flag done;
  std::vector<actor_ref> nodes;
  for (std::uint64_t i = 0; i < p.ring_size; ++i) nodes.push_back(rt.sys.spawn<ring_node>(&done));
  for (std::uint64_t i = 0; i < p.ring_size; ++i) {
    rt.sys.send(nodes[i], set_next{nodes[(i + 1) % p.ring_size]});
  }
  stopwatch sw;
  rt.sys.send(nodes[0], token{p.ring_hops});
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  return {{"ring", static_cast<double>(p.ring_hops) / s, "hops/s",
           times}};
}

// ---- skynet -------------------------------------------------------------------------------

struct partial_sum {
  std::uint64_t v = 0;
};

struct sky_node final : actor {
  sky_node(actor_ref parent, std::uint64_t base, std::uint64_t size)
      : parent_(parent), base_(base), size_(size) {}
  void on_start() override {
    if (size_ == 1) {
      send(parent_, partial_sum{base_});
      stop();
      return;
    }
    for (std::uint64_t i = 0; i < 10; ++i) spawn<sky_node>(self(), base_ + i * (size_ / 10), size_ / 10);
  }
  void on_sum(partial_sum& s) {
    sum_ += s.v;
    if (--pending_ == 0) {
      send(parent_, partial_sum{sum_});
      stop();
    }
  }
  static void define(handlers<sky_node>& h) { h.on<&sky_node::on_sum>(); }
  actor_ref parent_;
  std::uint64_t base_;
  std::uint64_t size_;
  std::uint64_t sum_ = 0;
  int pending_ = 10;
};

struct sky_collector final : actor {
  sky_collector(std::uint64_t* result, done_flag* done) : result_(result), done_(done) {}
  void on_sum(partial_sum& s) {
    *result_ = s.v;
    done_->set();
    stop();
  }
  static void define(handlers<sky_collector>& h) { h.on<&sky_collector::on_sum>(); }
  std::uint64_t* result_;
  done_flag* done_;
};

std::vector<figure> skynet(const actor_params& p) {
  runtime_holder rt(p.threads);
  done_flag done;
  std::uint64_t result = 0;
  stopwatch sw;
  actor_ref collector = rt.sys.spawn<sky_collector>(&result, &done);
  rt.sys.spawn<sky_node>(collector, std::uint64_t{0}, p.skynet_leaves);
  done.wait();
  double ms = sw.wall() * 1e3;
  std::string times = sw.times();
  if (result != skynet_expected(p.skynet_leaves)) {
    throw std::runtime_error("quay skynet sum " + std::to_string(result) + " != " +
                             std::to_string(skynet_expected(p.skynet_leaves)));
  }
  return {{"skynet", ms, "ms", "sum=" + std::to_string(result) + " " + times}};
}

// ---- ask ----------------------------------------------------------------------------------

struct increment {
  using reply_type = std::uint64_t;
  std::uint64_t v = 0;
};

struct ask_server final : actor {
  std::uint64_t on_increment(increment& r) { return r.v + 1; }
  static void define(handlers<ask_server>& h) { h.on<&ask_server::on_increment>(); }
};

struct asker final : actor {
  asker(actor_ref server, std::uint64_t n, done_flag* done, std::atomic<bool>* wrong)
      : server_(server), left_(n), done_(done), wrong_(wrong) {}
  void on_start() override { next(); }
  void next() {
    std::uint64_t q = left_;
    ask(server_, increment{q}, millis{0}, [this, q](result<std::uint64_t> r) {
      if (!r || *r != q + 1) wrong_->store(true);
      if (--left_ == 0 || wrong_->load()) {
        done_->set();
        return;
      }
      next();
    });
  }
  actor_ref server_;
  std::uint64_t left_;
  done_flag* done_;
  std::atomic<bool>* wrong_;
};

std::vector<figure> ask(const actor_params& p) {
  runtime_holder rt(p.threads);
  done_flag done;
  std::atomic<bool> wrong{false};
  actor_ref server = rt.sys.spawn<ask_server>();
  stopwatch sw;
  actor_ref client = rt.sys.spawn<asker>(server, p.ask_round_trips, &done, &wrong);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  rt.stop_and_wait({client, server});
  if (wrong.load()) throw std::runtime_error("quay ask: a reply was missing or wrong");
  return {{"ask", s * 1e9 / static_cast<double>(p.ask_round_trips), "ns/roundtrip",
           times}};
}

// ---- idle ---------------------------------------------------------------------------------

struct poke {};

struct idle_actor final : actor {
  void on_start() override { progress.fetch_add(1, std::memory_order_release); }
  void on_poke(poke&) {}
  static void define(handlers<idle_actor>& h) { h.on<&idle_actor::on_poke>(); }
};

std::vector<figure> idle(const actor_params& p) {
  runtime_holder rt(p.threads);
  std::vector<actor_ref> actors;
  actors.reserve(p.idle_actors);
  progress.store(0);
  // One actor first, so one-time costs (handler table, pools) are not charged to the N. The CAF
  // side warms up the same way.
  rt.sys.spawn<idle_actor>();
  while (progress.load(std::memory_order_acquire) < 1) std::this_thread::yield();
  progress.store(0);
  auto live0 = alloc::live_bytes.load();
  auto rss0 = alloc::resident_bytes();
  for (std::uint64_t i = 0; i < p.idle_actors; ++i) actors.push_back(rt.sys.spawn<idle_actor>());
  // Wait until every actor has had its first turn (on_start), so it is truly idle.
  while (progress.load(std::memory_order_acquire) < p.idle_actors) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto live1 = alloc::live_bytes.load();
  auto rss1 = alloc::resident_bytes();
  double n = static_cast<double>(p.idle_actors);
  std::string extra = "actors=" + std::to_string(p.idle_actors) +
                      " state_bytes=0 sizeof_actor_base=" + std::to_string(sizeof(actor));
  return {{"idle_bytes_per_actor", static_cast<double>(live1 - live0) / n, "bytes", extra},
          {"idle_rss_per_actor",
           static_cast<double>(static_cast<std::int64_t>(rss1) - static_cast<std::int64_t>(rss0)) /
               n,
           "bytes", "actors=" + std::to_string(p.idle_actors)}};
}

}  // namespace
}  // namespace quay_side

std::vector<figure> run_quay(const std::string& workload, const actor_params& p) {
  using namespace quay_side;
  if (workload == "pingpong") return pingpong(p);
  if (workload == "fanout") return fanout(p);
  if (workload == "spawn") return spawn(p);
  if (workload == "ring") return ring(p);
  if (workload == "skynet") return skynet(p);
  if (workload == "ask") return ask(p);
  if (workload == "alloc") return allocs(p);
  if (workload == "idle") return idle(p);
  throw std::invalid_argument("unknown workload " + workload);
}

}  // namespace quay::bench
