#include "quay/cluster/node_id.hpp"

#include <chrono>
#include <random>
#include <stdexcept>

namespace quay::cluster {

node_id make_incarnation(std::uint64_t unix_ms, std::uint64_t random_bits) noexcept {
  std::uint64_t v = (unix_ms << 20) | (random_bits & 0xFFFFFu);
  if (v == 0) v = 1;
  return node_id{v};
}

node_id new_incarnation() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::random_device rd;
  const std::uint64_t r = (std::uint64_t{rd()} << 32) ^ rd();
  return make_incarnation(static_cast<std::uint64_t>(ms), r);
}

std::string to_string(node_id id) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = digits[id.value & 0xF];
    id.value >>= 4;
  }
  return s;
}

std::optional<node_id> parse_node_id(std::string_view text) noexcept {
  if (text.size() != 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  if (v == 0) return std::nullopt;
  return node_id{v};
}

std::uint32_t node_table::index_of(node_id id) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(id.value);
  if (it != index_.end()) return it->second;
  if (by_index_.size() >= 0xFFFFFFFEu) throw std::length_error("node_table full");
  by_index_.push_back(id);
  const auto idx = static_cast<std::uint32_t>(by_index_.size());
  index_.emplace(id.value, idx);
  return idx;
}

std::optional<node_id> node_table::incarnation_of(std::uint32_t index) const {
  std::lock_guard lock(mutex_);
  if (index == 0 || index > by_index_.size()) return std::nullopt;
  return by_index_[index - 1];
}

std::size_t node_table::size() const {
  std::lock_guard lock(mutex_);
  return by_index_.size();
}

}  // namespace quay::cluster
