#pragma once

#include <atomic>
#include <cstdint>

#include "mailbox.hpp"
#include "quay/actors/actor.hpp"
#include "quay/runtime/completion.hpp"

namespace quay::detail {

class system_impl;

/// One slot of the actor table: the mailbox, the scheduling state and the counters of whichever
/// actor holds the slot. Cells are type-stable: they live as long as the system and are reused by
/// later actors (with a new generation), so a sender holding a stale handle always reads valid
/// memory; envelopes carry the target generation and the consumer drops mismatches as dead
/// letters.
///
/// Scheduling state: the mailbox's `pending` (see mailbox.hpp). The push that moves it from 0
/// makes the cell runnable (exactly one post or hand-off); the turn subtracts what it handled and
/// re-posts itself if anything is left. So a cell is queued at most once and only the turn
/// holding it pops: an actor never runs on two workers at once.
struct actor_cell final : completion {
  actor_cell() noexcept;

  system_impl* sys = nullptr;
  std::uint32_t slot = 0;
  std::uint32_t next_generation = 1;              // spawn / death only (ordered by the slot list)
  std::atomic<std::uint32_t> live_generation{0};  // generation of the live actor, 0 = none
  std::atomic<bool> drain_watch{false};
  std::atomic<bool> has_names{false};
  // Overload-warning doubling (threshold << warn_shift). Consumer only: read and written by the
  // turn that holds the cell, before its hand-off (see run_turn), and by terminate() inside a
  // turn or the system destructor. A plain field: the hand-off orders one turn before the next.
  std::uint8_t warn_shift = 0;
  std::atomic<actor*> current{nullptr};
  // Next cell of a ready chain (see system_impl::schedule): written by the worker that made this
  // cell runnable, read by the worker the port gives the chain to (ordered by the post). A cell
  // is in at most one chain at a time because it is runnable at most once.
  actor_cell* chain_next = nullptr;
  mailbox box;
  // Counters: written by the consumer only (relaxed), read by anyone.
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> sampled{0};
  std::atomic<std::uint64_t> wait_ns{0};
  std::atomic<std::uint64_t> handler_ns{0};

  /// Adds `d` to a consumer-owned counter without a read-modify-write instruction.
  template <class T, class U>
  static void bump(std::atomic<T>& c, U d) noexcept {
    c.store(c.load(std::memory_order_relaxed) + static_cast<T>(d), std::memory_order_relaxed);
  }
};

}  // namespace quay::detail
