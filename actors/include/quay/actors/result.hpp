#pragma once

#include <cassert>
#include <optional>
#include <system_error>
#include <utility>

namespace quay {

/// A value or an error: the outcome of a request (ask). Either has_value() and value() is the
/// reply, or error() says why there is none (timed_out, dead_target, ...).
///
/// Thread contract: a plain value; one thread at a time.
template <class T>
class result {
 public:
  result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  result(std::error_code ec) : ec_(ec) {}        // NOLINT: implicit by design

  bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return has_value(); }
  /// The reply. Precondition: has_value().
  T& value() & {
    assert(has_value());
    return *value_;
  }
  T&& value() && {
    assert(has_value());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  /// The error; empty when has_value().
  std::error_code error() const noexcept { return ec_; }

 private:
  std::optional<T> value_;
  std::error_code ec_;
};

}  // namespace quay
