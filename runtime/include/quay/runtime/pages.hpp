#pragma once
/// Large blocks of memory straight from the OS, for pools that carve many small objects.

#include <cstddef>

namespace quay::detail {

/// Size and alignment of a block from allocate_page_block: 2 MiB, one huge page on x86-64 Linux.
inline constexpr std::size_t page_block_bytes = std::size_t{2} << 20;

/// Returns `page_block_bytes` of zero-filled memory aligned to `page_block_bytes`, from the OS,
/// not the C++ heap. Where the OS supports it (Linux transparent huge pages in `madvise` mode)
/// the block is backed by a huge page, so touching it costs one page fault instead of 512.
/// The block is committed (prefaulted) up front where the OS allows it, else on first touch.
/// Throws std::bad_alloc. Thread-safe.
void* allocate_page_block();

/// Returns a block from allocate_page_block to the OS. Thread-safe.
void free_page_block(void* block) noexcept;

}  // namespace quay::detail
