#include "quay/runtime/timer_wheel.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace quay {
namespace {

constexpr std::uint64_t slot_mask = timer_wheel::slots_per_level - 1;

std::uint64_t make_value(std::uint32_t index, std::uint32_t generation) noexcept {
  return (std::uint64_t{generation} << 32) | index;
}

}  // namespace

timer_wheel::timer_wheel(std::uint64_t now) : now_(now) {}

timer_wheel::handle timer_wheel::insert(std::uint64_t deadline, std::uint64_t payload) {
  const std::uint32_t index = allocate_node();
  node& n = nodes_[index];
  n.deadline = deadline;
  n.payload = payload;
  place(index);
  ++size_;
  return handle{make_value(index, n.generation)};
}

bool timer_wheel::cancel(handle h) noexcept {
  const auto index = static_cast<std::uint32_t>(h.value & 0xffff'ffffu);
  const auto generation = static_cast<std::uint32_t>(h.value >> 32);
  if (generation == 0 || index >= nodes_.size()) return false;
  node& n = nodes_[index];
  if (n.generation != generation || n.list == nil) return false;
  unlink(index);
  free_node(index);
  --size_;
  return true;
}

std::optional<std::uint64_t> timer_wheel::payload(handle h) const noexcept {
  const auto index = static_cast<std::uint32_t>(h.value & 0xffff'ffffu);
  const auto generation = static_cast<std::uint32_t>(h.value >> 32);
  if (generation == 0 || index >= nodes_.size()) return std::nullopt;
  const node& n = nodes_[index];
  if (n.generation != generation || n.list == nil) return std::nullopt;
  return n.payload;
}

std::size_t timer_wheel::advance(std::uint64_t now, std::vector<expired>& out) {
  const std::size_t before = out.size();
  emit_overdue(out);
  if (now < now_) return out.size() - before;

  for (;;) {
    unsigned level = 0;
    while (level < levels && occupied_[level] == 0) ++level;
    if (level == levels) break;
    const auto slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
    const std::uint64_t start = slot_start(level, slot);
    if (start > now) break;

    // Detach the whole slot, then move the clock to its start. Every pending deadline is >=
    // start (this is the earliest occupied slot), so nothing is skipped. At level 0 every entry
    // is due exactly at `start`; at higher levels the entries due at `start` are emitted and
    // the rest cascade to strictly lower levels (they now share all digits >= level with now_).
    const std::uint32_t list = level * slots_per_level + slot;
    std::uint32_t index = lists_[list].head;
    lists_[list] = slot_list{};
    occupied_[level] &= ~(std::uint64_t{1} << slot);
    now_ = start;
    while (index != nil) {
      const std::uint32_t next = nodes_[index].next;
      if (nodes_[index].deadline <= now_) {
        emit(index, out);
      } else {
        place(index);
      }
      index = next;
    }
  }
  // Remaining entries all start after `now`, and `now` lies in the same upper block as each of
  // them, so their level and slot stay valid for the new time.
  now_ = now;
  return out.size() - before;
}

std::optional<std::uint64_t> timer_wheel::next_deadline() const {
  if (lists_[overdue_list].head != nil) return list_min(overdue_list);
  for (unsigned level = 0; level < levels; ++level) {
    if (occupied_[level] == 0) continue;
    const auto slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
    // Lower levels always hold earlier deadlines, and within a level lower slots come first.
    if (level == 0) return slot_start(0, slot);
    return list_min(level * slots_per_level + slot);
  }
  return std::nullopt;
}

std::uint32_t timer_wheel::allocate_node() {
  if (free_head_ != nil) {
    const std::uint32_t index = free_head_;
    free_head_ = nodes_[index].next;
    return index;
  }
  if (nodes_.size() >= nil) throw std::length_error("timer_wheel: too many timers");
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void timer_wheel::free_node(std::uint32_t index) noexcept {
  node& n = nodes_[index];
  n.list = nil;
  n.prev = nil;
  if (++n.generation == 0) n.generation = 1;
  n.next = free_head_;
  free_head_ = index;
}

void timer_wheel::place(std::uint32_t index) {
  const std::uint64_t deadline = nodes_[index].deadline;
  if (deadline <= now_) {
    push_back(overdue_list, index);
    return;
  }
  // The level is the 6-bit digit holding the highest bit where deadline and now differ; the
  // `| slot_mask` keeps deadlines within the current 64 ms block at level 0.
  const std::uint64_t masked = (deadline ^ now_) | slot_mask;
  const unsigned level = (63u - static_cast<unsigned>(std::countl_zero(masked))) / bits_per_level;
  const auto slot = static_cast<unsigned>((deadline >> (level * bits_per_level)) & slot_mask);
  push_back(level * slots_per_level + slot, index);
  occupied_[level] |= std::uint64_t{1} << slot;
}

void timer_wheel::push_back(std::uint32_t list, std::uint32_t index) {
  slot_list& l = lists_[list];
  node& n = nodes_[index];
  n.list = list;
  n.next = nil;
  n.prev = l.tail;
  if (l.tail == nil) {
    l.head = index;
    l.min_deadline = n.deadline;
    l.min_dirty = false;
  } else {
    nodes_[l.tail].next = index;
    l.min_deadline = std::min(l.min_deadline, n.deadline);
  }
  l.tail = index;
}

void timer_wheel::unlink(std::uint32_t index) noexcept {
  node& n = nodes_[index];
  slot_list& l = lists_[n.list];
  if (n.prev != nil) nodes_[n.prev].next = n.next; else l.head = n.next;
  if (n.next != nil) nodes_[n.next].prev = n.prev; else l.tail = n.prev;
  if (l.head == nil) {
    if (n.list < overdue_list) {
      const unsigned level = n.list / slots_per_level;
      occupied_[level] &= ~(std::uint64_t{1} << (n.list % slots_per_level));
    }
    l = slot_list{};
  } else if (n.deadline == l.min_deadline) {
    // The cached minimum may be gone; rescan lazily, only if someone asks.
    l.min_dirty = true;
  }
}

std::uint64_t timer_wheel::slot_start(unsigned level, unsigned slot) const noexcept {
  const unsigned shift = level * bits_per_level;
  const unsigned upper = shift + bits_per_level;
  const std::uint64_t base = upper >= 64 ? 0 : (now_ >> upper) << upper;
  return base | (std::uint64_t{slot} << shift);
}

std::uint64_t timer_wheel::list_min(std::uint32_t list) const {
  slot_list& l = lists_[list];
  if (l.min_dirty) {
    std::uint64_t m = nodes_[l.head].deadline;
    for (std::uint32_t i = nodes_[l.head].next; i != nil; i = nodes_[i].next) {
      m = std::min(m, nodes_[i].deadline);
    }
    l.min_deadline = m;
    l.min_dirty = false;
  }
  return l.min_deadline;
}

void timer_wheel::emit_overdue(std::vector<expired>& out) {
  std::uint32_t index = lists_[overdue_list].head;
  if (index == nil) return;
  lists_[overdue_list] = slot_list{};
  const std::size_t first = out.size();
  while (index != nil) {
    const std::uint32_t next = nodes_[index].next;
    emit(index, out);
    index = next;
  }
  // The list is in insertion order; a stable sort by deadline keeps ties in that order.
  std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                   [](const expired& a, const expired& b) { return a.deadline < b.deadline; });
}

void timer_wheel::emit(std::uint32_t index, std::vector<expired>& out) {
  const node& n = nodes_[index];
  out.push_back(expired{handle{make_value(index, n.generation)}, n.deadline, n.payload});
  free_node(index);
  --size_;
}

}  // namespace quay
