// The sweep: idle timeouts, heartbeats and close deadlines, driven by one 50 ms timer per
// network over a wheel of per-session deadlines (see sweep_wheel in network_impl.hpp).
#include <algorithm>

#include "network_impl.hpp"

namespace quay::net::detail {

std::uint64_t sweep_wheel::add(entry e) {
  std::lock_guard lk(mu_);
  e.tick = std::max(e.tick, next_tick_);
  buckets_[e.tick % bucket_count].push_back(e);
  ++size_;
  return e.tick;
}

void sweep_wheel::take_due(std::uint64_t now_tick, std::vector<entry>& out) {
  std::lock_guard lk(mu_);
  // The first sweep looks at a whole revolution: entries may have been filed before it.
  if (next_tick_ == 0) next_tick_ = now_tick >= bucket_count ? now_tick - bucket_count + 1 : 1;
  if (now_tick < next_tick_) return;
  // Every bucket at most once, even after a long stall (a revolution or more behind).
  const std::uint64_t last = std::min(now_tick, next_tick_ + bucket_count - 1);
  for (std::uint64_t t = next_tick_; t <= last; ++t) {
    auto& b = buckets_[t % bucket_count];
    // Entries a revolution or more ahead stay; the rest are due.
    auto keep = std::partition(b.begin(), b.end(), [&](const entry& e) { return e.tick > now_tick; });
    out.insert(out.end(), keep, b.end());
    size_ -= static_cast<std::size_t>(b.end() - keep);
    b.erase(keep, b.end());
  }
  next_tick_ = now_tick + 1;
}

std::size_t sweep_wheel::size() const {
  std::lock_guard lk(mu_);
  return size_;
}

void network_impl::sweep() {
  const port_time now = port.now();
  // Sweeps never overlap (the timer is re-armed only after its callback returns), so the
  // buffer is reused without a lock. The wheel's mutex is released before any session's is
  // taken.
  sweep_due_.clear();
  wheel.take_due(sweep_tick_floor(now), sweep_due_);
  for (const sweep_wheel::entry& e : sweep_due_) {
    session* s = lookup(e.slot);
    if (s == nullptr) continue;
    session_lock lk(*s);
    // A stale entry: the slot was reused, or the session was filed again at another tick.
    if (s->state == session_state::free || s->generation != e.generation ||
        s->sweep_tick != e.tick) {
      lk.unlock();
      continue;
    }
    s->sweep_tick = 0;
    sweep_locked(*s, now);
    schedule_sweep_locked(*s, now);
    finish(*s, lk);
  }
}

}  // namespace quay::net::detail
