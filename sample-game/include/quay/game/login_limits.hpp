#pragma once
// Login limits: exponential back-off after failed logins, per account and per source address,
// and a per-address connection rate. Pure (time is a parameter), so tests drive it by hand;
// the gateway owns a login_limiter and the player actors share a connection_limiter.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "quay/game/rate_limit.hpp"
#include "quay/game/types.hpp"

namespace quay::game {

/// Tuning of the login limits.
struct login_limit_rules {
  /// Failures of one account (from anywhere) before back-off starts.
  std::uint32_t account_free_failures = 3;
  /// Failures from one address (on any accounts) before back-off starts.
  std::uint32_t address_free_failures = 10;
  /// The first back-off; each further failure doubles it, up to backoff_max_ms.
  time_ms backoff_base_ms = 1000;
  time_ms backoff_max_ms = 300'000;
  /// New connections per source address (token bucket).
  rate_rule connections{20.0, 5.0};
  /// Addresses or accounts remembered at most; past it, records whose back-off has ended are
  /// forgotten first, so memory stays bounded under a flood of addresses.
  std::size_t max_tracked = 100'000;
};

/// Back-off after failed logins. Owner only (the gateway actor).
class login_limiter {
public:
  explicit login_limiter(login_limit_rules rules) : rules_(rules) {}

  enum class verdict { allowed, account_backoff, address_backoff };

  /// May a login of `account` (its name key) from `address` be checked at `now`? A login in
  /// back-off is refused before its secret is checked, so it costs no hash.
  verdict check(std::string_view account, std::string_view address, time_ms now) const;

  /// A login failed (wrong secret, unknown name): counts for the account and the address
  /// (an empty one is not counted).
  void failed(std::string_view account, std::string_view address, time_ms now);

  /// A login succeeded: the account's failures are forgotten (the address's stay: one right
  /// secret does not excuse a spray of wrong ones from the same address).
  void succeeded(std::string_view account);

  /// When the back-off of `account` or `address` ends (0: none), for logs.
  time_ms until(std::string_view key, bool is_address) const;

  /// Records kept (for tests and metrics).
  std::size_t tracked() const { return accounts_.size() + addresses_.size(); }

private:
  struct record {
    std::uint32_t failures = 0;
    time_ms until = 0;  // refused before this time
    time_ms last = 0;
  };
  using table = std::unordered_map<std::string, record>;
  void count(table& t, std::string_view key, std::uint32_t free, time_ms now);
  void prune(table& t, time_ms now);

  login_limit_rules rules_;
  table accounts_;
  table addresses_;
};

/// New connections per source address. Thread-safe (one mutex): every accepted connection
/// asks it, on whichever worker accepted it.
class connection_limiter {
public:
  explicit connection_limiter(login_limit_rules rules) : rules_(rules) {}

  /// Takes one connection of `address` at `now`; false: over its rate (refuse it).
  bool admit(std::string_view address, time_ms now);

private:
  login_limit_rules rules_;
  std::mutex mu_;
  std::unordered_map<std::string, token_bucket> buckets_;
};

}  // namespace quay::game
