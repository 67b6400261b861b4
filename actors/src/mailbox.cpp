// The mailbox: push (bound check, lane, scheduled state), pop (lanes, eviction), turn end.

#include "mailbox.hpp"

namespace quay::detail {

void mailbox::set_bound(std::uint32_t capacity, overflow_policy policy) noexcept {
  const std::uint32_t cap = capacity > capacity_mask ? capacity_mask : capacity;
  bound_.store(cap | (policy == overflow_policy::drop_oldest ? drop_oldest_bit : 0u),
               std::memory_order_relaxed);
}

bool mailbox::admit(envelope* e) noexcept {
  if (!e->control) {
    const std::uint32_t bound = bound_.load(std::memory_order_relaxed);
    const std::uint32_t cap = bound & capacity_mask;
    if (cap != 0) {
      // Counted before the push, so concurrent producers cannot all squeeze past the bound.
      const std::uint32_t d = normal_depth_.fetch_add(1, std::memory_order_acq_rel);
      e->flags |= flag_counted;
      if (d >= cap && (bound & drop_oldest_bit) == 0) {
        normal_depth_.fetch_sub(1, std::memory_order_acq_rel);
        e->flags &= static_cast<std::uint16_t>(~flag_counted);
        rejected_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    }
  }
  return true;
}

mailbox::push_outcome mailbox::push(envelope* e) noexcept {
  (e->control ? control_ : normal_).push(e);
  // seq_cst: pairs with the drain registration (flag store, then a read of pending).
  return pending_.fetch_add(1, std::memory_order_seq_cst) == 0 ? push_outcome::now_runnable
                                                               : push_outcome::queued;
}

envelope* mailbox::take_counted(mailbox_queue& q) noexcept {
  auto* e = static_cast<envelope*>(q.pop());
  if (e != nullptr && (e->flags & flag_counted)) {
    normal_depth_.fetch_sub(1, std::memory_order_acq_rel);
  }
  return e;
}

mailbox::popped mailbox::pop() noexcept {
  popped out;
  if (mpsc_node* n = control_.pop()) {
    out.next = static_cast<envelope*>(n);
    return out;
  }
  const std::uint32_t bound = bound_.load(std::memory_order_relaxed);
  const std::uint32_t cap = bound & capacity_mask;
  if (cap != 0 && (bound & drop_oldest_bit) != 0) {
    envelope* tail = nullptr;
    while (normal_depth_.load(std::memory_order_acquire) > cap) {
      envelope* old = take_counted(normal_);
      if (old == nullptr) {
        break;
      }
      // Out of the queue: its link is free to chain the evicted list.
      old->next.store(nullptr, std::memory_order_relaxed);
      if (tail == nullptr) {
        out.evicted = old;
      } else {
        tail->next.store(old, std::memory_order_relaxed);
      }
      tail = old;
      ++out.evicted_count;
    }
    if (out.evicted_count != 0) {
      dropped_.store(dropped_.load(std::memory_order_relaxed) +
                         static_cast<std::uint32_t>(out.evicted_count),
                     std::memory_order_relaxed);
    }
  }
  out.next = take_counted(normal_);
  return out;
}

std::int64_t mailbox::finish_turn(std::int64_t done) noexcept {
  // seq_cst: the turn reads the drain flag after this (Dekker with notify_when_drained).
  return pending_.fetch_sub(done, std::memory_order_seq_cst) - done;
}

std::int64_t mailbox::discard_all() noexcept {
  std::int64_t done = 0;
  for (;;) {
    envelope* e = static_cast<envelope*>(control_.pop());
    if (e == nullptr) {
      e = take_counted(normal_);
    }
    if (e == nullptr) {
      return done;
    }
    free_envelope(e);
    ++done;
  }
}

void mailbox::reset() noexcept {
  bound_.store(0, std::memory_order_relaxed);
  dropped_.store(0, std::memory_order_relaxed);
  rejected_.store(0, std::memory_order_relaxed);
}

}  // namespace quay::detail
