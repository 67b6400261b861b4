#include "remote_envelope.hpp"

#include <cstring>

namespace quay::cluster::detail {

namespace {
constexpr std::uint8_t magic[4] = {'Q', 'C', 'M', '1'};
void put(std::uint8_t* p, std::uint64_t v, int n) noexcept {
  for (int i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get(const std::uint8_t* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}
}  // namespace

void encode(const remote_header& h, std::span<const std::uint8_t> payload,
            std::vector<std::uint8_t>& out) {
  out.assign(envelope_header + payload.size(), 0);
  std::uint8_t* p = out.data();
  std::memcpy(p, magic, 4);
  p[4] = 1;
  p[5] = 1;
  put(p + 6, h.wire_id, 2);
  put(p + 8, h.from_node.value, 8);
  put(p + 16, h.to_node.value, 8);
  put(p + 24, h.to_slot, 4);
  put(p + 28, h.to_generation, 4);
  put(p + 32, h.from_slot, 4);
  put(p + 36, h.from_generation, 4);
  put(p + 40, h.seq, 8);
  put(p + 48, payload.size(), 4);
  if (!payload.empty()) std::memcpy(p + envelope_header, payload.data(), payload.size());
}

wire_fault decode(std::span<const std::uint8_t> bytes, std::size_t max_payload, remote_header& h,
                  std::span<const std::uint8_t>& payload) noexcept {
  if (bytes.size() > envelope_header + max_payload) return wire_fault::oversized;
  if (bytes.size() < envelope_header) return wire_fault::truncated;
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, magic, 4) != 0) return wire_fault::bad_magic;
  if (p[4] != 1) return wire_fault::bad_version;
  if (p[5] != 1) return wire_fault::bad_kind;
  const std::uint64_t len = get(p + 48, 4);
  if (len > max_payload) return wire_fault::oversized;
  if (bytes.size() - envelope_header < len) return wire_fault::truncated;
  if (bytes.size() - envelope_header > len) return wire_fault::bad_field;
  h.wire_id = static_cast<std::uint16_t>(get(p + 6, 2));
  h.from_node = node_id{get(p + 8, 8)};
  h.to_node = node_id{get(p + 16, 8)};
  h.to_slot = static_cast<std::uint32_t>(get(p + 24, 4));
  h.to_generation = static_cast<std::uint32_t>(get(p + 28, 4));
  h.from_slot = static_cast<std::uint32_t>(get(p + 32, 4));
  h.from_generation = static_cast<std::uint32_t>(get(p + 36, 4));
  h.seq = get(p + 40, 8);
  if (!h.from_node || !h.to_node || h.to_generation == 0 || h.seq == 0) return wire_fault::bad_field;
  payload = bytes.subspan(envelope_header, len);
  return wire_fault::none;
}

}  // namespace quay::cluster::detail
