#pragma once
/// Large blocks of memory straight from the OS, for pools that carve many small objects.

#include <cstddef>

namespace quay::detail {

/// Size and alignment of a block from allocate_page_block: 2 MiB (users find a block's header
/// by masking an address inside it).
inline constexpr std::size_t page_block_bytes = std::size_t{2} << 20;

/// Returns `page_block_bytes` of zero-filled memory aligned to `page_block_bytes`, from the OS,
/// not the C++ heap. The block is committed (prefaulted) up front in one call where the OS
/// allows it (Linux MADV_POPULATE_WRITE, Windows MEM_COMMIT), else on first touch. No huge
/// pages are asked for: their cost depends on the host's memory state (see pages.cpp).
/// Throws std::bad_alloc. Thread-safe.
void* allocate_page_block();

/// Returns a block from allocate_page_block to the OS. Thread-safe.
void free_page_block(void* block) noexcept;

}  // namespace quay::detail
