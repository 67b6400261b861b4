// Envelope pool: per-thread free lists with a bounded cache, refilled from and spilled to a
// shared depot in batches, so steady-state messaging allocates nothing even when envelopes are
// allocated on one worker and freed on another (one lock per batch, not per message).
//
// Fresh envelopes are carved from 2 MiB page blocks (quay/runtime/pages.hpp), a batch at a time,
// never allocated one by one: a burst (a turn that sends a million messages) used to make one
// operator new per envelope, and the glibc arena growth and 4 KiB page faults behind them were
// a third of the sender's time. Envelope memory is kept for the process's life and reused: the
// pool holds as many envelopes as were ever in flight at once (128 bytes each).

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>

#include "quay/actors/message.hpp"
#include "quay/runtime/pages.hpp"
#include "quay/runtime/thread_exit.hpp"

namespace quay::detail {
namespace {

constexpr std::size_t batch_size = 128;
constexpr std::size_t local_limit = 2 * batch_size;
constexpr std::size_t envelopes_per_block = page_block_bytes / sizeof(envelope);
static_assert(envelopes_per_block % batch_size == 0);

// A free envelope. In the depot, the first node of each batch also links the batches.
struct free_node {
  free_node* next;
  free_node* next_batch;
  std::size_t count;
};
static_assert(sizeof(free_node) <= sizeof(envelope));

struct batch {
  free_node* head = nullptr;
  std::size_t count = 0;
};

// Envelopes never handed out yet: [next, end) of a page block.
struct fresh_range {
  envelope* next = nullptr;
  envelope* end = nullptr;
};

// The shared depot: full batches of freed envelopes, and the page block being carved. Batches
// are linked through their own first node, so giving one back never allocates.
class depot {
 public:
  /// Fills `out` with a batch of freed envelopes, or else `fresh` with `batch_size` envelopes
  /// never used. Throws std::bad_alloc when a new page block cannot be had.
  void take(batch& out, fresh_range& fresh) {
    std::lock_guard<std::mutex> lock(mu_);
    if (batches_ != nullptr) {
      free_node* first = batches_;
      batches_ = first->next_batch;
      out.head = first;
      out.count = first->count;
      return;
    }
    if (carve_ == carve_end_) {
      carve_ = static_cast<envelope*>(allocate_page_block());
      carve_end_ = carve_ + envelopes_per_block;
    }
    fresh.next = carve_;
    fresh.end = carve_ + batch_size;
    carve_ += batch_size;
  }
  void give(batch b) noexcept {
    b.head->count = b.count;
    std::lock_guard<std::mutex> lock(mu_);
    b.head->next_batch = batches_;
    batches_ = b.head;
  }

 private:
  std::mutex mu_;
  free_node* batches_ = nullptr;
  envelope* carve_ = nullptr;
  envelope* carve_end_ = nullptr;
};

// Leaked on purpose: thread-local caches return their envelopes here during thread exit,
// which may come after static destruction has begun.
depot& the_depot() {
  static depot* d = new depot();
  return *d;
}

struct local_cache {
  batch items;
  fresh_range fresh;
};

// The cache is a heap object behind a plain thread_local pointer and goes back to the depot
// through at_thread_exit: a thread_local with a destructor is unsafe on mingw (see
// quay/runtime/thread_exit.hpp).
void retire_cache(void* p) {
  auto* c = static_cast<local_cache*>(p);
  // Unused fresh envelopes join the free list first, so nothing carved is lost.
  for (envelope* e = c->fresh.next; e != c->fresh.end; ++e) {
    auto* n = reinterpret_cast<free_node*>(e);
    n->next = c->items.head;
    c->items.head = n;
    ++c->items.count;
  }
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
  void* mem = nullptr;
  if (c.items.head != nullptr) {
    free_node* n = c.items.head;
    c.items.head = n->next;
    --c.items.count;
    mem = n;
  } else {
    if (c.fresh.next == c.fresh.end) {
      the_depot().take(c.items, c.fresh);
      if (c.items.head != nullptr) {
        return allocate_envelope();
      }
    }
    mem = c.fresh.next++;
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
