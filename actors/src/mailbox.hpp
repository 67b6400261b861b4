#pragma once

#include <atomic>
#include <cstdint>

#include "mailbox_queue.hpp"
#include "quay/actors/actor.hpp"

namespace quay::detail {

/// Envelope flag: counted in the ordinary-lane depth of a bounded mailbox.
inline constexpr std::uint16_t flag_counted = 1;

/// One actor's mailbox: the two lanes (control first, never bounded; ordinary, optionally
/// bounded), the bound and its policy, the ordinary lane's depth, the scheduled state and the
/// mailbox counters (dropped, rejected).
///
/// Scheduled state: `pending` counts envelopes pushed and not yet finished (both lanes). The push
/// that moves it from 0 makes the mailbox runnable (push returns now_runnable: exactly one caller
/// schedules the owner); the consumer's finish_turn subtracts what it took out. So the owner is
/// runnable at most once and only one consumer pops at a time.
///
/// Ordering: each lane is a mailbox_queue (per-producer FIFO, see mailbox_queue.hpp).
///
/// Thread contract: admit, push, pending, dropped, rejected from any thread; set_bound from the owning
/// actor (its handlers) only; pop, finish_turn, discard_all and reset from the consumer — the
/// turn that holds the cell — only. finish_turn is the consumer's hand-off: nothing of the
/// mailbox is written by that turn after it.
class mailbox {
 public:
  mailbox() = default;
  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  enum class push_outcome : std::uint8_t {
    queued,        ///< queued behind others: the owner is already runnable
    now_runnable,  ///< queued into an idle mailbox: the caller must schedule the owner
  };

  /// What pop took out: the next envelope (or nullptr), and the oldest ordinary envelopes a
  /// drop_oldest bound evicted first, linked through their `next` field, for the caller to
  /// answer and free.
  struct popped {
    envelope* next = nullptr;
    envelope* evicted = nullptr;
    std::int64_t evicted_count = 0;
  };

  /// Bounds the ordinary lane to `capacity` envelopes (0 = unbounded; at most 2^31 - 1, larger
  /// values are clamped). Owner only.
  void set_bound(std::uint32_t capacity, overflow_policy policy) noexcept;
  /// Counts `e` against the bound of its lane: false if a reject bound refuses it (then `e` is
  /// not counted and stays the caller's). Call before push. Thread-safe.
  bool admit(envelope* e) noexcept;
  /// Queues an admitted `e` on its lane (e->control). Thread-safe.
  push_outcome push(envelope* e) noexcept;
  /// Takes the next envelope: control lane first, then the ordinary lane, after evicting what a
  /// drop_oldest bound no longer has room for. May find nothing while a producer is mid-push
  /// (then pending stays above 0 and the owner is re-run). Consumer only.
  popped pop() noexcept;
  /// Ends a turn that took `done` envelopes out (handled, evicted or discarded); returns how
  /// many are still pending. Consumer only; the hand-off when it returns 0.
  std::int64_t finish_turn(std::int64_t done) noexcept;
  /// Frees every queued envelope without handling it; returns how many. Consumer only.
  std::int64_t discard_all() noexcept;
  /// Clears the bound and the counters for the cell's next actor. Consumer only.
  void reset() noexcept;

  /// Envelopes pushed and not yet finished. Thread-safe.
  std::int64_t pending(std::memory_order o = std::memory_order_seq_cst) const noexcept {
    return pending_.load(o);
  }
  /// Ordinary envelopes evicted by a drop_oldest bound. Thread-safe.
  std::uint32_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  /// Sends refused by a reject bound. Thread-safe.
  std::uint32_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }

 private:
  envelope* take_counted(mailbox_queue& q) noexcept;

  // The bound: capacity in the low 31 bits (0 = unbounded), drop_oldest in the top bit. One
  // word, so a producer never sees a capacity with another bound's policy, and the cell stays
  // at 176 bytes (tests/actors/footprint.test.cpp).
  static constexpr std::uint32_t drop_oldest_bit = 0x8000'0000u;
  static constexpr std::uint32_t capacity_mask = drop_oldest_bit - 1;

  std::atomic<std::int64_t> pending_{0};
  std::atomic<std::uint32_t> bound_{0};
  std::atomic<std::uint32_t> normal_depth_{0};  // counted envelopes (bounded mailboxes)
  mailbox_queue control_;
  mailbox_queue normal_;
  std::atomic<std::uint32_t> dropped_{0};       // written by the consumer only
  std::atomic<std::uint32_t> rejected_{0};
};

}  // namespace quay::detail
