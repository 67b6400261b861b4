// Login limits (see login_limits.hpp).
#include "quay/game/login_limits.hpp"

#include <algorithm>

namespace quay::game {

namespace {
template <class Map>
auto find(const Map& m, std::string_view key) {
  return m.find(std::string(key));
}
}  // namespace

login_limiter::verdict login_limiter::check(std::string_view account, std::string_view address,
                                            time_ms now) const {
  if (const auto a = find(accounts_, account); a != accounts_.end() && now < a->second.until) {
    return verdict::account_backoff;
  }
  if (const auto a = find(addresses_, address); a != addresses_.end() && now < a->second.until) {
    return verdict::address_backoff;
  }
  return verdict::allowed;
}

void login_limiter::count(table& t, std::string_view key, std::uint32_t free, time_ms now) {
  if (t.size() >= rules_.max_tracked) {
    prune(t, now);
  }
  auto& r = t[std::string(key)];
  ++r.failures;
  r.last = now;
  if (r.failures > free) {
    // Doubling per failure past the free ones; the shift is capped so it cannot overflow.
    const std::uint32_t doublings = std::min<std::uint32_t>(r.failures - free - 1, 30);
    const time_ms wait = std::min<time_ms>(rules_.backoff_base_ms << doublings,
                                           rules_.backoff_max_ms);
    r.until = now + wait;
  }
}

void login_limiter::prune(table& t, time_ms now) {
  // Forget records out of back-off whose last failure is older than the longest back-off;
  // if that frees nothing, forget every record out of back-off.
  std::erase_if(t, [&](const auto& kv) {
    return now >= kv.second.until && now - kv.second.last > rules_.backoff_max_ms;
  });
  if (t.size() >= rules_.max_tracked) {
    std::erase_if(t, [&](const auto& kv) { return now >= kv.second.until; });
  }
}

void login_limiter::failed(std::string_view account, std::string_view address, time_ms now) {
  if (!account.empty()) {
    count(accounts_, account, rules_.account_free_failures, now);
  }
  if (!address.empty()) {
    count(addresses_, address, rules_.address_free_failures, now);
  }
}

void login_limiter::succeeded(std::string_view account) { accounts_.erase(std::string(account)); }

time_ms login_limiter::until(std::string_view key, bool is_address) const {
  const table& t = is_address ? addresses_ : accounts_;
  const auto it = find(t, key);
  return it == t.end() ? 0 : it->second.until;
}

bool connection_limiter::admit(std::string_view address, time_ms now) {
  std::lock_guard lock(mu_);
  if (buckets_.size() >= rules_.max_tracked) {
    // Full buckets remember nothing: dropping them loses no limit.
    std::erase_if(buckets_, [&](const auto& kv) { return kv.second.full_at(now); });
  }
  auto it = buckets_.find(std::string(address));
  if (it == buckets_.end()) {
    it = buckets_.emplace(std::string(address), token_bucket(rules_.connections, now)).first;
  }
  return it->second.admit(now);
}

}  // namespace quay::game
