#pragma once

#include <cstddef>
#include <cstdlib>
#include <string>

namespace quay::test {

/// Scales a stress test's iteration count by the QUAY_STRESS_SCALE environment variable
/// (a positive decimal, default 1). scripts/windows-test.sh sets it below 1, because under Wine
/// every completion-port call is a round trip to wineserver. Never returns less than 1.
/// Thread-safe (reads the environment only).
inline std::size_t scaled(std::size_t n) {
  const char* text = std::getenv("QUAY_STRESS_SCALE");
  if (text == nullptr || *text == '\0') return n;
  char* end = nullptr;
  const double factor = std::strtod(text, &end);
  if (end == text || !(factor > 0.0)) return n;
  const double v = static_cast<double>(n) * factor;
  return v < 1.0 ? 1 : static_cast<std::size_t>(v);
}

}  // namespace quay::test
