#include "backend/epoll/socket_table.hpp"

namespace quay::detail {

socket_table::~socket_table() {
  for (auto& chunk : chunks_) {
    delete[] chunk.load(std::memory_order_relaxed);
  }
}

socket_state* socket_table::allocate(native_backend& owner) {
  std::lock_guard lock(mu_);
  if (free_.empty()) {
    const std::uint32_t n = size_.load(std::memory_order_relaxed);
    const std::size_t chunk = n / chunk_slots;
    if (chunk >= max_chunks) return nullptr;
    auto* slots = new socket_state[chunk_slots];
    for (std::size_t i = 0; i < chunk_slots; ++i) {
      slots[i].index = static_cast<std::uint32_t>(n + i);
      slots[i].backend = &owner;
    }
    // Publish the chunk before the size that makes its indices valid, so at() never sees an
    // index whose chunk pointer is not yet visible.
    chunks_[chunk].store(slots, std::memory_order_release);
    size_.store(static_cast<std::uint32_t>(n + chunk_slots), std::memory_order_release);
    free_.reserve(n + chunk_slots);  // room for every slot, so release() never allocates
    for (std::size_t i = chunk_slots; i-- > 0;) free_.push_back(&slots[i]);
  }
  socket_state* s = free_.back();
  free_.pop_back();
  return s;
}

void socket_table::release(socket_state* s) noexcept {
  std::lock_guard lock(mu_);
  // Cannot throw: allocate() reserved room for every slot that exists.
  free_.push_back(s);
}

socket_state* socket_table::at(std::uint32_t index) const noexcept {
  if (index >= size_.load(std::memory_order_acquire)) return nullptr;
  return &chunks_[index / chunk_slots].load(std::memory_order_acquire)[index % chunk_slots];
}

}  // namespace quay::detail
