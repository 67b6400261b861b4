// Envelope pool: per-thread free lists with a bounded cache, refilled from and spilled to a
// shared depot in batches, so steady-state messaging allocates nothing even when envelopes are
// allocated on one worker and freed on another (one lock per batch, not per message). Two
// classes, each with its own depot and caches: small envelopes (64 bytes) and large ones (128).
//
// Fresh envelopes are carved from 2 MiB page blocks (quay/runtime/pages.hpp), a batch at a time,
// never allocated one by one: a burst (a turn that sends a million messages) used to make one
// operator new per envelope, and the glibc arena growth and 4 KiB page faults behind them were
// a third of the sender's time. A block whose envelopes have all come back is kept as a small
// reserve for the next burst or returned to the OS (see depot), so a storm does not pin RSS at
// its peak.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>

#include "envelope_pool.hpp"
#include "quay/actors/detail/envelope.hpp"
#include "quay/runtime/pages.hpp"
#include "quay/runtime/thread_exit.hpp"

namespace quay::detail {
namespace {

constexpr std::size_t batch_size = 128;
constexpr std::size_t local_limit = 2 * batch_size;

// A free envelope, linked through its first word.
struct free_node {
  free_node* next;
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

// The first envelope-sized slot of every page block. Blocks are aligned to their size, so an
// envelope finds its block by masking its address. Guarded by the depot's mutex.
struct block_header {
  free_node* free = nullptr;       // this block's envelopes given back to the depot
  std::uint32_t free_count = 0;
  std::uint32_t carved = 0;        // envelopes handed out from the block's start, in order
  block_header* prev = nullptr;    // in the depot's partial list (free_count > 0)
  block_header* next = nullptr;    // partial list, or the idle list (singly linked)
  bool in_partial = false;
};
static_assert(sizeof(block_header) <= sizeof(envelope));

block_header* block_of(void* p) noexcept {
  return reinterpret_cast<block_header*>(reinterpret_cast<std::uintptr_t>(p) &
                                         ~(std::uintptr_t{page_block_bytes} - 1));
}

// The shared depot of one class: a slab allocator over page blocks. Envelopes given back are
// filed under their own block, so a block whose envelopes have all come back is idle: it is
// reset for reuse (up to envelope_pool_idle_reserve idle blocks) or returned to the OS. Refills
// take freed envelopes first (from partly used blocks, so the others can drain), then the block
// being carved, then an idle block, and map a new block last.
class depot {
 public:
  explicit depot(std::size_t envelope_bytes)
      : bytes_(envelope_bytes),
        capacity_((page_block_bytes / envelope_bytes - 1) / batch_size * batch_size) {}

  /// Fills `out` with up to a batch of freed envelopes, or else `fresh` with `batch_size`
  /// envelopes never used. Throws std::bad_alloc when a new page block cannot be had.
  void take(batch& out, fresh_range& fresh) {
    std::lock_guard<std::mutex> lock(mu_);
    while (partial_ != nullptr && out.count < batch_size) {
      block_header* b = partial_;
      while (b->free != nullptr && out.count < batch_size) {
        free_node* n = b->free;
        b->free = n->next;
        --b->free_count;
        n->next = out.head;
        out.head = n;
        ++out.count;
      }
      if (b->free_count == 0) {
        unlink_partial(b);
      }
    }
    if (out.count != 0) {
      return;
    }
    if (carving_ == nullptr || carving_->carved == capacity_) {
      carving_ = idle_ != nullptr ? pop_idle() : new_block();
    }
    fresh.next = first(carving_) + std::size_t{carving_->carved} * bytes_;
    fresh.end = fresh.next + batch_size * bytes_;
    carving_->carved += batch_size;
  }

  /// Takes back a batch of envelopes (any blocks); returns to the OS the blocks this leaves
  /// idle beyond the reserve (after unlocking).
  void give(batch b) noexcept {
    block_header* to_free = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (b.head != nullptr) {
        free_node* n = b.head;
        b.head = n->next;
        block_header* h = block_of(n);
        n->next = h->free;
        h->free = n;
        if (++h->free_count == h->carved) {
          if (block_header* gone = retire_idle(h)) {
            gone->next = to_free;
            to_free = gone;
          }
        } else if (!h->in_partial) {
          link_partial(h);
        }
      }
    }
    while (to_free != nullptr) {
      block_header* next = to_free->next;
      free_page_block(to_free);
      to_free = next;
    }
  }

  std::size_t envelope_bytes() const noexcept { return bytes_; }
  std::size_t blocks() const noexcept { return blocks_.load(std::memory_order_relaxed); }

 private:
  unsigned char* first(block_header* b) const noexcept {
    return reinterpret_cast<unsigned char*>(b) + bytes_;
  }

  block_header* new_block() {
    auto* b = ::new (allocate_page_block()) block_header;
    blocks_.fetch_add(1, std::memory_order_relaxed);
    return b;
  }

  block_header* pop_idle() noexcept {
    block_header* b = idle_;
    idle_ = b->next;
    b->next = nullptr;
    --idle_count_;
    return b;
  }

  // `h` has every envelope it handed out back: nothing of it is in use or in a thread's cache.
  // Resets it; keeps it (as the carving block, or idle) or returns it for unmapping.
  block_header* retire_idle(block_header* h) noexcept {
    if (h->in_partial) {
      unlink_partial(h);
    }
    h->free = nullptr;
    h->free_count = 0;
    h->carved = 0;
    if (h == carving_) {
      return nullptr;  // carved again from its start
    }
    if (idle_count_ < envelope_pool_idle_reserve) {
      h->next = idle_;
      idle_ = h;
      ++idle_count_;
      return nullptr;
    }
    blocks_.fetch_sub(1, std::memory_order_relaxed);
    return h;
  }

  void link_partial(block_header* h) noexcept {
    h->prev = nullptr;
    h->next = partial_;
    if (partial_ != nullptr) {
      partial_->prev = h;
    }
    partial_ = h;
    h->in_partial = true;
  }

  void unlink_partial(block_header* h) noexcept {
    if (h->prev != nullptr) {
      h->prev->next = h->next;
    } else {
      partial_ = h->next;
    }
    if (h->next != nullptr) {
      h->next->prev = h->prev;
    }
    h->prev = h->next = nullptr;
    h->in_partial = false;
  }

  const std::size_t bytes_;
  const std::uint32_t capacity_;  // envelopes per block, a multiple of batch_size
  std::mutex mu_;
  block_header* partial_ = nullptr;
  block_header* carving_ = nullptr;
  block_header* idle_ = nullptr;
  std::size_t idle_count_ = 0;
  std::atomic<std::size_t> blocks_{0};
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
      // Spill the oldest batch to the depot and keep the newest (warm in this core's cache).
      // Spilling the newest instead would leave the same oldest envelopes at the bottom of the
      // cache forever, pinning the block they came from.
      free_node* keep_tail = items.head;
      for (std::size_t i = 1; i < items.count - batch_size; ++i) {
        keep_tail = keep_tail->next;
      }
      batch spill;
      spill.head = keep_tail->next;
      spill.count = batch_size;
      keep_tail->next = nullptr;
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

std::size_t envelope_pool_blocks() noexcept {
  return small_depot().blocks() + large_depot().blocks();
}

std::uint32_t next_message_type_id() noexcept {
  static std::atomic<std::uint32_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace quay::detail
