#pragma once
// Debug check of an "owner only" contract for objects that may move between threads but are
// used by one caller at a time (a framer is handed between workers under its session's mutex,
// so a fixed owning thread would be the wrong rule). Each member that touches the object holds
// an owner_check::scope; two at once, from two threads or re-entered, fails an assert. Release
// builds keep nothing ([[no_unique_address]] of an empty type).

#include <atomic>
#include <cassert>

namespace quay::net::detail {

#ifndef NDEBUG
class owner_check {
 public:
  owner_check() = default;
  // A moved-to or copied-to object starts unused: the check is about calls, not values.
  owner_check(const owner_check&) noexcept {}
  owner_check& operator=(const owner_check&) noexcept { return *this; }

  class scope {
   public:
    explicit scope(const owner_check& c) noexcept : c_(c) {
      const bool was = c_.busy_.exchange(true, std::memory_order_acquire);
      assert(!was && "owner-only object used by two callers at once");
      (void)was;
    }
    ~scope() { c_.busy_.store(false, std::memory_order_release); }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    const owner_check& c_;
  };

 private:
  mutable std::atomic<bool> busy_{false};
};
#else
class owner_check {
 public:
  class scope {
   public:
    explicit scope(const owner_check&) noexcept {}
  };
};
#endif

}  // namespace quay::net::detail
