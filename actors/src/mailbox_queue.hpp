#pragma once

#include <atomic>

#include "quay/actors/detail/envelope.hpp"

namespace quay::detail {

/// An intrusive multi-producer single-consumer FIFO (Vyukov's linked queue).
///
/// Guarantees: push is wait-free (one exchange, one store) and linearizes all producers at the
/// exchange, so the pops follow one total order consistent with each producer's program order:
/// messages pushed by one thread — or by one actor whose turns move between threads, since its
/// turns are ordered by happens-before — are popped in the order pushed.
/// Not guaranteed: pop may return nullptr while a producer is between its exchange and its link
/// store (the queue is then momentarily "not empty but not ready"); the caller retries later.
///
/// Thread contract: push from any thread; pop and empty_hint from the single consumer only.
class mailbox_queue {
 public:
  mailbox_queue() noexcept : head_(&stub_), tail_(&stub_) {}
  mailbox_queue(const mailbox_queue&) = delete;
  mailbox_queue& operator=(const mailbox_queue&) = delete;

  /// Appends `n`. Thread-safe, wait-free.
  void push(mpsc_node* n) noexcept {
    n->next.store(nullptr, std::memory_order_relaxed);
    mpsc_node* prev = tail_.exchange(n, std::memory_order_acq_rel);
    // Between the exchange and this store the chain is broken at `prev`; pop reports empty.
    prev->next.store(n, std::memory_order_release);
  }

  /// Removes the oldest node, or returns nullptr (empty, or a producer is mid-push).
  /// Consumer only.
  mpsc_node* pop() noexcept {
    mpsc_node* head = head_;
    mpsc_node* next = head->next.load(std::memory_order_acquire);
    if (head == &stub_) {
      if (next == nullptr) {
        return nullptr;
      }
      head_ = next;
      head = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    if (head != tail_.load(std::memory_order_acquire)) {
      return nullptr;  // a producer swapped the tail but has not linked yet
    }
    // `head` is the last node: put the stub behind it so `head` can be handed out.
    push(&stub_);
    next = head->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      head_ = next;
      return head;
    }
    return nullptr;
  }

 private:
  mpsc_node* head_;                // consumer side
  std::atomic<mpsc_node*> tail_;   // producer side
  mpsc_node stub_;
};

}  // namespace quay::detail
