// Envelope pool: per-thread free lists with a bounded cache, refilled from and spilled to a
// shared depot in batches, so steady-state messaging allocates nothing even when envelopes are
// allocated on one worker and freed on another (one lock per batch, not per message).

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "quay/actors/message.hpp"
#include "quay/runtime/thread_exit.hpp"

namespace quay::detail {
namespace {

constexpr std::size_t batch_size = 128;
constexpr std::size_t local_limit = 2 * batch_size;
constexpr std::size_t depot_limit = 512;  // batches kept in the depot (64k envelopes)

struct free_node {
  free_node* next;
};

struct batch {
  free_node* head = nullptr;
  std::size_t count = 0;
};

class depot {
 public:
  // Reserved up front: growing the vector in a burst would be a heap allocation on the
  // message path.
  depot() { batches_.reserve(depot_limit); }
  bool take(batch& out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (batches_.empty()) {
      return false;
    }
    out = batches_.back();
    batches_.pop_back();
    return true;
  }
  void give(batch b) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (batches_.size() < depot_limit) {
        batches_.push_back(b);
        return;
      }
    }
    release(b);
  }
  static void release(batch b) noexcept {
    while (b.head != nullptr) {
      free_node* n = b.head;
      b.head = n->next;
      ::operator delete(static_cast<void*>(n), std::align_val_t{alignof(envelope)});
    }
  }

 private:
  std::mutex mu_;
  std::vector<batch> batches_;
};

// Leaked on purpose: thread-local caches return their envelopes here during thread exit,
// which may come after static destruction has begun.
depot& the_depot() {
  static depot* d = new depot();
  return *d;
}

struct local_cache {
  batch items;
};

// The cache is a heap object behind a plain thread_local pointer and goes back to the depot
// through at_thread_exit: a thread_local with a destructor is unsafe on mingw (see
// quay/runtime/thread_exit.hpp).
void retire_cache(void* p) {
  auto* c = static_cast<local_cache*>(p);
  if (c->items.count != 0) {
    the_depot().give(c->items);
  }
  delete c;
}

local_cache& cache() {
  thread_local local_cache* c = nullptr;
  if (c == nullptr) [[unlikely]] {
    auto fresh = std::make_unique<local_cache>();
    at_thread_exit(&retire_cache, fresh.get());
    c = fresh.release();
  }
  return *c;
}

}  // namespace

envelope* allocate_envelope() {
  local_cache& c = cache();
  if (c.items.head == nullptr) {
    the_depot().take(c.items);
  }
  void* mem = nullptr;
  if (c.items.head != nullptr) {
    free_node* n = c.items.head;
    c.items.head = n->next;
    --c.items.count;
    mem = n;
  } else {
    mem = ::operator new(sizeof(envelope), std::align_val_t{alignof(envelope)});
  }
  return ::new (mem) envelope;  // default-init: the payload bytes stay unwritten
}

void free_envelope(envelope* e) noexcept {
  if (e->ops != nullptr) {
    e->ops->destroy(e->storage);
  }
  e->~envelope();
  local_cache& c = cache();
  auto* n = reinterpret_cast<free_node*>(e);
  n->next = c.items.head;
  c.items.head = n;
  if (++c.items.count >= local_limit) {
    // Spill one batch to the depot, keep the rest for this thread.
    batch spill;
    for (std::size_t i = 0; i < batch_size; ++i) {
      free_node* x = c.items.head;
      c.items.head = x->next;
      x->next = spill.head;
      spill.head = x;
    }
    spill.count = batch_size;
    c.items.count -= batch_size;
    the_depot().give(spill);
  }
}

std::uint32_t next_message_type_id() noexcept {
  static std::atomic<std::uint32_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace quay::detail
