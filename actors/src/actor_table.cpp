// The actor table: segments of type-stable cells, allocated on demand and kept until the system
// is destroyed, so a lookup by slot is two loads and never touches freed memory.

#include <mutex>
#include <new>
#include <stdexcept>

#include "system_impl.hpp"

namespace quay::detail {

actor_cell::actor_cell() noexcept : completion(&system_impl::turn_entry) {}

actor_cell* system_impl::acquire_slot() {
  std::lock_guard<std::mutex> lock(slot_mu_);
  if (!free_slots_.empty()) {
    const std::uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    return cell_at(s);
  }
  const std::uint32_t s = next_slot_;
  const std::uint32_t seg = s >> segment_bits;
  if (seg >= max_segments) {
    throw std::length_error("quay actors: actor table is full");
  }
  if (segments_[seg].load(std::memory_order_relaxed) == nullptr) {
    auto* cells = new actor_cell[segment_size];
    for (std::uint32_t i = 0; i < segment_size; ++i) {
      cells[i].sys = this;
      cells[i].slot = (seg << segment_bits) + i;
    }
    segments_[seg].store(cells, std::memory_order_release);
  }
  ++next_slot_;
  return cell_at(s);
}

void system_impl::release_slot(actor_cell* c) {
  std::lock_guard<std::mutex> lock(slot_mu_);
  free_slots_.push_back(c->slot);
}

system_impl::~system_impl() {
  for (auto& s : segments_) {
    delete[] s.load(std::memory_order_relaxed);
  }
}

}  // namespace quay::detail
