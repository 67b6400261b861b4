#pragma once
// The membership's wire form: one fixed 28-byte little-endian record, validated before use.
//
//   0  4  magic "QCL1"
//   4  1  version (1)
//   5  1  kind (1 announce, 2 heartbeat, 3 leave)
//   6  2  reserved, 0
//   8  8  sender incarnation (non-zero)
//  16  8  sequence number
//  24  4  the sender's heartbeat interval in ms
//
// Pure: no I/O, no clock. Every malformed input gives a reason, never a crash.
#include <array>
#include <cstdint>
#include <span>

#include "quay/cluster/node_id.hpp"

namespace quay::cluster::detail {

enum class beat_kind : std::uint8_t { announce = 1, heartbeat = 2, leave = 3 };

struct beat {
  beat_kind kind = beat_kind::heartbeat;
  node_id from;
  std::uint64_t seq = 0;
  std::uint32_t interval_ms = 0;
};

enum class wire_fault : std::uint8_t { none, truncated, oversized, bad_magic, bad_version,
                                       bad_kind, bad_field };

const char* to_string(wire_fault f) noexcept;

inline constexpr std::size_t beat_size = 28;

std::array<std::uint8_t, beat_size> encode(const beat& b) noexcept;
/// Decodes exactly beat_size bytes into `out`; otherwise the first fault found.
wire_fault decode(std::span<const std::uint8_t> bytes, beat& out) noexcept;

/// NATS subject matching: tokens split on '.', '*' matches one token, '>' (last) one or more.
bool subject_matches(std::string_view pattern, std::string_view subject) noexcept;

}  // namespace quay::cluster::detail
