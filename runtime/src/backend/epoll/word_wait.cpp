// small_mutex's sleep and wake on Linux: a private futex on the state word.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "quay/runtime/small_mutex.hpp"

namespace quay::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void wait_on_word(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  // The kernel compares the word with `expected` and sleeps only if they are equal, atomically
  // with respect to a wake: no window for a lost wake-up. EINTR and EAGAIN are spurious returns.
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
            nullptr, nullptr, 0);
}

void wake_one_on_word(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
}

}  // namespace quay::detail
