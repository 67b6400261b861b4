#include "membership_wire.hpp"

#include <cstring>
#include <string_view>

namespace quay::cluster::detail {

namespace {
constexpr std::uint8_t magic[4] = {'Q', 'C', 'L', '1'};
constexpr std::uint8_t version = 1;

void put(std::uint8_t* p, std::uint64_t v, int n) noexcept {
  for (int i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get(const std::uint8_t* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}
}  // namespace

const char* to_string(wire_fault f) noexcept {
  switch (f) {
    case wire_fault::none: return "none";
    case wire_fault::truncated: return "truncated";
    case wire_fault::oversized: return "oversized";
    case wire_fault::bad_magic: return "bad magic";
    case wire_fault::bad_version: return "unknown version";
    case wire_fault::bad_kind: return "unknown kind";
    case wire_fault::bad_field: return "bad field";
  }
  return "?";
}

std::array<std::uint8_t, beat_size> encode(const beat& b) noexcept {
  std::array<std::uint8_t, beat_size> out{};
  std::memcpy(out.data(), magic, 4);
  out[4] = version;
  out[5] = static_cast<std::uint8_t>(b.kind);
  put(out.data() + 8, b.from.value, 8);
  put(out.data() + 16, b.seq, 8);
  put(out.data() + 24, b.interval_ms, 4);
  return out;
}

wire_fault decode(std::span<const std::uint8_t> bytes, beat& out) noexcept {
  if (bytes.size() < beat_size) return wire_fault::truncated;
  if (bytes.size() > beat_size) return wire_fault::oversized;
  const std::uint8_t* p = bytes.data();
  if (std::memcmp(p, magic, 4) != 0) return wire_fault::bad_magic;
  if (p[4] != version) return wire_fault::bad_version;
  if (p[5] < 1 || p[5] > 3) return wire_fault::bad_kind;
  if (p[6] != 0 || p[7] != 0) return wire_fault::bad_field;
  const std::uint64_t from = get(p + 8, 8);
  if (from == 0) return wire_fault::bad_field;
  out.kind = static_cast<beat_kind>(p[5]);
  out.from = node_id{from};
  out.seq = get(p + 16, 8);
  out.interval_ms = static_cast<std::uint32_t>(get(p + 24, 4));
  return wire_fault::none;
}

bool subject_matches(std::string_view pattern, std::string_view subject) noexcept {
  while (true) {
    const auto pd = pattern.find('.');
    const auto sd = subject.find('.');
    const std::string_view pt = pattern.substr(0, pd);
    const std::string_view st = subject.substr(0, sd);
    if (pt == ">") return !subject.empty();
    if (st.empty()) return false;
    if (pt != "*" && pt != st) return false;
    if (pd == std::string_view::npos || sd == std::string_view::npos) {
      return pd == std::string_view::npos && sd == std::string_view::npos;
    }
    pattern.remove_prefix(pd + 1);
    subject.remove_prefix(sd + 1);
  }
}

}  // namespace quay::cluster::detail
