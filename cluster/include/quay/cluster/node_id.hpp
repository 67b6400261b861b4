#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace quay::cluster {

/// A node incarnation: one run of one process. Never reused: a restarted process gets a new
/// one. The high 44 bits are the start time in Unix milliseconds, the low 20 bits random; the
/// membership registers it with a key-value create that fails if it exists, so two runs that
/// drew the same value cannot both join. 0 is never valid.
struct node_id {
  std::uint64_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
  friend bool operator==(node_id, node_id) = default;
  friend auto operator<=>(node_id, node_id) = default;
};

/// An incarnation from a start time and random bits (pure; for tests and the simulation).
node_id make_incarnation(std::uint64_t unix_ms, std::uint64_t random_bits) noexcept;
/// A fresh incarnation from the system clock and std::random_device. Thread-safe.
node_id new_incarnation();

/// 16 lowercase hex digits. Thread-safe.
std::string to_string(node_id id);
/// Parses exactly 16 hex digits into a non-zero id; nullopt otherwise. Thread-safe.
std::optional<node_id> parse_node_id(std::string_view text) noexcept;

/// Maps incarnations to the 32-bit `actor_ref.node` of this process and back.
///
/// actor_ref stays 12 bytes (slot, generation, node), so it cannot hold a 64-bit incarnation:
/// each process numbers the incarnations it meets 1, 2, 3... in the order it meets them, and a
/// number is never given to another incarnation during the life of the process (0 stays
/// "this process"). A ref to an actor of a dead incarnation therefore keeps naming that dead
/// incarnation, never its restarted successor. The numbers are local: a ref that crosses the
/// wire carries the incarnation, and the receiver maps it into its own table.
///
/// Thread contract: thread-safe (one mutex, held only for the lookup).
class node_table {
 public:
  /// The local number of `id`, assigned on first sight (at most 2^32 - 1 of them).
  std::uint32_t index_of(node_id id);
  /// The incarnation behind a local number; nullopt for 0 or a number never assigned.
  std::optional<node_id> incarnation_of(std::uint32_t index) const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;
  std::vector<node_id> by_index_;  // by_index_[i - 1]
};

}  // namespace quay::cluster
