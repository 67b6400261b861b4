// The name registry and the drain notifications for non-actor components.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "system_impl.hpp"

namespace quay::detail {

namespace {

// Sends `name_bound{name, bound}` to each watcher; returns the watchers found dead.
std::vector<actor_ref> tell_watchers(system_impl& sys, std::string_view name, actor_ref bound,
                                     const std::vector<actor_ref>& watchers) {
  std::vector<actor_ref> dead;
  for (const actor_ref w : watchers) {
    envelope* e = make_envelope(name_bound{std::string(name), bound});
    e->control = true;  // a bound never loses it
    if (sys.deliver(w, e) == actor_errc::dead_target) {
      dead.push_back(w);
    }
  }
  return dead;
}

}  // namespace

bool system_impl::register_name(std::string_view name, actor_ref r) {
  std::vector<actor_ref> watchers;
  if (!bind_name(name, r, watchers)) {
    return false;
  }
  // Told outside the lock: a delivery can run a turn inline (a stopped port) and that turn may
  // use the registry. Watchers added after the bind saw it in watch_name.
  const std::vector<actor_ref> dead = tell_watchers(*this, name, r, watchers);
  if (!dead.empty()) {
    std::lock_guard<std::mutex> lock(registry_mu);
    if (auto it = name_watchers.find(std::string(name)); it != name_watchers.end()) {
      std::erase_if(it->second, [&](actor_ref w) {
        return std::find(dead.begin(), dead.end(), w) != dead.end();
      });
      if (it->second.empty()) {
        name_watchers.erase(it);
      }
    }
  }
  return true;
}

void system_impl::watch_name(std::string name, actor_ref who) {
  std::optional<actor_ref> bound;
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    auto& ws = name_watchers[name];
    if (std::find(ws.begin(), ws.end(), who) == ws.end()) {
      ws.push_back(who);
    }
    // Under the same lock as the bind: a bind before this is seen here, one after it sees
    // `who` in the list, so none is missed.
    if (auto it = names.find(name); it != names.end() && live_cell(it->second) != nullptr) {
      bound = it->second;
    }
  }
  if (bound) {
    tell_watchers(*this, name, *bound, {who});
  }
}

void system_impl::unwatch_name(std::string_view name, actor_ref who) {
  std::lock_guard<std::mutex> lock(registry_mu);
  if (auto it = name_watchers.find(std::string(name)); it != name_watchers.end()) {
    std::erase(it->second, who);
    if (it->second.empty()) {
      name_watchers.erase(it);
    }
  }
}

bool system_impl::bind_name(std::string_view name, actor_ref r,
                            std::vector<actor_ref>& watchers) {
  actor_cell* c = r.node == 0 ? cell_at(r.slot) : nullptr;
  if (c == nullptr || name.empty()) {
    return false;
  }
  std::lock_guard<std::mutex> lock(registry_mu);
  const std::string key(name);
  if (auto w = name_watchers.find(key); w != name_watchers.end()) {
    watchers = w->second;
  }
  // Flag first, then check liveness: terminate() clears liveness, then reads the flag, so one
  // of the two sees the other and a dead actor's name never stays registered.
  c->has_names.store(true, std::memory_order_seq_cst);
  if (c->live_generation.load(std::memory_order_seq_cst) != r.generation) {
    return false;
  }
  auto it = names.find(key);
  if (it != names.end()) {
    if (live_cell(it->second) != nullptr) {
      watchers.clear();  // already bound (to r or another): not a new binding
      return it->second == r;
    }
    it->second = r;
    return true;
  }
  names.emplace(key, r);
  return true;
}

bool system_impl::unregister_name(std::string_view name) {
  std::lock_guard<std::mutex> lock(registry_mu);
  return names.erase(std::string(name)) != 0;
}

std::optional<actor_ref> system_impl::whereis(std::string_view name) const {
  std::lock_guard<std::mutex> lock(registry_mu);
  auto it = names.find(std::string(name));
  if (it == names.end() || live_cell(it->second) == nullptr) {
    return std::nullopt;
  }
  return it->second;
}

void system_impl::unregister_all(actor_ref r) {
  std::lock_guard<std::mutex> lock(registry_mu);
  std::erase_if(names, [&](const auto& kv) { return kv.second == r; });
}

void system_impl::notify_when_drained(actor_ref r, std::uint64_t low_water, completion* done) {
  actor_cell* c = r.node == 0 ? cell_at(r.slot) : nullptr;
  std::error_code ec = make_error_code(actor_errc::dead_target);
  std::int64_t depth = 0;
  if (c != nullptr) {
    std::lock_guard<std::mutex> lock(drain_mu);
    // Flag first, then read the depth (the turn does the mirror image: depth, then flag), so
    // either this call sees the drained depth or the turn sees the registration.
    c->drain_watch.store(true, std::memory_order_seq_cst);
    if (c->live_generation.load(std::memory_order_seq_cst) == r.generation) {
      depth = c->box.pending();
      if (depth > static_cast<std::int64_t>(low_water)) {
        drain_entries[c->slot].push_back(drain_entry{r.generation, low_water, done});
        return;
      }
      ec = {};
    }
  }
  // Posted outside the lock: a stopped port may invoke the completion inline.
  done->set_result(ec, static_cast<std::size_t>(depth < 0 ? 0 : depth));
  port_ref.post(done);
}

bool system_impl::cancel_drain_notification(actor_ref r, completion* done) {
  std::lock_guard<std::mutex> lock(drain_mu);
  auto it = drain_entries.find(r.slot);
  if (it == drain_entries.end()) {
    return false;
  }
  const auto n = std::erase_if(it->second, [&](const drain_entry& d) { return d.c == done; });
  if (it->second.empty()) {
    drain_entries.erase(it);
  }
  return n != 0;
}

void system_impl::check_drain(actor_cell* c) {
  std::vector<completion*> ready;
  {
    std::lock_guard<std::mutex> lock(drain_mu);
    auto it = drain_entries.find(c->slot);
    if (it == drain_entries.end()) {
      c->drain_watch.store(false, std::memory_order_relaxed);
      return;
    }
    const std::int64_t depth = c->box.pending();
    const std::uint32_t gen = c->live_generation.load(std::memory_order_seq_cst);
    std::erase_if(it->second, [&](const drain_entry& d) {
      if (d.generation != gen) {
        d.c->set_result(make_error_code(actor_errc::dead_target), 0);
      } else if (depth <= static_cast<std::int64_t>(d.low_water)) {
        d.c->set_result({}, static_cast<std::size_t>(depth < 0 ? 0 : depth));
      } else {
        return false;
      }
      ready.push_back(d.c);
      return true;
    });
    if (it->second.empty()) {
      drain_entries.erase(it);
    }
  }
  for (completion* done : ready) {
    port_ref.post(done);
  }
}

void system_impl::fail_drain(actor_cell* c, std::error_code ec) {
  std::vector<drain_entry> entries;
  {
    std::lock_guard<std::mutex> lock(drain_mu);
    auto it = drain_entries.find(c->slot);
    if (it != drain_entries.end()) {
      entries = std::move(it->second);
      drain_entries.erase(it);
    }
    c->drain_watch.store(false, std::memory_order_relaxed);
  }
  // Posted outside the lock: on a stopped port the post runs the completion inline, and its code
  // (a session's on_drain) may register or cancel again.
  for (const drain_entry& d : entries) {
    d.c->set_result(ec, 0);
    port_ref.post(d.c);
  }
}

}  // namespace quay::detail
