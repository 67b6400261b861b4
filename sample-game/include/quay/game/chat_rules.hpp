#pragma once
// Chat rules: what a message may contain, how often a player may speak (a token bucket), and
// how far "say" carries. Pure: time is a parameter.

#include <cstdint>
#include <string>
#include <string_view>

#include "quay/game/game_error.hpp"
#include "quay/game/types.hpp"

namespace quay::game {

/// Chat tuning.
struct chat_rules {
  std::size_t max_length = 256;  ///< bytes of UTF-8 after trimming
  double burst = 5.0;            ///< messages that may be sent back to back
  double per_second = 1.0;       ///< sustained rate
  float say_radius = 30.0f;      ///< metres a "say" carries
};

/// A token bucket of messages, one per player. Owner only.
class chat_limiter {
public:
  /// A full bucket at `now`.
  chat_limiter(const chat_rules& rules, time_ms now);

  /// Takes one token if one is available at `now`; false means rate limited.
  bool admit(time_ms now);

  /// Tokens available at the last call (for tests and metrics).
  double tokens() const { return tokens_; }

private:
  double burst_;
  double per_ms_;
  double tokens_;
  time_ms last_ms_;
};

/// Checks and normalises a message: trims surrounding whitespace, replaces control characters
/// with spaces and rejects empty, too long or non-UTF-8 text. On success `text` holds the
/// message to deliver.
game_errc sanitize_chat(std::string& text, const chat_rules& rules);

}  // namespace quay::game
