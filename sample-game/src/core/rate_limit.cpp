// The token bucket (see rate_limit.hpp).
#include "quay/game/rate_limit.hpp"

#include <algorithm>

namespace quay::game {

token_bucket::token_bucket(const rate_rule& rule, time_ms now)
    : burst_(std::max(rule.burst, 1.0)),
      per_ms_(std::max(rule.per_second, 0.0) / 1000.0),
      tokens_(burst_),
      last_ms_(now) {}

void token_bucket::refill(time_ms now) {
  if (now > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + per_ms_ * static_cast<double>(now - last_ms_));
    last_ms_ = now;
  }
}

bool token_bucket::admit(time_ms now) {
  refill(now);
  if (tokens_ < 1.0) {
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

bool token_bucket::full_at(time_ms now) const {
  const double dt = now > last_ms_ ? static_cast<double>(now - last_ms_) : 0.0;
  return tokens_ + per_ms_ * dt >= burst_;
}

}  // namespace quay::game
