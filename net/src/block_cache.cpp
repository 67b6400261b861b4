#include "block_cache.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

#include "quay/runtime/thread_exit.hpp"

namespace quay::net::detail {

namespace {

std::uint32_t& capacity_field(shared_bytes* b) noexcept {
  return *reinterpret_cast<std::uint32_t*>(reinterpret_cast<std::byte*>(b) + sizeof(shared_bytes));
}

void free_block(shared_bytes* b) noexcept {
  b->~shared_bytes();
  ::operator delete(b);
}

// One thread's blocks, most recently released last (taken first: it is the warmest).
struct cache {
  shared_bytes* blocks[max_cached_blocks] = {};
  std::size_t count = 0;
  std::size_t bytes = 0;
  bool retired = false;     // its thread is exiting: releases free their blocks directly
  cache* next = nullptr;    // in the retired list

  void clear() noexcept {
    while (count > 0) free_block(blocks[--count]);
    bytes = 0;
  }
};

// Each thread's cache is a heap object behind a plain thread_local pointer, emptied at thread
// exit through quay::detail::at_thread_exit (the runtime's one per-thread cleanup mechanism; a
// C++ thread_local with a destructor is unsafe under mingw's emulated TLS, which crashed the
// Wine tests). The exit callback may not touch thread_locals, so it cannot clear the pointer:
// it empties the cache and marks it retired instead, and a block released on that thread
// afterwards (by a later exit callback freeing frames) is freed, not cached. A retired cache
// (a few hundred bytes) is kept on a global list, never reused: the exiting thread may still
// look at it.
thread_local cache* t_cache = nullptr;
std::atomic<cache*> retired_caches{nullptr};

void retire_cache(void* p) noexcept {
  auto* c = static_cast<cache*>(p);
  c->clear();
  c->retired = true;
  c->next = retired_caches.load(std::memory_order_relaxed);
  while (!retired_caches.compare_exchange_weak(c->next, c, std::memory_order_release,
                                               std::memory_order_relaxed)) {
  }
}

// This thread's live cache, or null: not made yet, or retired at thread exit.
cache* this_thread() noexcept {
  cache* c = t_cache;
  return c != nullptr && !c->retired ? c : nullptr;
}

// Makes this thread's cache on first use; null if the thread is exiting or memory is short
// (the blocks then come from and go to the heap directly).
cache* this_thread_or_make() noexcept {
  if (t_cache != nullptr) return this_thread();
  cache* c = new (std::nothrow) cache;
  if (c == nullptr) return nullptr;
  try {
    quay::detail::at_thread_exit(&retire_cache, c);
  } catch (...) {
    delete c;
    return nullptr;
  }
  t_cache = c;
  return c;
}

}  // namespace

shared_bytes* take_block(std::size_t usable) {
  cache* cp = this_thread_or_make();
  if (cp != nullptr) {
    cache& c = *cp;
    for (std::size_t i = c.count; i-- > 0;) {
      shared_bytes* b = c.blocks[i];
      if (capacity_field(b) != usable) continue;
      for (std::size_t j = i + 1; j < c.count; ++j) c.blocks[j - 1] = c.blocks[j];
      --c.count;
      c.bytes -= usable;
      // relaxed: this thread owns the block alone now; the acq_rel release that recycled it
      // ordered every earlier reader before this point.
      b->refs.store(block_flag | 1u, std::memory_order_relaxed);
      return b;
    }
  }
  void* mem = ::operator new(block_data_offset + usable);
  auto* b = ::new (mem) shared_bytes{};
  b->refs.store(block_flag | 1u, std::memory_order_relaxed);
  capacity_field(b) = static_cast<std::uint32_t>(usable);
  return b;
}

void recycle_block(shared_bytes* b) noexcept {
  const std::size_t usable = capacity_field(b);
  cache* cp = this_thread();
  if (cp != nullptr && usable <= max_cached_block_bytes) {
    cache& c = *cp;
    if (c.count < max_cached_blocks && c.bytes + usable <= max_cached_bytes) {
      c.blocks[c.count++] = b;
      c.bytes += usable;
      return;
    }
  }
  free_block(b);
}

std::size_t cached_blocks() noexcept {
  const cache* c = this_thread();
  return c != nullptr ? c->count : 0;
}
std::size_t cached_block_bytes() noexcept {
  const cache* c = this_thread();
  return c != nullptr ? c->bytes : 0;
}
void drain_block_cache() noexcept {
  if (cache* c = this_thread()) c->clear();
}

}  // namespace quay::net::detail
