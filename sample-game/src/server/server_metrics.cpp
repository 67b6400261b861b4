// The zone server's live figures (see server_metrics.hpp).
#include "server_metrics.hpp"

#include <algorithm>
#include <chrono>

#include "quay/actors/system.hpp"

namespace quay::game::server {

live_histogram::live_histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void live_histogram::observe(double v) noexcept {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

live_histogram::snapshot live_histogram::read() const {
  snapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size());
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  }
  s.overflow = counts_[bounds_.size()].load(std::memory_order_relaxed);
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::uint64_t live_histogram::snapshot::count() const noexcept {
  std::uint64_t n = overflow;
  for (const auto c : counts) n += c;
  return n;
}

double live_histogram::snapshot::quantile_bound(double q) const noexcept {
  const std::uint64_t n = count();
  if (n == 0 || bounds.empty()) return 0;
  const auto want = static_cast<std::uint64_t>(std::max(1.0, q * static_cast<double>(n)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= want) return bounds[i];
  }
  return bounds.back();
}

std::vector<double> tick_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};
}

std::vector<double> latency_bounds() {
  return {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0};
}

server_metrics::server_metrics() = default;

zone_metrics& server_metrics::add_zone(std::uint32_t id, std::string name) {
  zones_.push_back(std::make_unique<zone_metrics>(id, std::move(name)));
  return *zones_.back();
}

zone_metrics* server_metrics::zone(std::uint32_t id) const noexcept {
  for (const auto& z : zones_) {
    if (z->id == id) return z.get();
  }
  return nullptr;
}

void server_metrics::session_closed(std::string_view reason) {
  const std::lock_guard lock(mu_);
  ++closes_[std::string(reason)];
}

void server_metrics::track(std::string_view type, actor_ref r) {
  const std::lock_guard lock(mu_);
  tracked_[std::string(type)].push_back(r);
}

void server_metrics::collect(const actor_system& actors, metrics_scrape& out) {
  for (const auto& z : zones_) {
    metrics_scrape::zone v;
    v.id = z->id;
    v.name = z->name;
    v.players = z->players.load(std::memory_order_relaxed);
    v.npcs = z->npcs.load(std::memory_order_relaxed);
    v.ticks = z->ticks.load(std::memory_order_relaxed);
    v.messages_in = z->messages_in.load(std::memory_order_relaxed);
    v.frames_out = z->frames_out.load(std::memory_order_relaxed);
    v.map_subscribers = z->map_subscribers.load(std::memory_order_relaxed);
    v.tick = z->tick_seconds.read();
    v.tick_cpu = z->tick_cpu_seconds.read();
    out.zones.push_back(std::move(v));
  }
  out.run_queue_delay = run_queue_delay.read();
  out.persistence_write = persistence_write.read();
  out.dead_letters = actors.dead_letters();
  const std::lock_guard lock(mu_);
  out.close_reasons.assign(closes_.begin(), closes_.end());
  std::sort(out.close_reasons.begin(), out.close_reasons.end());
  for (auto& [type, refs] : tracked_) {
    metrics_scrape::actor_type t;
    t.type = type;
    std::uint64_t sampled = 0;
    std::chrono::nanoseconds wait{0};
    // The counters are read lock-free from the actor table; a dead actor's ref is dropped.
    std::erase_if(refs, [&](actor_ref r) {
      const auto c = actors.counters(r);
      if (!c) return true;
      ++t.actors;
      t.depth += c->depth;
      t.depth_max = std::max(t.depth_max, c->depth);
      t.handled += c->handled;
      sampled += c->sampled;
      wait += c->mailbox_wait;
      return false;
    });
    t.mean_wait_s = sampled == 0 ? 0 : std::chrono::duration<double>(wait).count() /
                                           static_cast<double>(sampled);
    out.actor_types.push_back(std::move(t));
  }
  std::sort(out.actor_types.begin(), out.actor_types.end(),
            [](const auto& a, const auto& b) { return a.type < b.type; });
}

}  // namespace quay::game::server
