#pragma once
// Basic value types shared by the game's pure systems. Plain data: no thread contract beyond
// "whoever owns the value" — every system that uses them is owned by one zone actor.

#include <cmath>
#include <cstdint>

namespace quay::game {

/// Identifies an entity (player or NPC) inside one zone world. Never reused within a world,
/// so a stale id simply finds nothing.
using entity_id = std::uint32_t;

/// The id no entity has.
inline constexpr entity_id no_entity = 0;

/// Game time in milliseconds. Systems receive it as a parameter and never read a clock.
using time_ms = std::int64_t;

/// A position or displacement on a zone's plane, in metres.
struct vec2 {
  float x = 0.0f;
  float y = 0.0f;

  friend constexpr bool operator==(vec2, vec2) = default;
};

/// Euclidean distance between two points.
inline float distance(vec2 a, vec2 b) {
  return std::hypot(a.x - b.x, a.y - b.y);
}

/// Squared distance, for comparisons that need no square root.
inline constexpr float distance_sq(vec2 a, vec2 b) {
  const float dx = a.x - b.x;
  const float dy = a.y - b.y;
  return dx * dx + dy * dy;
}

/// The point at most `max_step` metres from `from` on the segment towards `to`.
inline vec2 step_towards(vec2 from, vec2 to, float max_step) {
  const float d = distance(from, to);
  if (d <= max_step || d <= 0.0f) {
    return to;
  }
  const float k = max_step / d;
  return {from.x + (to.x - from.x) * k, from.y + (to.y - from.y) * k};
}

/// An axis-aligned rectangle [0, width] x [0, height]: the walkable area of a zone.
struct zone_bounds {
  float width = 0.0f;
  float height = 0.0f;

  /// True when `p` lies inside the rectangle (edges included).
  constexpr bool contains(vec2 p) const {
    return p.x >= 0.0f && p.y >= 0.0f && p.x <= width && p.y <= height;
  }

  /// The nearest point of the rectangle to `p`.
  constexpr vec2 clamp(vec2 p) const {
    return {p.x < 0.0f ? 0.0f : (p.x > width ? width : p.x),
            p.y < 0.0f ? 0.0f : (p.y > height ? height : p.y)};
  }
};

}  // namespace quay::game
