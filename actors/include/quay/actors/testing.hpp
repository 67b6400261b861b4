#pragma once
/// A deterministic fixture for actor logic: actors on a manual_port, stepped one message at a
/// time, with time moved by hand. For tests of any module (header-only).

#include <cstddef>
#include <utility>
#include <vector>

#include "quay/actors/actor.hpp"
#include "quay/actors/system.hpp"
#include "quay/runtime/manual_port.hpp"

namespace quay::testing {

/// Options that make a system deterministic: one message per turn, no hand-offs (every
/// runnable actor goes through the port's FIFO), every message timed.
inline actor_system_options deterministic_options() {
  actor_system_options o;
  o.batch = 1;
  o.local_handoff = false;
  o.ready_batch = 1;
  o.metrics_sample_every = 1;
  return o;
}

/// An actor system on a manual_port. With the default options each step() handles exactly one
/// message (or runs one timer/drain completion), in the order they became ready.
///
/// Thread contract: single-threaded; use it from the test's thread only.
class actor_fixture {
 public:
  explicit actor_fixture(actor_system_options o = deterministic_options())
      : sys(port, o) {}
  /// Shuts the port down first (queued turns are aborted, timers cancelled), then the system.
  ~actor_fixture() { port.shutdown(); }
  actor_fixture(const actor_fixture&) = delete;
  actor_fixture& operator=(const actor_fixture&) = delete;

  /// Runs one ready completion; false if none was ready.
  bool step() { return port.run_one(); }
  /// Runs until nothing is ready (or `limit` completions ran); returns how many ran.
  std::size_t run(std::size_t limit = 1'000'000) { return port.run_all(limit); }
  /// Moves the clock by `d` in one jump (due timers become ready), then runs until idle.
  ///
  /// Periodic timers coalesce: if `d` spans several periods of a repeating timer
  /// (actor::every), it is not delivered once per period. It fires for its first deadline, is
  /// re-armed at the new time (a missed deadline is clamped to now, as the real port does
  /// after a stall: no burst of catch-up ticks), fires once more, and then runs one period
  /// after the jump. E.g. every(100ms) and advance(350ms): two deliveries, the next at 450 ms.
  /// To see every period, advance one period at a time (advance_by). Tested in
  /// timers.test.cpp.
  std::size_t advance(millis d) {
    port.advance(d);
    return run();
  }
  /// advance(step) `times` times: a repeating timer of period `step` fires once per step.
  std::size_t advance_by(millis step, std::size_t times) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < times; ++i) {
      n += advance(step);
    }
    return n;
  }
  /// Spawns an actor (its start turn is queued, not run).
  template <class T, class... A>
  actor_ref spawn(A&&... args) {
    return sys.spawn<T>(std::forward<A>(args)...);
  }
  /// Sends from outside any actor (queued, not run).
  template <class M>
  std::error_code send(actor_ref to, M&& m) {
    return sys.send(to, std::forward<M>(m));
  }

  manual_port port;
  actor_system sys;
};

/// An actor that appends every M it receives to a vector owned by the test.
template <class M>
class collector final : public actor {
 public:
  explicit collector(std::vector<M>* out) : out_(out) {}
  static void define(handlers<collector>& h) { h.template on<&collector::got>(); }

 private:
  void got(M& m) { out_->push_back(std::move(m)); }
  std::vector<M>* out_;
};

}  // namespace quay::testing
