#include "quay/net/frame.hpp"

#include <cstring>
#include <new>

namespace quay::net {

frame frame::allocate(std::size_t payload_size) {
  frame f;
  if (payload_size == 0 || payload_size > frame_size_cap) return f;
  void* mem = ::operator new(sizeof(block) + payload_size);
  auto* b = ::new (mem) block{};
  b->refs.store(1, std::memory_order_relaxed);
  write_frame_header(b->wire_header, static_cast<std::uint32_t>(payload_size));
  f.block_ = b;
  return f;
}

frame frame::copy_of(std::span<const std::byte> payload) {
  return make(payload.size(), [&](std::span<std::byte> out) {
    std::memcpy(out.data(), payload.data(), payload.size());
  });
}

void frame::release() noexcept {
  if (block_ == nullptr) return;
  // acq_rel: the thread that frees must see every other owner's reads finished.
  if (block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~block();
    ::operator delete(block_);
  }
  block_ = nullptr;
}

}  // namespace quay::net
