#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "quay/actors/actor.hpp"
#include "quay/runtime/port.hpp"

namespace quay::detail {

/// Pending requests with a deadline, earliest first: deadline -> request id.
using deadline_index = std::multimap<port_time, std::uint64_t>;

/// A request this actor made and is waiting on.
struct pending_request {
  std::uint64_t id = 0;
  port_time deadline = port_time::max();  // max = no deadline
  deadline_index::iterator by_deadline{};   // its entry in `deadlines` (if it has a deadline)
  actor_ref origin_sender{};  // sender() to restore while the continuation runs
  // The request the asking handler was serving, unanswered when it asked (origin_id 0 = none):
  // reply() in the continuation answers it (see thread_state::serving_id).
  actor_ref origin_to{};
  std::uint64_t origin_id = 0;
  std::uint32_t origin_reply_type = 0;
  reply_fn k;
};

/// A timer this actor started (after/every).
struct active_timer {
  std::uint64_t id = 0;
  timer_id port_timer{};
  bool periodic = false;
};

/// Someone to tell when this actor stops.
enum class watch_kind : std::uint8_t { monitor, link, parent };
struct watcher {
  actor_ref who{};
  watch_kind kind = watch_kind::monitor;
};

/// A supervised child.
struct child_entry {
  actor_ref ref{};
  restart_policy policy = restart_policy::transient;
  std::string name;
  unique_function<actor_ref(actor_system&, actor_ref)> factory;
};

/// The parts of an actor that most actors never use, allocated on first use so an idle actor
/// stays small. Owner only.
struct actor_extras {
  std::uint64_t next_id = 1;  // request and timer ids
  // Pending requests by id, and those with a deadline also by deadline, so a reply costs a
  // hash look-up plus an erase by iterator, and a sweep touches only the expired requests:
  // neither depends on how many requests are pending. Ids are never reused.
  std::unordered_map<std::uint64_t, pending_request> requests;
  deadline_index deadlines;
  // One port timer per actor for all request deadlines, armed at the earliest one: a reply
  // then costs no timer operation at all. `sweep_id` tells the current timer from stale ones.
  timer_id sweep_timer{};
  port_time sweep_at = port_time::max();
  std::uint64_t sweep_id = 0;
  // Active timers by id: a timer message and cancel_timer cost one hash look-up.
  std::unordered_map<std::uint64_t, active_timer> timers;
  std::vector<watcher> watchers;
  std::vector<actor_ref> monitoring;  // actors this one monitors (to filter after demonitor)
  std::vector<child_entry> children;
  std::deque<port_time> restarts;
  std::uint32_t max_restarts = 3;
  millis restart_window{5000};
  task_promise_base* tasks = nullptr;  // suspended top-level handler tasks
  std::string exit_detail;
};

}  // namespace quay::detail
