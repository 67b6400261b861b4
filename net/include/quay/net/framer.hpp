#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>

#include "quay/runtime/detail/owner_check.hpp"
#include "quay/net/frame.hpp"

namespace quay::net {

/// What framer::next() found.
enum class decode_status {
  frame,      ///< a whole frame: its payload is in the out-parameter
  need_more,  ///< the buffered bytes end inside a header or a payload
  error,      ///< the stream cannot be frames (see framer::error()); sticky
};

/// The read side of a session: a receive buffer that decodes a byte stream into frames
/// incrementally, however the stream was split or merged by the network.
///
/// A pure core: no I/O, no clock. The session asks prepare() where the next receive may
/// write, reports the bytes that arrived with commit(), then takes whole frames with
/// next_frame() (or next() for a plain span). A header announcing 0 bytes, or more than the max
/// frame size, is an error found from the 4 header bytes alone, before anything is allocated
/// for the payload.
///
/// Memory: an idle reader owns only a small inline area. A receive that fills the area switches
/// to a heap block of `block_bytes` (a busy stream). A stream of large frames gets larger blocks
/// (four times the frame, at most large_block_bytes, so one receive takes several frames), and a
/// frame larger than that a block of exactly its size (bounded by the max frame size). When
/// every buffered byte has been consumed and the last receive did not fill its space, the
/// reader lets go of its block, unless the caller says the stream is still active
/// (prepare(true)). A busy reader also keeps the block it used before the current one: it
/// takes that one again, from its start, as soon as no frame references it, so a busy session
/// uses two blocks in turn (no malloc/free per block, and only their first bytes are touched
/// when receives are small); it lets go of both when the stream goes quiet.
///
/// Frames without copies: the block is shared (detail::shared_bytes), and next_frame() returns
/// a frame that is a view into it when the payload lies 8-byte aligned there; the block then
/// lives until the last such frame is gone, and the reader never writes over bytes a frame may
/// still reference: it continues after them or moves to a fresh block (copying only the
/// unfinished frame at the head). The first byte of a block sits 4 bytes before an 8-byte
/// boundary, so when every frame's wire size is a multiple of 8 (senders pad: see
/// docs/protocol.md) every payload is aligned; other frames, and frames decoded from the inline
/// area, are copied into a frame of their own.
///
/// Thread contract: owner only (one session's receive path; no internal synchronisation): one
/// caller at a time, which Debug builds assert (detail::owner_check). The frames it returns
/// follow frame's contract (any thread).
class framer {
 public:
  static constexpr std::size_t inline_bytes = 32;
  static constexpr std::size_t default_block_bytes = 8 * 1024;
  /// The largest block a stream of large frames is given (a frame over it gets its own size).
  /// Under 64 KiB: glibc trims a thread arena (madvise, a TLB shootdown on a VM) each time a
  /// chunk of 64 KiB or more is freed, and blocks are freed by whichever thread drops the last
  /// frame.
  static constexpr std::size_t large_block_bytes = 60 * 1024;

  /// `max_frame_size` (payload bytes) is clamped to [1, frame_size_cap].
  explicit framer(std::size_t max_frame_size, std::size_t block_bytes = default_block_bytes);
  framer(framer&&) noexcept;
  framer& operator=(framer&&) noexcept;
  framer(const framer&) = delete;
  framer& operator=(const framer&) = delete;
  ~framer();

  /// Free space where the next receive may write; never empty while error() is clear.
  /// Invalidates payload spans returned by next() (not frames from next_frame()). `keep_block`:
  /// the caller expects more data soon (the stream was active a moment ago), so a heap block is
  /// kept even after a short receive; otherwise an empty buffer after a short receive goes back
  /// to the inline area.
  std::span<std::byte> prepare(bool keep_block = false);
  /// Records that the first `n` bytes of the last prepare() span were filled.
  void commit(std::size_t n) noexcept;
  /// Takes the next whole frame, if the buffer holds one. `payload` stays valid until the next
  /// prepare(), commit() or release_idle().
  decode_status next(std::span<const std::byte>& payload) noexcept;
  /// Takes the next whole frame as a shared frame: a view into the read block when its payload
  /// is 8-aligned there, else a copy. The frame stays valid on its own.
  decode_status next_frame(frame& out);

  /// Convenience for callers holding bytes already (tests, the fuzzer): copies as much of
  /// `bytes` as fits into free space; returns how many were taken.
  std::size_t feed(std::span<const std::byte> bytes);

  /// The decoding error (frame_too_large, zero_length_frame), or empty.
  std::error_code error() const noexcept { return error_; }
  /// The length from the header that caused the error (for the log line).
  std::uint32_t offending_length() const noexcept { return offending_length_; }
  /// Bytes received but not yet taken as frames.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  /// Usable bytes of the heap blocks held now, the reused one included (0 for an idle reader).
  std::size_t heap_bytes() const noexcept;
  std::size_t max_frame_size() const noexcept { return max_frame_; }

  /// Lets go of the heap blocks if nothing is buffered (frames taken from them keep them
  /// alive). Called by the session when it goes quiet.
  void release_idle() noexcept;

 private:
  std::byte* data() noexcept;
  // True when no frame references the block: its bytes may be overwritten.
  bool exclusive() const noexcept;
  // The size of a new block for a head frame of `needed` wire bytes (0: unknown).
  std::size_t block_size_for(std::size_t needed) const noexcept;
  // Moves the buffered bytes into a fresh block of `usable` bytes.
  void switch_block(std::size_t usable);
  void drop_block() noexcept;
  // Lets go of both blocks and returns to the inline area.
  void go_inline() noexcept;

  detail::shared_bytes* block_ = nullptr;  // the heap block, or null for the inline area
  detail::shared_bytes* spare_ = nullptr;  // the block before it, reused once unreferenced
  std::uint32_t capacity_ = inline_bytes;   // usable bytes at data()
  std::uint32_t begin_ = 0;                 // first unconsumed byte
  std::uint32_t end_ = 0;                   // one past the last received byte
  std::uint32_t max_frame_;
  std::uint32_t block_bytes_;
  std::uint32_t busy_block_ = 0;  // the size of blocks while the stream stays busy (0: block_bytes_)
  std::uint32_t last_prepared_ = 0;
  std::uint32_t offending_length_ = 0;
  std::error_code error_;
  bool hot_ = false;  // the last receive filled all the space offered: expect more
  [[no_unique_address]] quay::detail::owner_check owner_;
  std::byte inline_[inline_bytes];
};

}  // namespace quay::net
