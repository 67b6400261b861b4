#pragma once

// A 32-bit value as a 4-byte little-endian payload and back: the cluster tests' messages.

#include <cstdint>
#include <vector>

namespace quay::cluster::test {

inline std::vector<std::uint8_t> bytes_of(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
}
/// 0xFFFFFFFF for a payload shorter than 4 bytes.
inline std::uint32_t value_of(const std::vector<std::uint8_t>& b) {
  return b.size() < 4 ? 0xFFFFFFFF
                      : b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t{b[3]} << 24);
}

}  // namespace quay::cluster::test
