#pragma once
// A small deterministic random number generator (xoshiro128** seeded through splitmix64).
// Systems take it as a parameter, so a test that fixes the seed replays the same game.

#include <cstdint>

namespace quay::game {

/// Deterministic pseudo-random source. Owner only: not thread-safe, one per zone world.
class rng {
public:
  /// Seeds the four state words from `seed` with splitmix64, so nearby seeds diverge.
  explicit rng(std::uint64_t seed) noexcept {
    std::uint64_t z = seed;
    for (auto& word : s_) {
      z += 0x9e3779b97f4a7c15ULL;
      std::uint64_t x = z;
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
      x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
      x ^= x >> 31;
      word = static_cast<std::uint32_t>(x >> 16);
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) {
      s_[0] = 1;  // the all-zero state is a fixed point of xoshiro
    }
  }

  /// The next 32 random bits. Owner only.
  std::uint32_t next() noexcept {
    const std::uint32_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 11);
    return result;
  }

  /// A uniform integer in [lo, hi] (inclusive); returns lo when hi <= lo. Owner only.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) noexcept {
    if (hi <= lo) {
      return lo;
    }
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    // 64 bits of randomness keep the modulo bias far below anything a game can notice.
    const std::uint64_t bits = (static_cast<std::uint64_t>(next()) << 32) | next();
    return lo + static_cast<std::int64_t>(bits % span);
  }

  /// A uniform float in [lo, hi). Owner only.
  float uniform_float(float lo, float hi) noexcept {
    const float unit = static_cast<float>(next() >> 8) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * unit;
  }

private:
  static constexpr std::uint32_t rotl(std::uint32_t x, int k) noexcept {
    return (x << k) | (x >> (32 - k));
  }

  std::uint32_t s_[4]{};
};

}  // namespace quay::game
