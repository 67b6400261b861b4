// One-for-one supervision with a restart-intensity limit and escalation.

#include <algorithm>

#include "actors_log.hpp"
#include "system_impl.hpp"

namespace quay {

actor_ref actor::spawn_child(child_factory factory, bool /*supervised*/, restart_policy policy,
                             std::string name) {
  actor_ref child = factory(system(), self());
  if (!name.empty()) {
    system().register_name(name, child);
  }
  extras().children.push_back(
      detail::child_entry{child, policy, std::move(name), std::move(factory)});
  return child;
}

void actor::set_restart_intensity(std::uint32_t max_restarts, millis window) {
  assert_owner();
  detail::actor_extras& x = extras();
  x.max_restarts = max_restarts;
  x.restart_window = window;
}

namespace detail {

void actor_access::on_child_exit(actor& a, const down& d) {
  if (a.extras_ == nullptr) {
    return;
  }
  actor_extras& x = *a.extras_;
  auto it = std::find_if(x.children.begin(), x.children.end(),
                         [&](const child_entry& c) { return c.ref == d.who; });
  if (it == x.children.end()) {
    return;  // not (or no longer) ours
  }
  const bool restart =
      it->policy == restart_policy::permanent ||
      (it->policy == restart_policy::transient && d.reason != exit_reason::normal);
  if (!restart || a.exiting_) {
    x.children.erase(it);
    return;
  }
  // Restart intensity: more than max_restarts within the window escalates.
  const port_time now = a.sys_->port_ref.now();
  while (!x.restarts.empty() && now - x.restarts.front() > x.restart_window) {
    x.restarts.pop_front();
  }
  if (x.restarts.size() >= x.max_restarts) {
    x.children.erase(it);
    actors_log().warn("supervisor {}:{}: restart intensity exceeded ({} in {} ms)",
                       a.cell_->slot, a.generation_, x.max_restarts,
                       x.restart_window.count());
    fail(a, "restart intensity exceeded");
    return;
  }
  x.restarts.push_back(now);
  const actor_ref old = it->ref;
  const actor_ref fresh = it->factory(a.system(), a.self());
  it->ref = fresh;
  if (!it->name.empty()) {
    a.system().unregister_name(it->name);
    a.system().register_name(it->name, fresh);
  }
  actors_log().info("supervisor {}:{} restarted child {}:{} as {}:{} ({})", a.cell_->slot,
                     a.generation_, old.slot, old.generation, fresh.slot, fresh.generation,
                     to_string(d.reason));
  if (handler_fn fn = a.table_->find(message_type_id<child_restarted>())) {
    envelope* e = make_envelope(child_restarted{old, fresh, d.reason, d.detail});
    struct freer {
      envelope* e;
      ~freer() { free_envelope(e); }
    } guard{e};
    fn(a, *e);
  }
}

}  // namespace detail
}  // namespace quay
