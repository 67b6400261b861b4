#pragma once
// A token bucket: how often a session may send messages (or make mistakes) before the server
// cuts it off. Pure: time is a parameter, so tests drive it by hand.

#include "quay/game/types.hpp"

namespace quay::game {

/// Tuning of a token bucket: `burst` events back to back, then `per_second` sustained.
struct rate_rule {
  double burst = 100.0;
  double per_second = 50.0;
};

/// A token bucket of events. Owner only (one per session or per character, in one actor).
class token_bucket {
public:
  /// A full bucket at `now`.
  token_bucket(const rate_rule& rule, time_ms now);

  /// Takes one token if one is available at `now`; false means over the rate. Time that goes
  /// backwards adds nothing.
  bool admit(time_ms now);

  /// True when the bucket would be full at `now` (nothing to remember about its owner).
  bool full_at(time_ms now) const;

  /// Tokens available at the last call (for tests and metrics).
  double tokens() const { return tokens_; }

private:
  void refill(time_ms now);

  double burst_;
  double per_ms_;
  double tokens_;
  time_ms last_ms_;
};

}  // namespace quay::game
