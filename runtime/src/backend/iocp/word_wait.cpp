// small_mutex's sleep and wake on Windows: WaitOnAddress / WakeByAddressSingle (Windows 8+;
// Wine implements them), from the synchronization API set.
#include "backend/iocp/win32.hpp"
#include "quay/runtime/small_mutex.hpp"

namespace quay::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

void wait_on_word(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  // Sleeps only while the word still equals `expected`; a wake in between is not lost.
  ::WaitOnAddress(reinterpret_cast<volatile VOID*>(&word), &expected, sizeof expected, INFINITE);
}

void wake_one_on_word(std::atomic<std::uint32_t>& word) noexcept {
  ::WakeByAddressSingle(reinterpret_cast<PVOID>(&word));
}

}  // namespace quay::detail
