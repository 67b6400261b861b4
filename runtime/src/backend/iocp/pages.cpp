// Page blocks on Windows: VirtualAlloc. Large pages need the "lock pages in memory" privilege,
// which a game server rarely has, so blocks use ordinary pages (committed on first touch).
#include <windows.h>

#include <cstdint>
#include <new>

#include "quay/runtime/pages.hpp"

namespace quay::detail {

void* allocate_page_block() {
  // VirtualAlloc aligns to the 64 KiB allocation granularity; reserve twice the size, then
  // release it and reserve the aligned part (retried: another thread may take the range).
  for (int attempt = 0; attempt < 8; ++attempt) {
    void* probe = ::VirtualAlloc(nullptr, 2 * page_block_bytes, MEM_RESERVE, PAGE_NOACCESS);
    if (probe == nullptr) break;
    const auto begin = reinterpret_cast<std::uintptr_t>(probe);
    const std::uintptr_t aligned = (begin + page_block_bytes - 1) & ~(page_block_bytes - 1);
    ::VirtualFree(probe, 0, MEM_RELEASE);
    void* block = ::VirtualAlloc(reinterpret_cast<void*>(aligned), page_block_bytes,
                                 MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (block != nullptr) return block;
  }
  throw std::bad_alloc();
}

void free_page_block(void* block) noexcept { ::VirtualFree(block, 0, MEM_RELEASE); }

}  // namespace quay::detail
