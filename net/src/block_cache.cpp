#include "block_cache.hpp"

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

  ~cache();
  void clear() noexcept {
    while (count > 0) free_block(blocks[--count]);
    bytes = 0;
  }
};

// Set once this thread's cache is destroyed (trivially destructible, so it outlives it): a block
// whose last frame is dropped by another thread-local's destructor is then simply freed.
thread_local constinit bool cache_gone = false;
thread_local cache this_thread;

cache::~cache() {
  clear();
  cache_gone = true;
}

}  // namespace

std::uint32_t block_capacity(const shared_bytes* b) noexcept {
  return capacity_field(const_cast<shared_bytes*>(b));
}

shared_bytes* take_block(std::size_t usable) {
  if (!cache_gone) {
    cache& c = this_thread;
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
  if (!cache_gone && usable <= max_cached_block_bytes) {
    cache& c = this_thread;
    if (c.count < max_cached_blocks && c.bytes + usable <= max_cached_bytes) {
      c.blocks[c.count++] = b;
      c.bytes += usable;
      return;
    }
  }
  free_block(b);
}

std::size_t cached_blocks() noexcept { return cache_gone ? 0 : this_thread.count; }
std::size_t cached_block_bytes() noexcept { return cache_gone ? 0 : this_thread.bytes; }
void drain_block_cache() noexcept {
  if (!cache_gone) this_thread.clear();
}

}  // namespace quay::net::detail
