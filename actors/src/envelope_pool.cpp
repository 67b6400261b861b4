// Envelope pool: per-thread free lists with a bounded cache, refilled from and spilled to a
// shared depot in batches, so steady-state messaging allocates nothing even when envelopes are
// allocated on one worker and freed on another (one lock per batch, not per message). Two
// classes, each with its own depot and caches: small envelopes (64 bytes) and large ones (128).
//
// Fresh envelopes are carved from 2 MiB page blocks (quay/runtime/pages.hpp), a batch at a time,
// never allocated one by one: a burst (a turn that sends a million messages) used to make one
// operator new per envelope, and the glibc arena growth and 4 KiB page faults behind them were
// a third of the sender's time. Envelope memory is kept for the process's life and reused: each
// class holds as many envelopes as were ever in flight at once.

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

// Envelopes of one class never handed out yet: [next, end) of a page block.
struct fresh_range {
  unsigned char* next = nullptr;
  unsigned char* end = nullptr;
};

// The shared depot of one class: full batches of freed envelopes, and the page block being
// carved. Batches are linked through their own first node, so giving one back never allocates.
class depot {
 public:
  explicit depot(std::size_t envelope_bytes) : bytes_(envelope_bytes) {}
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
      carve_ = static_cast<unsigned char*>(allocate_page_block());
      carve_end_ = carve_ + page_block_bytes / (batch_size * bytes_) * (batch_size * bytes_);
    }
    fresh.next = carve_;
    fresh.end = carve_ + batch_size * bytes_;
    carve_ = fresh.end;
  }
  void give(batch b) noexcept {
    b.head->count = b.count;
    std::lock_guard<std::mutex> lock(mu_);
    b.head->next_batch = batches_;
    batches_ = b.head;
  }
  std::size_t envelope_bytes() const noexcept { return bytes_; }

 private:
  const std::size_t bytes_;
  std::mutex mu_;
  free_node* batches_ = nullptr;
  unsigned char* carve_ = nullptr;
  unsigned char* carve_end_ = nullptr;
};

// Leaked on purpose: thread-local caches return their envelopes here during thread exit,
// which may come after static destruction has begun.
depot& small_depot() {
  static depot* d = new depot(sizeof(envelope));
  return *d;
}
depot& large_depot() {
  static depot* d = new depot(sizeof(large_envelope));
  return *d;
}

// One thread's cache of one class.
struct class_cache {
  batch items;
  fresh_range fresh;

  void* take(depot& from) {
    if (items.head == nullptr) {
      if (fresh.next == fresh.end) {
        from.take(items, fresh);
      }
      if (items.head == nullptr) {
        void* mem = fresh.next;
        fresh.next += from.envelope_bytes();
        return mem;
      }
    }
    free_node* n = items.head;
    items.head = n->next;
    --items.count;
    return n;
  }

  void give(void* mem, depot& to) noexcept {
    auto* n = static_cast<free_node*>(mem);
    n->next = items.head;
    items.head = n;
    if (++items.count >= local_limit) {
      // Spill one batch to the depot, keep the rest for this thread.
      batch spill;
      for (std::size_t i = 0; i < batch_size; ++i) {
        free_node* x = items.head;
        items.head = x->next;
        x->next = spill.head;
        spill.head = x;
      }
      spill.count = batch_size;
      items.count -= batch_size;
      to.give(spill);
    }
  }

  // Thread exit: everything goes back, fresh envelopes as free ones, so nothing carved is lost.
  void retire(depot& to) noexcept {
    for (unsigned char* p = fresh.next; p != fresh.end; p += to.envelope_bytes()) {
      auto* n = reinterpret_cast<free_node*>(p);
      n->next = items.head;
      items.head = n;
      ++items.count;
    }
    if (items.count != 0) {
      to.give(items);
    }
  }
};

struct local_cache {
  class_cache small;
  class_cache large;
};

// The cache is a heap object behind a plain thread_local pointer and goes back to the depot
// through at_thread_exit: a thread_local with a destructor is unsafe on mingw (see
// quay/runtime/thread_exit.hpp).
void retire_cache(void* p) {
  auto* c = static_cast<local_cache*>(p);
  c->small.retire(small_depot());
  c->large.retire(large_depot());
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
  // Default-init: the payload bytes stay unwritten.
  return ::new (cache().small.take(small_depot())) envelope;
}

large_envelope* allocate_large_envelope() {
  auto* e = ::new (cache().large.take(large_depot())) large_envelope;
  e->flags = flag_large;
  return e;
}

void free_envelope(envelope* e) noexcept {
  if (e->ops != nullptr) {
    e->ops->destroy(*e);
  }
  local_cache& c = cache();
  if (e->flags & flag_large) {
    auto* l = static_cast<large_envelope*>(e);
    l->~large_envelope();
    c.large.give(l, large_depot());
  } else {
    e->~envelope();
    c.small.give(e, small_depot());
  }
}

std::uint32_t next_message_type_id() noexcept {
  static std::atomic<std::uint32_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace quay::detail
