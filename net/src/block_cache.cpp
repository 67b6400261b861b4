#include "block_cache.hpp"

#include <pthread.h>

#include <cstdlib>
#include <new>

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

  void clear() noexcept {
    while (count > 0) free_block(blocks[--count]);
    bytes = 0;
  }
};

// Each thread's cache hangs off a pthread key whose destructor frees it at thread exit (POSIX,
// and winpthreads under mingw). Not a C++ thread_local with a destructor: under mingw's emulated
// TLS that storage can be gone before such destructors run (it crashed the Wine tests).
void destroy_cache(void* p) noexcept {
  auto* c = static_cast<cache*>(p);
  c->clear();
  delete c;
}

pthread_key_t cache_key() {
  static const pthread_key_t key = [] {
    pthread_key_t k;
    if (::pthread_key_create(&k, destroy_cache) != 0) std::abort();
    return k;
  }();
  return key;
}

// This thread's cache, or null when it has none: not made yet, or already destroyed at thread
// exit (a block released after that is simply freed).
cache* this_thread() noexcept { return static_cast<cache*>(::pthread_getspecific(cache_key())); }

}  // namespace

shared_bytes* take_block(std::size_t usable) {
  cache* cp = this_thread();
  if (cp == nullptr) {
    cp = new cache;
    if (::pthread_setspecific(cache_key(), cp) != 0) {
      delete cp;
      cp = nullptr;
    }
  }
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
