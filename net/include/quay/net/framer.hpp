#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>

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
/// write, reports the bytes that arrived with commit(), then takes whole frames with next().
/// A header announcing 0 bytes, or more than the max frame size, is an error found from the
/// 4 header bytes alone, before anything is allocated for the payload.
///
/// Memory: an idle reader owns only a small inline area. A receive that fills the area switches
/// to a heap block of `block_bytes` (a busy stream); a frame larger than the block gets a buffer
/// of exactly its size (bounded by the max frame size). When every buffered byte has been
/// consumed and the last receive did not fill its space, the heap memory is released, unless
/// the caller says the stream is still active (prepare(true)).
///
/// Thread contract: owner only (one session's receive path; no internal synchronisation).
class framer {
 public:
  static constexpr std::size_t inline_bytes = 32;
  static constexpr std::size_t default_block_bytes = 16 * 1024;

  /// `max_frame_size` (payload bytes) is clamped to [1, frame_size_cap].
  explicit framer(std::size_t max_frame_size, std::size_t block_bytes = default_block_bytes);
  framer(framer&&) noexcept;
  framer& operator=(framer&&) noexcept;
  ~framer();

  /// Free space where the next receive may write; never empty while error() is clear.
  /// Invalidates payload spans returned by next(). `keep_block`: the caller expects more data
  /// soon (the stream was active a moment ago), so a heap block is kept even after a short
  /// receive; otherwise an empty buffer after a short receive goes back to the inline area.
  std::span<std::byte> prepare(bool keep_block = false);
  /// Records that the first `n` bytes of the last prepare() span were filled.
  void commit(std::size_t n) noexcept;
  /// Takes the next whole frame, if the buffer holds one. `payload` stays valid until the next
  /// prepare(), commit() or release_idle().
  decode_status next(std::span<const std::byte>& payload) noexcept;

  /// Convenience for callers holding bytes already (tests, the fuzzer): copies as much of
  /// `bytes` as fits into free space; returns how many were taken.
  std::size_t feed(std::span<const std::byte> bytes);

  /// The decoding error (frame_too_large, zero_length_frame), or empty.
  std::error_code error() const noexcept { return error_; }
  /// The length from the header that caused the error (for the log line).
  std::uint32_t offending_length() const noexcept { return offending_length_; }
  /// Bytes received but not yet taken as frames.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  /// Heap bytes held now (0 for an idle reader).
  std::size_t heap_bytes() const noexcept { return heap_ ? capacity_ : 0; }
  std::size_t max_frame_size() const noexcept { return max_frame_; }

  /// Gives back heap memory if nothing is buffered. Called by the session when it goes quiet.
  void release_idle() noexcept;

 private:
  std::byte* data() noexcept { return heap_ ? heap_.get() : inline_; }
  void grow_for(std::size_t needed);

  std::unique_ptr<std::byte[]> heap_;
  std::size_t capacity_ = inline_bytes;
  std::size_t begin_ = 0;  // first unconsumed byte
  std::size_t end_ = 0;    // one past the last received byte
  std::size_t max_frame_;
  std::size_t block_bytes_;
  std::size_t last_prepared_ = 0;
  std::error_code error_;
  std::uint32_t offending_length_ = 0;
  bool hot_ = false;  // the last receive filled all the space offered: expect more
  std::byte inline_[inline_bytes];
};

}  // namespace quay::net
