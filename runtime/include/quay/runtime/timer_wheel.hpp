#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace quay {

/// A hierarchical timing wheel: a pure data structure with millisecond ticks. It reads no clock,
/// starts no thread and takes no lock; its owner passes the time in.
///
/// Layout: 11 levels of 64 slots (6 bits of the 64-bit time each), every level with a 64-bit
/// occupancy bitmap. A timer sits at the level of the highest bit in which its deadline differs
/// from the wheel's time, so every occupied slot lies strictly after the current position and
/// lower levels always hold earlier deadlines than higher ones. advance() jumps from occupied
/// slot to occupied slot (bitmap scan), never tick by tick: advancing a day with nothing due
/// costs a few bit operations. A timer moves down (cascades) at most once per level.
///
/// Guarantees: advance(now) returns exactly the timers with deadline <= now, in deadline order,
/// ties in insertion order; never early, never late relative to the `now` passed in. Deadlines
/// at or before the wheel's time are accepted and returned by the next advance(). Insert and
/// cancel are O(1) (handle-indexed slab with intrusive doubly-linked slot lists).
///
/// Thread contract: none of its own; one thread at a time (timer_service wraps it in a mutex).
class timer_wheel {
 public:
  /// Identifies an inserted timer; stale after it expires or is cancelled. 0 is never valid.
  struct handle {
    std::uint64_t value = 0;
    explicit operator bool() const noexcept { return value != 0; }
    friend bool operator==(handle, handle) = default;
  };

  /// One expired timer, as advance() reports it.
  struct expired {
    handle id;
    std::uint64_t deadline;
    std::uint64_t payload;
  };

  /// A wheel whose time starts at `now` (milliseconds on the owner's clock).
  explicit timer_wheel(std::uint64_t now = 0);

  /// Inserts a timer due at `deadline` carrying `payload` (the owner's key). O(1).
  handle insert(std::uint64_t deadline, std::uint64_t payload);
  /// Removes a pending timer. Returns false if the handle is stale (expired, cancelled, never
  /// issued). O(1).
  bool cancel(handle h) noexcept;
  /// Moves the wheel's time to `now` and appends every timer with deadline <= now to `out`, in
  /// deadline order (ties: insertion order). A `now` earlier than the wheel's time only collects
  /// overdue timers. Returns how many were appended.
  std::size_t advance(std::uint64_t now, std::vector<expired>& out);
  /// The earliest pending deadline, or nullopt when empty. Exact. Usually O(levels); after the
  /// earliest timer of a not-yet-cascaded slot was cancelled, one scan of that slot.
  std::optional<std::uint64_t> next_deadline() const;

  /// The wheel's time: the last `now` given to advance() (or to the constructor).
  std::uint64_t now() const noexcept { return now_; }
  /// Timers pending.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  /// The payload of a pending timer, or nullopt if the handle is stale.
  std::optional<std::uint64_t> payload(handle h) const noexcept;

  static constexpr unsigned bits_per_level = 6;
  static constexpr unsigned slots_per_level = 1u << bits_per_level;
  static constexpr unsigned levels = (64 + bits_per_level - 1) / bits_per_level;  // 11

 private:
  static constexpr std::uint32_t nil = 0xffff'ffffu;
  // Slot lists 0 .. levels*64-1 are the wheel; `overdue_list` holds deadlines <= now_.
  static constexpr std::uint32_t overdue_list = levels * slots_per_level;
  static constexpr std::uint32_t list_count = overdue_list + 1;

  struct node {
    std::uint64_t deadline = 0;
    std::uint64_t payload = 0;
    std::uint32_t prev = nil;
    std::uint32_t next = nil;
    std::uint32_t generation = 1;  // odd/even does not matter; never 0 in a live handle
    std::uint32_t list = nil;      // which slot list holds it; nil when free
  };
  struct slot_list {
    std::uint32_t head = nil;
    std::uint32_t tail = nil;
    // Lower bound of the deadlines in the list (exact unless `min_dirty`). Unused at level 0,
    // where one slot is one millisecond.
    std::uint64_t min_deadline = 0;
    bool min_dirty = false;
  };

  std::uint32_t allocate_node();
  void free_node(std::uint32_t index) noexcept;
  void place(std::uint32_t index);  // puts a node into the list its deadline selects
  void push_back(std::uint32_t list, std::uint32_t index);
  void unlink(std::uint32_t index) noexcept;
  // Start time of slot `slot` of `level`, relative to now_.
  std::uint64_t slot_start(unsigned level, unsigned slot) const noexcept;
  std::uint64_t list_min(std::uint32_t list) const;
  void emit_overdue(std::vector<expired>& out);
  void emit(std::uint32_t index, std::vector<expired>& out);

  std::uint64_t now_;
  std::size_t size_ = 0;
  std::vector<node> nodes_;
  std::uint32_t free_head_ = nil;
  std::array<std::uint64_t, levels> occupied_{};
  // mutable: next_deadline() refreshes a dirty minimum, which is a cache, not state.
  mutable std::array<slot_list, list_count> lists_{};
};

}  // namespace quay
