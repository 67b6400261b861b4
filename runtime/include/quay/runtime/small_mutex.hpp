#pragma once
// small_mutex: a mutex in four bytes, for objects that exist by the thousand (one per
// session) where std::mutex's 40 bytes (glibc) would be a large share of an idle object.
//
// Guarantees: mutual exclusion; lock() acquires and unlock() releases (acquire/release on the
// state word, so everything written under the lock is visible to the next holder); a waiter
// sleeps in the kernel instead of spinning. Not
// recursive, not fair. Meets the Lockable requirements, so std::unique_lock and
// std::lock_guard work with it. tests/stress/small_mutex.stress.test.cpp checks both.
//
// The state word: 0 free, 1 held, 2 held and someone may be waiting. unlock() wakes one
// waiter only when the word was 2, so an uncontended lock/unlock is one CAS and one exchange.
//
// Sleeping and waking go through the backend (a futex on Linux, WaitOnAddress on Windows), not
// std::atomic::wait: libstdc++ 12 implements that with a condition-variable pool where there is
// no futex, and there it can miss a notify (GCC bug 106183); under Wine, sessions stalled.
#include <atomic>
#include <cstdint>

namespace quay {

namespace detail {
/// Sleeps while `word` holds `expected`; may return spuriously. Thread-safe.
void wait_on_word(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept;
/// Wakes at least one thread sleeping in wait_on_word on `word`, if any. Thread-safe.
void wake_one_on_word(std::atomic<std::uint32_t>& word) noexcept;
}  // namespace detail

class small_mutex {
 public:
  small_mutex() noexcept = default;
  small_mutex(const small_mutex&) = delete;
  small_mutex& operator=(const small_mutex&) = delete;

  void lock() noexcept {
    std::uint32_t seen = free;
    if (state_.compare_exchange_strong(seen, held, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    // Contended: mark the word "may have waiters" and sleep until it is free. Whoever takes
    // it from here leaves it at 2, so its unlock wakes the next waiter (at worst one spare
    // wake, never a lost one).
    if (seen != contended) seen = state_.exchange(contended, std::memory_order_acquire);
    while (seen != free) {
      detail::wait_on_word(state_, contended);
      seen = state_.exchange(contended, std::memory_order_acquire);
    }
  }

  bool try_lock() noexcept {
    std::uint32_t seen = free;
    return state_.compare_exchange_strong(seen, held, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void unlock() noexcept {
    if (state_.exchange(free, std::memory_order_release) == contended) {
      detail::wake_one_on_word(state_);
    }
  }

 private:
  static constexpr std::uint32_t free = 0;
  static constexpr std::uint32_t held = 1;
  static constexpr std::uint32_t contended = 2;
  std::atomic<std::uint32_t> state_{free};
};

static_assert(sizeof(small_mutex) == 4);

}  // namespace quay
