// zone_world::tick at 500 / 1,000 / 2,000 / 5,000 players in one zone (the sample game's pure
// core, no network): every player walks and reports a move each tick, NPCs run their AI, and
// the tick builds the per-observer AOI batches.
//
// Figures per N: tick p50/p99 (moves of the tick + tick()), and CPU microseconds per
// player-tick. Anchor in the same run: the AOI step computed the classic way (each observer
// recomputes its visible set and diffs it with the previous one) against aoi_grid::flush with
// shared per-cell batches, on the same movement. Both sides keep their events, and the bench
// checks every tick that they are the same (enter / leave / update sets per observer); it exits
// with status 1 and an error if they are not.
//
//   bench_zone_tick [--ticks=200] [--warmup=20] [--sizes=500,1000,2000,5000] [--bound_s=120]
#include <algorithm>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "quay/game/aoi_grid.hpp"
#include "quay/game/rng.hpp"
#include "quay/game/zone_world.hpp"
#ifdef QUAY_BENCH_HAVE_GAME_PROTOCOL
#include "quay/game/codec.hpp"
#endif

namespace {

using namespace quay::game;
using quay::bench::bench_clock;

// A 2 km square zone with 50 m cells (40 x 40) and 200 wolves spread over it: the players'
// density at 5,000 is about three per cell, nine cells in view.
zone_definition bench_zone() {
  const char* text = R"(
id = 1
name = "Bench"
width = 2000
height = 2000
cell_size = 50
[[spawn]]
name = "start"
x = 1000
y = 1000
[npc_types.wolf]
name = "Wolf"
level = 3
hp = 90
damage_min = 4
damage_max = 8
attack_range = 2.5
cooldown_ms = 1800
respawn_ms = 15000
aggro_radius = 10
leash_radius = 35
wander_radius = 8
speed = 5
)";
  std::string full = text;
  for (int i = 0; i < 200; ++i) {
    full += "[[npc]]\ntype = \"wolf\"\nx = " + std::to_string(50 + (i % 20) * 95) +
            "\ny = " + std::to_string(50 + (i / 20) * 190) + "\n";
  }
  auto r = parse_zone(full, "bench.toml");
  if (!r.zone) {
    for (const auto& e : r.errors) {
      std::fprintf(stderr, "%s: %s\n", e.where.c_str(), e.message.c_str());
    }
    std::exit(2);
  }
  return *r.zone;
}

struct walker {
  entity_id id;
  vec2 pos;
  float heading;
};

// Walks at 5 m/s, turning a little each tick and bouncing off the edges.
void step(walker& w, rng& random, float dt_s) {
  w.heading += random.uniform_float(-0.3f, 0.3f);
  vec2 next{w.pos.x + std::cos(w.heading) * 5.0f * dt_s, w.pos.y + std::sin(w.heading) * 5.0f * dt_s};
  if (next.x < 1 || next.x > 1999 || next.y < 1 || next.y > 1999) {
    w.heading += 3.14159f;
    next = w.pos;
  }
  w.pos = next;
}

double us_since(bench_clock::time_point t) {
  return std::chrono::duration<double, std::micro>(bench_clock::now() - t).count();
}

// Process CPU time: on a machine shared with other jobs, wall time includes the time this
// process waited for a core; CPU time is what the tick itself cost.
double cpu_us_since(std::clock_t t) {
  return static_cast<double>(std::clock() - t) * 1e6 / CLOCKS_PER_SEC;
}

void run_world(std::size_t n, int ticks, int warmup) {
  world_rules rules;
  zone_world world(bench_zone(), rules, 7, 0);
  rng random(11);
  std::vector<walker> walkers;
  for (std::size_t i = 0; i < n; ++i) {
    player_record p;
    p.name = "bot" + std::to_string(i);
    p.pos = {random.uniform_float(1, 1999), random.uniform_float(1, 1999)};
    p.has_pos = true;
    walkers.push_back({world.add_player(p, 0), p.pos, random.uniform_float(0, 6.28f)});
  }
  std::vector<double> tick_ms;
  std::vector<double> cpu_ms;
  std::vector<double> encode_cpu_ms;
  std::size_t encoded_bytes = 0;
#ifdef QUAY_BENCH_HAVE_GAME_PROTOCOL
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<quay::net::frame> encoded;
#endif
  double total_us = 0;
  std::size_t entries = 0;
  std::size_t frames = 0;
  time_ms now = 0;
  for (int t = 0; t < warmup + ticks; ++t) {
    now += 100;
    for (auto& w : walkers) {
      step(w, random, 0.1f);
    }
    const auto start = bench_clock::now();
    const std::clock_t cpu_start = std::clock();
    for (auto& w : walkers) {
      w.pos = world.submit_move(w.id, w.pos, now).pos;
    }
    const tick_output& out = world.tick(now);
    const double cpu = cpu_us_since(cpu_start);
    const double us = us_since(start);
#ifdef QUAY_BENCH_HAVE_GAME_PROTOCOL
    // What the zone actor adds: each shared batch encoded once, each personal one per player.
    const std::clock_t encode_start = std::clock();
    std::size_t bytes = 0;
    encoded.clear();
    for (const auto& s : out.view.shared) {
      encode_world_update(fbb, world, s.batch, static_cast<std::uint32_t>(t), now, encoded);
    }
    for (const auto& p : out.view.personal) {
      encode_world_update(fbb, world, p.batch, static_cast<std::uint32_t>(t), now, encoded);
    }
    for (const auto& f : encoded) bytes += f.wire_size();
    if (t >= warmup) {
      encode_cpu_ms.push_back((cpu + cpu_us_since(encode_start)) / 1000.0);
      encoded_bytes += bytes;
    }
#endif
    if (t >= warmup) {
      tick_ms.push_back(us / 1000.0);
      cpu_ms.push_back(cpu / 1000.0);
      total_us += cpu;
      for (const auto& s : out.view.shared) {
        entries += s.batch.enters.size() + s.batch.leaves.size() + s.batch.updates.size();
        frames += s.observers.size();
      }
      for (const auto& p : out.view.personal) {
        entries += p.batch.enters.size() + p.batch.leaves.size() + p.batch.updates.size();
        ++frames;
      }
    }
  }
  const std::string name = "zone_tick_" + std::to_string(n);
  std::ostringstream extra;
  extra << "players=" << n << " batch_entries_per_tick=" << entries / static_cast<std::size_t>(ticks)
        << " frames_per_tick=" << frames / static_cast<std::size_t>(ticks);
  const double per_player = total_us / static_cast<double>(ticks) / static_cast<double>(n);
  const double p50 = quay::bench::percentile(tick_ms, 0.50);
  const double p99 = quay::bench::percentile(tick_ms, 0.99);
  const std::string players = "players=" + std::to_string(n);
  quay::bench::print_bench(name + "_p50", "quay_game_core", p50, "ms", players);
  quay::bench::print_bench(name + "_p99", "quay_game_core", p99, "ms", extra.str());
  quay::bench::print_bench(name + "_cpu_p50", "quay_game_core",
                           quay::bench::percentile(cpu_ms, 0.50), "ms", players);
  quay::bench::print_bench(name + "_cpu_p99", "quay_game_core",
                           quay::bench::percentile(cpu_ms, 0.99), "ms", players);
  if (!encode_cpu_ms.empty()) {
    const std::string bytes = players + " encoded_bytes_per_tick=" +
                              std::to_string(encoded_bytes / static_cast<std::size_t>(ticks));
    quay::bench::print_bench(name + "_with_encode_cpu_p50", "quay_game_core+codec",
                             quay::bench::percentile(encode_cpu_ms, 0.50), "ms", bytes);
    quay::bench::print_bench(name + "_with_encode_cpu_p99", "quay_game_core+codec",
                             quay::bench::percentile(encode_cpu_ms, 0.99), "ms", bytes);
  }
  quay::bench::print_bench(name + "_cpu_per_player_tick", "quay_game_core", per_player, "us",
                           players);
}

// The anchor's step for one observer: one merge pass over its sorted visible sets of the last
// tick and this one. Every walker moves every tick (and the grid records every move as a change),
// so what is visible in both is exactly the update set.
void diff_visible(const std::vector<entity_id>& before, const std::vector<entity_id>& now,
                  aoi_batch& out) {
  out.enters.clear();
  out.leaves.clear();
  out.updates.clear();
  std::size_t a = 0;
  std::size_t b = 0;
  while (a < before.size() && b < now.size()) {
    if (before[a] < now[b]) {
      out.leaves.push_back(before[a++]);
    } else if (now[b] < before[a]) {
      out.enters.push_back(now[b++]);
    } else {
      out.updates.push_back(now[b]);
      ++a;
      ++b;
    }
  }
  out.leaves.insert(out.leaves.end(), before.begin() + static_cast<std::ptrdiff_t>(a), before.end());
  out.enters.insert(out.enters.end(), now.begin() + static_cast<std::ptrdiff_t>(b), now.end());
}

// `ids` sorted, without `self` (a shared batch's updates carry each observer's own move).
std::vector<entity_id> sorted_without(const std::vector<entity_id>& ids, entity_id self) {
  std::vector<entity_id> out;
  out.reserve(ids.size());
  for (const entity_id id : ids) {
    if (id != self) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Checks that the grid's batches give every observer exactly the events the anchor computed for
// it (observer ids are index + 1). Returns the first difference, or an empty string.
std::string first_difference(const aoi_events& ev, const std::vector<aoi_batch>& anchor) {
  std::vector<const aoi_batch*> of(anchor.size(), nullptr);
  auto assign = [&](entity_id o, const aoi_batch& b) -> std::string {
    if (o == 0 || o > of.size()) return "a batch names unknown observer " + std::to_string(o);
    if (of[o - 1] != nullptr) return "observer " + std::to_string(o) + " has two batches";
    of[o - 1] = &b;
    return {};
  };
  for (const auto& s : ev.shared) {
    for (const entity_id o : s.observers) {
      if (auto e = assign(o, s.batch); !e.empty()) return e;
    }
  }
  for (const auto& p : ev.personal) {
    if (auto e = assign(p.observer, p.batch); !e.empty()) return e;
  }
  const aoi_batch none;
  for (std::size_t i = 0; i < anchor.size(); ++i) {
    const entity_id self = static_cast<entity_id>(i + 1);
    const aoi_batch& g = of[i] != nullptr ? *of[i] : none;
    const aoi_batch& a = anchor[i];
    const char* what = nullptr;
    if (sorted_without(g.enters, no_entity) != a.enters) {
      what = "enters";
    } else if (sorted_without(g.leaves, no_entity) != a.leaves) {
      what = "leaves";
    } else if (sorted_without(g.updates, self) != a.updates) {
      what = "updates";
    }
    if (what != nullptr) {
      return std::string(what) + " of observer " + std::to_string(self) + " differ (grid " +
             std::to_string(g.enters.size()) + "/" + std::to_string(g.leaves.size()) + "/" +
             std::to_string(g.updates.size()) + ", anchor " + std::to_string(a.enters.size()) +
             "/" + std::to_string(a.leaves.size()) + "/" + std::to_string(a.updates.size()) +
             " enters/leaves/updates)";
    }
  }
  return {};
}

// The anchor: the same movement, AOI computed per observer by full recompute + diff. Both sides
// keep their events (the grid in its batches, the anchor in one batch per observer, capacity
// reused), and after every tick, outside the timed parts, the bench checks that they are the
// same events; it stops with an error if they are not.
void run_aoi(std::size_t n, int ticks) {
  aoi_config cfg;
  cfg.width = 2000;
  cfg.height = 2000;
  cfg.cell_size = 50;
  aoi_grid grid(cfg);
  rng random(11);
  std::vector<walker> walkers;
  for (std::size_t i = 0; i < n; ++i) {
    const vec2 p{random.uniform_float(1, 1999), random.uniform_float(1, 1999)};
    walkers.push_back({static_cast<entity_id>(i + 1), p, random.uniform_float(0, 6.28f)});
    grid.add(walkers.back().id, p, true);
  }
  aoi_events ev;
  grid.flush(ev);
  std::vector<std::vector<entity_id>> previous(n);
  for (std::size_t i = 0; i < n; ++i) {
    previous[i] = grid.visible_to(walkers[i].id);
  }
  std::vector<aoi_batch> anchor(n);
  double shared_us = 0;
  double naive_us = 0;
  std::size_t events = 0;
  for (int t = 0; t < ticks; ++t) {
    for (auto& w : walkers) {
      step(w, random, 0.1f);
      grid.move(w.id, w.pos);
    }
    // Naive: recompute every observer's set and diff it with the previous one.
    std::clock_t start = std::clock();
    for (std::size_t i = 0; i < n; ++i) {
      auto now_visible = grid.visible_to(walkers[i].id);
      diff_visible(previous[i], now_visible, anchor[i]);
      previous[i] = std::move(now_visible);
    }
    naive_us += cpu_us_since(start);
    start = std::clock();
    grid.flush(ev);
    shared_us += cpu_us_since(start);
    if (const std::string diff = first_difference(ev, anchor); !diff.empty()) {
      const std::string what = "aoi_step_" + std::to_string(n) + " tick " + std::to_string(t) +
                               ": the grid and the anchor disagree: " + diff;
      quay::bench::print_dnf("aoi_step_" + std::to_string(n), "quay_shared_cell_batches", "ms", 0,
                             "error=events_differ");
      std::fprintf(stderr, "bench_zone_tick: %s\n", what.c_str());
      std::exit(1);
    }
    for (const auto& a : anchor) events += a.enters.size() + a.leaves.size() + a.updates.size();
  }
  const std::string name = "aoi_step_" + std::to_string(n);
  // CPU time per tick for both (see cpu_us_since).
  const double naive = naive_us / ticks / 1000.0;
  const double shared = shared_us / ticks / 1000.0;
  const std::string checked = " events_per_tick=" +
                              std::to_string(events / static_cast<std::size_t>(ticks)) +
                              " events_checked=yes";
  quay::bench::print_bench(name, "naive_per_observer_diff", naive, "ms",
                           "players=" + std::to_string(n) + checked);
  quay::bench::print_bench(name, "quay_shared_cell_batches", shared, "ms",
                           "speedup_vs_naive=" + std::to_string(naive / shared) + checked);
}

}  // namespace

int main(int argc, char** argv) {
  quay::bench::args a(argc, argv);
  const int ticks = static_cast<int>(a.get_u64("ticks", 200));
  const int warmup = static_cast<int>(a.get_u64("warmup", 20));
  const double bound_s = a.get_double("bound_s", 120);
  const std::string sizes = a.get("sizes", "500,1000,2000,5000");
  if (!a.unknown().empty()) {
    std::fprintf(stderr, "unknown argument %s\n", a.unknown().front().c_str());
    return 2;
  }
  std::vector<std::size_t> ns;
  std::stringstream in(sizes);
  for (std::string item; std::getline(in, item, ',');) {
    ns.push_back(std::stoul(item));
  }
  std::string current;
  quay::bench::time_bound bound(bound_s, [&] {
    quay::bench::print_dnf(current, "quay_game_core", "ms", bound_s, "stage=" + current);
  });
  for (const std::size_t n : ns) {
    current = "zone_tick_" + std::to_string(n);
    run_world(n, ticks, warmup);
    current = "aoi_step_" + std::to_string(n);
    run_aoi(n, ticks / 4 + 1);
  }
  bound.disarm();
  return 0;
}
