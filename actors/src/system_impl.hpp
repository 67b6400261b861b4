#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actor_cell.hpp"
#include "actor_extras.hpp"
#include "quay/actors/system.hpp"

namespace quay::detail {

/// Per-thread state of the dispatcher.
struct thread_state {
  system_impl* sys = nullptr;        // system whose turn runs on this thread, if any
  // Cells the running turns made runnable, to run on this worker next, newest first (LIFO):
  // a tree of spawns unfolds depth-first, so its live set stays small. Entries below
  // run_base belong to an outer run_from_port on this thread (a nested one).
  static constexpr std::uint32_t run_stack_capacity = 32;
  std::uint32_t run_count = 0;
  std::uint32_t run_base = 0;
  actor_cell* run_stack[run_stack_capacity];
  actor_cell* ready_head = nullptr;  // cells made runnable by this turn, posted together
  actor_cell* ready_tail = nullptr;
  std::uint32_t ready_count = 0;
  actor* current = nullptr;          // actor whose handler runs now
  // The request `current` is serving and has not answered (serving_id 0 = none): reply() with
  // its reply type answers it. Set per message by actor_access::handle, restored from the
  // pending_request for the continuations a serving handler started.
  actor_ref serving_to{};
  std::uint64_t serving_id = 0;
  std::uint32_t serving_reply_type = 0;
  actor* constructing = nullptr;     // actor being constructed by spawn on this thread
  actor_cell* spawn_cell = nullptr;  // slot reserved by begin_spawn, read by actor::actor()
  std::uint32_t spawn_generation = 0;
  std::uint32_t sample_tick = 0;
  // Spawns nested in constructors. A fixed array, not a vector: thread_state is a
  // thread_local and must stay trivially destructible (see quay/runtime/thread_exit.hpp).
  static constexpr std::uint32_t max_spawn_nesting = 64;
  std::uint32_t constructing_depth = 0;
  actor* constructing_stack[max_spawn_nesting];
};
static_assert(std::is_trivially_destructible_v<thread_state>);
thread_state& tls() noexcept;

/// Monotonic nanoseconds for the metrics (not the port clock). Thread-safe.
std::int64_t metrics_now_ns() noexcept;

/// The actor system behind actor_system. Thread contract per member.
class system_impl {
 public:
  system_impl(actor_system& owner, port& p, const actor_system_options& o);
  ~system_impl();

  actor_system& owner;
  port& port_ref;
  actor_system_options opts;

  // ---- actor table (actor_table.cpp) --------------------------------------------------------
  static constexpr std::uint32_t segment_bits = 12;
  static constexpr std::uint32_t segment_size = 1u << segment_bits;
  static constexpr std::uint32_t max_segments = 4096;
  /// The cell of `slot`, or nullptr if that slot was never allocated. Thread-safe, lock-free.
  actor_cell* cell_at(std::uint32_t slot) const noexcept {
    const std::uint32_t s = slot >> segment_bits;
    if (s >= max_segments) {
      return nullptr;
    }
    actor_cell* seg = segments_[s].load(std::memory_order_acquire);
    return seg == nullptr ? nullptr : seg + (slot & (segment_size - 1));
  }
  /// The cell of a live actor `r`, or nullptr. Thread-safe.
  actor_cell* live_cell(actor_ref r) const noexcept {
    actor_cell* c = r.node == 0 ? cell_at(r.slot) : nullptr;
    return c != nullptr && r.generation != 0 &&
                   c->live_generation.load(std::memory_order_acquire) == r.generation
               ? c
               : nullptr;
  }
  /// Reserves a free slot. Thread-safe (one short lock).
  actor_cell* acquire_slot();
  /// Returns a slot whose actor has stopped. Thread-safe.
  void release_slot(actor_cell* c);
  std::atomic<std::size_t> live{0};

  // ---- delivery (delivery.cpp), dead letters (dead_letters.cpp), scheduling (scheduler.cpp) --
  /// Queues `e` for `to` (sets the sender from the running actor unless already set).
  /// Thread-safe.
  std::error_code deliver(actor_ref to, envelope* e);
  /// Sends a system message without payload. Thread-safe.
  void deliver_signal(actor_ref to, envelope_kind kind, std::int32_t code, std::uint64_t id = 0,
                      actor_ref sender = {});
  /// Sends an error reply for request `id` to `to`. Thread-safe.
  void deliver_error_reply(actor_ref to, std::uint64_t id, actor_errc code);
  /// Handles an envelope that cannot reach `target`. Thread-safe.
  void dead_letter(actor_ref target, envelope* e) noexcept;
  /// Makes `c` run: a hand-off on this worker, the ready chain of the running turn, or a post.
  /// Thread-safe.
  void schedule(actor_cell* c) noexcept;
  /// Posts the ready chain of this thread's turn (one post for the whole chain). Worker only.
  void flush_ready(thread_state& t) noexcept;
  /// Makes `c` runnable through the port: on the ready chain (ready_batch > 1) or posted.
  void schedule_remote(thread_state& t, actor_cell* c) noexcept;
  std::atomic<std::uint64_t> dead_letters{0};
  std::atomic<std::uint64_t> unhandled{0};
  std::atomic<std::int64_t> last_dead_letter_log_ns{0};
  std::atomic<bool> closing{false};

  // ---- turns (turn.cpp) ---------------------------------------------------------------------
  static void turn_entry(completion* self, std::error_code ec, std::size_t bytes);
  /// Runs `c` and then every cell chained behind it. Worker only.
  void run_chain(actor_cell* c);
  void run_from_port(actor_cell* c);
  void run_turn(actor_cell* c);
  void drain_aborted(actor_cell* c) noexcept;
  /// Answers (dropped) and frees the envelopes a drop_oldest bound evicted. Worker only.
  void answer_evicted(envelope* list) noexcept;
  void dispatch(actor_cell* c, envelope* e);
  /// Stops the actor of `c` now: notifications, cleanup, destruction, slot release.
  /// Worker only (inside its turn) or the system destructor.
  void terminate(actor_cell* c, actor* a) noexcept;

  // ---- registry (registry.cpp) --------------------------------------------------------------
  bool register_name(std::string_view name, actor_ref r);
  /// The locked part of register_name; fills `watchers` with those to tell of a new binding.
  bool bind_name(std::string_view name, actor_ref r, std::vector<actor_ref>& watchers);
  bool unregister_name(std::string_view name);
  std::optional<actor_ref> whereis(std::string_view name) const;
  void unregister_all(actor_ref r);
  /// Adds `who` to the watchers of `name` and tells it the current binding. Thread-safe.
  void watch_name(std::string name, actor_ref who);
  void unwatch_name(std::string_view name, actor_ref who);
  mutable std::mutex registry_mu;
  std::unordered_map<std::string, actor_ref> names;
  // Actors to tell when a name is bound; pruned when a notice finds the watcher dead.
  std::unordered_map<std::string, std::vector<actor_ref>> name_watchers;

  // ---- drain notifications (registry.cpp) ---------------------------------------------------
  struct drain_entry {
    std::uint32_t generation;
    std::uint64_t low_water;
    completion* c;
  };
  void notify_when_drained(actor_ref r, std::uint64_t low_water, completion* c);
  bool cancel_drain_notification(actor_ref r, completion* c);
  /// After a turn: fires the registrations of `c` that its depth now satisfies. Worker only.
  void check_drain(actor_cell* c);
  /// Fires every registration of `c` with `ec`: dead_target on death, errc::aborted when the
  /// port stops while the actor is still behind (it will never run again).
  void fail_drain(actor_cell* c, std::error_code ec);
  std::mutex drain_mu;
  std::unordered_map<std::uint32_t, std::vector<drain_entry>> drain_entries;

 private:
  std::array<std::atomic<actor_cell*>, max_segments> segments_{};
  std::mutex slot_mu_;
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t next_slot_ = 0;
};

/// Friend of actor: the dispatcher's view of actor internals.
struct actor_access {
  static void handle(actor& a, envelope& e);
  static void fail(actor& a, const char* what);
  static bool exiting(const actor& a) noexcept { return a.exiting_; }
  static actor_ref self_of(const actor& a) noexcept { return a.self(); }
  static system_impl& sys(actor& a) noexcept { return *a.sys_; }
  static std::uint32_t generation(const actor& a) noexcept { return a.generation_; }
  static std::uint32_t batch(const actor& a) noexcept { return a.batch_; }
  static void set_table(actor& a, const handler_table* t) noexcept { a.table_ = t; }
  static actor_extras* extras_if_any(actor& a) noexcept { return a.extras_; }
  static actor_extras& extras(actor& a) { return a.extras(); }
  static void add_watcher(actor& a, actor_ref who, watch_kind k);
  /// Runs the stop sequence except destruction (timers, tasks, requests, notifications).
  static void shut_down(actor& a, system_impl& sys) noexcept;
  static exit_reason reason(const actor& a) noexcept { return a.exit_reason_; }
  static void set_exit(actor& a, exit_reason r) noexcept {
    a.exiting_ = true;
    a.exit_reason_ = r;
  }
  static void on_child_exit(actor& a, const down& d);
  /// Times out every request past its deadline and re-arms the deadline timer. Owner only.
  static void sweep_requests(actor& a, std::uint64_t sweep);
};

}  // namespace quay::detail
