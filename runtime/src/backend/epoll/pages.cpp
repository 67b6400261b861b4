// Page blocks on Linux: an anonymous mapping, trimmed to a 2 MiB-aligned block and prefaulted
// in one system call. Not marked MADV_HUGEPAGE: with the usual THP setting (defrag=madvise) a
// fault in a MADV_HUGEPAGE region compacts memory synchronously when no huge page is free, so
// the cost of a burst depended on the host's memory state (fanout: 0.00-0.02 s of system time in
// most runs, 0.11-0.14 s in others, same binary, 2026-12-03). 4 KiB pages prefaulted with
// MADV_POPULATE_WRITE cost the same every run (0.01-0.02 s), and ~3 % more CPU at the median.
#include <sys/mman.h>

#include <cstdint>
#include <new>

#include "quay/runtime/pages.hpp"

namespace quay::detail {

void* allocate_page_block() {
  // Map twice the size and unmap the unaligned head and tail: mmap only promises 4 KiB
  // alignment, and users find a block's header by masking an address with its size.
  const std::size_t span = 2 * page_block_bytes;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto begin = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (begin + page_block_bytes - 1) & ~(page_block_bytes - 1);
  if (const std::size_t head = aligned - begin; head != 0) ::munmap(raw, head);
  if (const std::size_t tail = begin + span - (aligned + page_block_bytes); tail != 0) {
    ::munmap(reinterpret_cast<void*>(aligned + page_block_bytes), tail);
  }
  void* block = reinterpret_cast<void*>(aligned);
#if defined(MADV_POPULATE_WRITE)
  // Prefault the block in one call (Linux 5.14+; older kernels refuse it and the block faults
  // on first touch as usual): 512 page-fault traps per block, expensive on a VM, become one
  // system call (fanout: 0.50 -> 0.33 CPU seconds when it came). The whole block is carved
  // sooner or later anyway.
  ::madvise(block, page_block_bytes, MADV_POPULATE_WRITE);
#endif
  return block;
}

void free_page_block(void* block) noexcept { ::munmap(block, page_block_bytes); }

}  // namespace quay::detail
