// The read blocks' per-thread cache (internal to quay_net_core).
//
// A framer's read block is a detail::shared_bytes allocation laid out as
// [refs:4][capacity:4][lead:4][data...]. Busy sessions take and drop such blocks all the time:
// a block is let go when the stream goes quiet, or handed on while frames in it are still being
// handled, and the last frame to go frees it, on whichever thread that is. Going to malloc for
// each was measured: a malloc/free per quiet session's next update (about 5% of the bots' CPU),
// and, for 60 KiB blocks in a fresh process, glibc trimming and regrowing the heap top on
// every free (the actor echo at 16 KiB frames ran at 0.6x its later speed until something
// raised glibc's dynamic trim threshold).
//
// So a block is marked (block_flag in its reference count) and its last release puts it in the
// releasing thread's cache instead of freeing it; take_block() on that thread hands it out
// again. Each thread's cache is bounded (max_cached_blocks blocks, max_cached_bytes bytes, and
// only blocks of at most max_cached_block_bytes), so it never holds more than 1 MiB, whatever
// the traffic; what does not fit is freed. (256 KiB, four 60 KiB blocks, was measured too
// small: the actor echo at 16 KiB frames, 10 sessions, still went to malloc for a quarter to a
// half of its blocks; at 1 MiB, for under 100 in 2 seconds.)
//
// Thread contract: take_block() and the cache are per thread, no locks. A block may be released
// on any thread: the release that drops the last reference is acq_rel (release_shared_bytes),
// so every reader of the block's bytes is done before the block is recycled and written again.
// A thread's cache is emptied when the thread exits (quay::detail::at_thread_exit, the
// runtime's per-thread cleanup); a release on that thread after that frees the block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quay/net/frame.hpp"

namespace quay::net::detail {

/// Bytes before a block's data (reference count, capacity, lead).
inline constexpr std::size_t block_data_offset = 12;

inline constexpr std::size_t max_cached_blocks = 16;
inline constexpr std::size_t max_cached_bytes = 1024 * 1024;
inline constexpr std::size_t max_cached_block_bytes = 64 * 1024;

/// A block of `usable` data bytes with one reference and block_flag set: from this thread's
/// cache when it holds one of exactly that size, else freshly allocated.
shared_bytes* take_block(std::size_t usable);
/// A block's usable size (the 4 bytes after its reference count).
inline std::uint32_t block_capacity(const shared_bytes* b) noexcept {
  return *reinterpret_cast<const std::uint32_t*>(reinterpret_cast<const std::byte*>(b) +
                                                 sizeof(shared_bytes));
}
/// Called by release_shared_bytes when the last reference to a flagged block is gone: keeps it
/// in this thread's cache if there is room, else frees it.
void recycle_block(shared_bytes* b) noexcept;
/// Blocks and usable bytes in this thread's cache (tests).
std::size_t cached_blocks() noexcept;
std::size_t cached_block_bytes() noexcept;
/// Frees this thread's cached blocks (tests; the cache also empties itself at thread exit).
void drain_block_cache() noexcept;

}  // namespace quay::net::detail
