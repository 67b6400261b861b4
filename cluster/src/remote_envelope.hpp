#pragma once
// The wire form of one actor message between nodes: a fixed 52-byte little-endian header and
// the message's own wire bytes (its wire_form encoding), validated before use. Pure.
//
//   0  4  magic "QCM1"          4  1  version (1)          5  1  kind (1 send)
//   6  2  wire type id          8  8  sender incarnation  16  8  receiver incarnation
//  24  4  target slot          28  4  target generation   32  4  sender slot
//  36  4  sender generation    40  8  stream sequence     48  4  payload length
//  52  .  payload
#include <cstdint>
#include <span>
#include <vector>

#include "membership_wire.hpp"
#include "quay/cluster/node_id.hpp"

namespace quay::cluster::detail {

inline constexpr std::size_t envelope_header = 52;

struct remote_header {
  std::uint16_t wire_id = 0;
  node_id from_node, to_node;
  std::uint32_t to_slot = 0, to_generation = 0;
  std::uint32_t from_slot = 0, from_generation = 0;
  std::uint64_t seq = 0;
};

/// Appends header + payload to `out` (cleared first).
void encode(const remote_header& h, std::span<const std::uint8_t> payload,
            std::vector<std::uint8_t>& out);
/// Validates `bytes` (at most envelope_header + max_payload) and splits it; the payload view
/// points into `bytes`.
wire_fault decode(std::span<const std::uint8_t> bytes, std::size_t max_payload, remote_header& h,
                  std::span<const std::uint8_t>& payload) noexcept;

}  // namespace quay::cluster::detail
