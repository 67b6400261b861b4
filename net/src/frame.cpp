#include "quay/net/frame.hpp"

#include <cstring>
#include <new>

#include "block_cache.hpp"

namespace quay::net {

namespace detail {

shared_bytes* allocate_shared_bytes(std::size_t total) {
  void* mem = ::operator new(total);
  auto* b = ::new (mem) shared_bytes{};
  b->refs.store(1, std::memory_order_relaxed);
  return b;
}

void release_shared_bytes(shared_bytes* b) noexcept {
  // acq_rel: the thread that frees (or recycles) must see every other owner's reads finished.
  const std::uint32_t before = b->refs.fetch_sub(1, std::memory_order_acq_rel);
  if ((before & ref_mask) != 1) return;
  if ((before & block_flag) != 0) {
    recycle_block(b);  // a framer's read block: back to this thread's cache
  } else {
    b->~shared_bytes();
    ::operator delete(b);
  }
}

}  // namespace detail

frame frame::allocate(std::size_t payload_size) {
  frame f;
  if (payload_size == 0 || payload_size > frame_size_cap) return f;
  static_assert(sizeof(detail::shared_bytes) + frame_header_bytes == 8);
  detail::shared_bytes* b = detail::allocate_shared_bytes(8 + payload_size);
  auto* wire = reinterpret_cast<std::byte*>(b) + sizeof(detail::shared_bytes);
  write_frame_header(wire, static_cast<std::uint32_t>(payload_size));
  f.owner_ = b;
  f.wire_ = wire;
  return f;
}

frame frame::copy_of(std::span<const std::byte> payload) {
  return make(payload.size(), [&](std::span<std::byte> out) {
    std::memcpy(out.data(), payload.data(), payload.size());
  });
}

}  // namespace quay::net
