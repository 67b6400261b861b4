// The CAF 0.17 side of the actor benchmark (the anchor). Each workload builds its own
// actor_system with `threads` scheduler threads and the scheduler policy it is given (CAF's
// default work stealing, or work sharing: bench_actors --impl=caf runs both and reports the
// better), and stops every actor it spawned before the system is destroyed.

#include <caf/all.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actor_bench.hpp"
#include "alloc_counter.hpp"
#include "bench_util.hpp"

namespace quay::bench::caf_side {
struct msg64 {
  std::array<std::uint64_t, 8> words{};
};
}  // namespace quay::bench::caf_side

// Local-only messages need no serializer; CAF 0.17 asks for this declaration instead.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(quay::bench::caf_side::msg64)

namespace quay::bench {
namespace caf_side {
namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;

struct system_holder {
  explicit system_holder(const actor_params& p) : cfg(make_cfg(p)), sys(cfg) {}
  static caf::actor_system_config make_cfg(const actor_params& p) {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", static_cast<std::int64_t>(p.threads));
    c.set("scheduler.policy", p.policy == caf_policy::sharing ? caf::atom("sharing")
                                                              : caf::atom("stealing"));
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys;
};

caf::actor sender_of(caf::event_based_actor* self) {
  return caf::actor_cast<caf::actor>(self->current_sender());
}

// ---- pingpong and alloc: two actors bounce one message ------------------------------------

template <class M>
caf::behavior pong_fn(caf::event_based_actor* self) {
  return {[=](M& m) { self->send(sender_of(self), std::move(m)); }};
}

struct ping_state {
  std::uint64_t left = 0;
};

// Counts allocations over the last `measured` round trips when `measured` > 0.
template <class M>
caf::behavior ping_fn(caf::stateful_actor<ping_state>* self, caf::actor pong, std::uint64_t n,
                      std::uint64_t measured, done_flag* done) {
  self->state.left = n;
  self->send(pong, M{});
  return {[=](M& m) {
    std::uint64_t left = --self->state.left;
    if (measured != 0 && left == measured) alloc::start_counting();
    if (left == 0) {
      if (measured != 0) alloc::stop_counting();
      done->set();
      return;
    }
    self->send(pong, std::move(m));
  }};
}

template <class M>
std::pair<double, std::string> bounce_seconds(const actor_params& p, std::uint64_t n,
                                              std::uint64_t measured) {
  system_holder h(p);
  done_flag done;
  stopwatch sw;
  auto pong = h.sys.spawn(pong_fn<M>);
  auto ping = h.sys.spawn(ping_fn<M>, pong, n, measured, &done);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  caf::anon_send_exit(ping, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  return {s, times};
}

std::vector<figure> pingpong(const actor_params& p) {
  auto [s, times] = bounce_seconds<int>(p, p.pingpong_round_trips, 0);
  return {{"pingpong", 2.0 * static_cast<double>(p.pingpong_round_trips) / s, "msgs/s",
           times}};
}

std::vector<figure> allocs(const actor_params& p) {
  std::vector<figure> out;
  bounce_seconds<std::uint64_t>(p, p.alloc_warmup + p.alloc_measured, p.alloc_measured);
  double per8 = static_cast<double>(alloc::calls.load()) / (2.0 * p.alloc_measured);
  bounce_seconds<msg64>(p, p.alloc_warmup + p.alloc_measured, p.alloc_measured);
  double per64 = static_cast<double>(alloc::calls.load()) / (2.0 * p.alloc_measured);
  out.push_back({"alloc_per_msg_8B", per8, "allocs/msg", ""});
  out.push_back({"alloc_per_msg_64B", per64, "allocs/msg", ""});
  return out;
}

// ---- fanout: one driver, many workers, every message acknowledged -------------------------

caf::behavior fan_worker_fn(caf::event_based_actor* self) {
  return {[=](int) { self->send(sender_of(self), 1); }};
}

struct driver_state {
  std::uint64_t acks_left = 0;
};

caf::behavior driver_fn(caf::stateful_actor<driver_state>* self, std::vector<caf::actor> workers,
                        std::uint64_t msgs, done_flag* done) {
  self->state.acks_left = msgs;
  return {[=](go_atom) {
            for (std::uint64_t i = 0; i < msgs; ++i) {
              self->send(workers[i % workers.size()], static_cast<int>(i));
            }
          },
          [=](int) {
            progress.fetch_add(1, std::memory_order_relaxed);
            if (--self->state.acks_left == 0) done->set();
          }};
}

std::vector<figure> fanout(const actor_params& p) {
  system_holder h(p);
  std::vector<caf::actor> workers;
  for (std::uint64_t i = 0; i < p.fanout_workers; ++i) workers.push_back(h.sys.spawn(fan_worker_fn));
  done_flag done;
  auto driver = h.sys.spawn(driver_fn, workers, p.fanout_messages, &done);
  stopwatch sw;
  caf::anon_send(driver, go_atom::value);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  for (auto& w : workers) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  return {{"fanout", 2.0 * static_cast<double>(p.fanout_messages) / s, "msgs/s",
           times}};
}

// ---- spawn: one actor spawns N actors that each stop on their own -------------------------

void short_lived_fn(caf::event_based_actor* self, std::uint64_t n, done_flag* done) {
  if (progress.fetch_add(1, std::memory_order_acq_rel) + 1 == n) done->set();
  self->quit();
}

void spawner_fn(caf::event_based_actor* self, std::uint64_t n, done_flag* done) {
  for (std::uint64_t i = 0; i < n; ++i) self->spawn(short_lived_fn, n, done);
  self->quit();
}

std::vector<figure> spawn(const actor_params& p) {
  system_holder h(p);
  done_flag done;
  progress.store(0);
  stopwatch sw;
  h.sys.spawn(spawner_fn, p.spawn_actors, &done);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  return {{"spawn", static_cast<double>(p.spawn_actors) / s, "actors/s",
           times}};
}

// ---- ring: a token passed around a ring of actors -----------------------------------------

struct ring_state {
  caf::actor next;
};

caf::behavior ring_fn(caf::stateful_actor<ring_state>* self, done_flag* done) {
  return {[=](caf::actor& next) { self->state.next = std::move(next); },
          [=](std::uint64_t left) {
            if (left == 0) {
              done->set();
              return;
            }
            self->send(self->state.next, left - 1);
          }};
}

std::vector<figure> ring(const actor_params& p) {
  system_holder h(p);
  done_flag done;
  std::vector<caf::actor> nodes;
  for (std::uint64_t i = 0; i < p.ring_size; ++i) nodes.push_back(h.sys.spawn(ring_fn, &done));
  for (std::uint64_t i = 0; i < p.ring_size; ++i) {
    caf::anon_send(nodes[i], nodes[(i + 1) % p.ring_size]);
  }
  stopwatch sw;
  caf::anon_send(nodes[0], p.ring_hops);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  for (auto& n : nodes) caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
  return {{"ring", static_cast<double>(p.ring_hops) / s, "hops/s",
           times}};
}

// ---- skynet: a 10-ary tree of actors sums its leaves' ordinals ----------------------------

struct sky_state {
  caf::actor parent;
  std::uint64_t sum = 0;
  int pending = 0;
};

caf::behavior sky_fn(caf::stateful_actor<sky_state>* self, caf::actor parent, std::uint64_t base,
                     std::uint64_t size) {
  if (size == 1) {
    self->send(parent, base);
    self->quit();
    return {};
  }
  self->state.parent = std::move(parent);
  self->state.pending = 10;
  auto me = caf::actor_cast<caf::actor>(self);
  for (std::uint64_t i = 0; i < 10; ++i) self->spawn(sky_fn, me, base + i * (size / 10), size / 10);
  return {[=](std::uint64_t v) {
    self->state.sum += v;
    if (--self->state.pending == 0) {
      self->send(self->state.parent, self->state.sum);
      self->quit();
    }
  }};
}

caf::behavior sky_root_parent_fn(caf::event_based_actor* self, std::uint64_t* result,
                                 done_flag* done) {
  return {[=](std::uint64_t v) {
    *result = v;
    done->set();
    self->quit();
  }};
}

std::vector<figure> skynet(const actor_params& p) {
  system_holder h(p);
  done_flag done;
  std::uint64_t result = 0;
  stopwatch sw;
  auto collector = h.sys.spawn(sky_root_parent_fn, &result, &done);
  h.sys.spawn(sky_fn, collector, std::uint64_t{0}, p.skynet_leaves);
  done.wait();
  double ms = sw.wall() * 1e3;
  std::string times = sw.times();
  if (result != skynet_expected(p.skynet_leaves)) {
    throw std::runtime_error("caf skynet sum " + std::to_string(result) + " != " +
                             std::to_string(skynet_expected(p.skynet_leaves)));
  }
  return {{"skynet", ms, "ms", "sum=" + std::to_string(result) + " " + times}};
}

// ---- ask: sequential request/reply ---------------------------------------------------------

caf::behavior ask_server_fn(caf::event_based_actor*) {
  return {[](std::uint64_t v) { return v + 1; }};
}

struct asker_state {
  std::uint64_t left = 0;
};

void ask_next(caf::stateful_actor<asker_state>* self, caf::actor server, done_flag* done,
              std::atomic<bool>* wrong) {
  std::uint64_t q = self->state.left;
  self->request(server, caf::infinite, q).then([=](std::uint64_t r) {
    if (r != q + 1) wrong->store(true);
    if (--self->state.left == 0 || wrong->load()) {
      done->set();
      return;
    }
    ask_next(self, server, done, wrong);
  });
}

caf::behavior asker_fn(caf::stateful_actor<asker_state>* self, caf::actor server,
                       std::uint64_t n, done_flag* done, std::atomic<bool>* wrong) {
  self->state.left = n;
  ask_next(self, std::move(server), done, wrong);
  return {[](int) {}};
}

std::vector<figure> ask(const actor_params& p) {
  system_holder h(p);
  done_flag done;
  std::atomic<bool> wrong{false};
  auto server = h.sys.spawn(ask_server_fn);
  stopwatch sw;
  auto asker = h.sys.spawn(asker_fn, server, p.ask_round_trips, &done, &wrong);
  done.wait();
  double s = sw.wall();
  std::string times = sw.times();
  caf::anon_send_exit(asker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
  if (wrong.load()) throw std::runtime_error("caf ask: a reply did not match its request");
  return {{"ask", s * 1e9 / static_cast<double>(p.ask_round_trips), "ns/roundtrip",
           times}};
}

// ---- idle: memory held by actors that wait for a message ----------------------------------

caf::behavior idle_fn(caf::event_based_actor*) {
  progress.fetch_add(1, std::memory_order_release);
  return {[](int) {}};
}

std::vector<figure> idle(const actor_params& p) {
  system_holder h(p);
  std::vector<caf::actor> actors;
  actors.reserve(p.idle_actors);
  progress.store(0);
  // One actor first, so one-time costs are not charged to the N (the same warm-up as the Quay
  // side's).
  caf::actor first = h.sys.spawn(idle_fn);
  while (progress.load(std::memory_order_acquire) < 1) std::this_thread::yield();
  progress.store(0);
  auto live0 = alloc::live_bytes.load();
  auto rss0 = alloc::resident_bytes();
  for (std::uint64_t i = 0; i < p.idle_actors; ++i) actors.push_back(h.sys.spawn(idle_fn));
  // Wait until every actor has run its initialisation, so its behaviour is allocated too.
  while (progress.load(std::memory_order_acquire) < p.idle_actors) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto live1 = alloc::live_bytes.load();
  auto rss1 = alloc::resident_bytes();
  for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  double n = static_cast<double>(p.idle_actors);
  return {{"idle_bytes_per_actor", static_cast<double>(live1 - live0) / n, "bytes",
           "actors=" + std::to_string(p.idle_actors) + " state_bytes=0"},
          {"idle_rss_per_actor",
           static_cast<double>(static_cast<std::int64_t>(rss1) - static_cast<std::int64_t>(rss0)) /
               n,
           "bytes", "actors=" + std::to_string(p.idle_actors)}};
}

}  // namespace
}  // namespace caf_side

std::vector<figure> run_caf(const std::string& workload, const actor_params& p) {
  using namespace caf_side;
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
