#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quay/net/frame.hpp"
#include "quay/runtime/socket.hpp"

namespace quay::net {

/// The write side of a session: frames waiting to be sent, handed to the socket as one gather
/// write of up to quay::max_send_buffers frames at a time.
///
/// A pure core: no I/O. Frames are shared (see frame), so queueing one copies no bytes. The
/// queue refuses a frame that would take the unsent bytes over the high-water mark; the
/// session turns that refusal into a "slow reader" disconnect. A frame offered to an empty
/// queue is always taken, so a single frame larger than the mark can still be sent.
///
/// Thread contract: owner only (one session's send path; no internal synchronisation).
class send_queue {
 public:
  explicit send_queue(std::size_t high_water_bytes) noexcept : high_water_(high_water_bytes) {}

  /// Writes the header sent before a payload of `payload_bytes` in prefixed mode into `out`
  /// (at most max_prefix_bytes) and returns its length. Pure.
  using prefix_fn = std::size_t (*)(std::size_t payload_bytes, std::byte* out) noexcept;
  static constexpr std::size_t max_prefix_bytes = 10;

  /// Switches to prefixed mode (a WebSocket session): a frame pushed with push() is sent as
  /// prefix(payload size) then its payload (the 4-byte Quay header is not sent), so one encoded
  /// frame still goes to TCP and WebSocket sessions alike; push_raw() frames are sent as their
  /// payload alone (control bytes made by the session). Only while the queue is empty.
  void use_prefix(prefix_fn fn) noexcept { prefix_ = fn; }
  bool prefixed() const noexcept { return prefix_ != nullptr; }

  /// Queues `f`; false (nothing queued) when it would pass the high-water mark or `f` is empty.
  bool push(frame f);
  /// Prefixed mode: queues `f` to be sent as its payload bytes only. Never refused for the
  /// high-water mark (the session's own control bytes). False if `f` is empty.
  bool push_raw(frame f);
  /// Fills `out` with the unsent bytes in order, one buffer per frame or per run of frames that
  /// lie back to back in memory (the first may be partly sent already), at most out.size()
  /// buffers. Returns how many were filled.
  std::size_t gather(std::span<const_buffer> out) const noexcept;
  /// Prefixed mode: as gather(), each frame as a prefix buffer (written into `scratch`, which
  /// must hold max_prefix_bytes per buffer pair and stay untouched until the write completes)
  /// and a payload buffer. Returns how many buffers were filled.
  std::size_t gather(std::span<const_buffer> out, std::span<std::byte> scratch) const noexcept;
  /// Records that `bytes` more bytes went out; frames sent in full are dropped. The queue keeps
  /// the capacity a burst grew it to: it gives it back only after 256 bursts in a row that each
  /// needed at most a quarter of it, so a session's steady pattern never reallocates and a
  /// storm's memory is not pinned for long once the traffic is small again.
  void consume(std::size_t bytes) noexcept;
  /// Drops everything (the session is gone).
  void clear() noexcept;

  /// Bytes queued and not yet sent.
  std::size_t queued_bytes() const noexcept { return queued_bytes_; }
  /// Frames queued (including a partly sent one).
  std::size_t size() const noexcept { return frames_.size() - head_; }
  bool empty() const noexcept { return size() == 0; }
  std::size_t high_water() const noexcept { return high_water_; }
  /// Frames the queue can hold without allocating (for tests and metrics).
  std::size_t capacity() const noexcept { return frames_.capacity(); }

 private:
  void end_burst() noexcept;
  std::size_t item_size(std::size_t i) const noexcept;

  std::vector<frame> frames_;  // [head_, end) are pending; compacted as the head advances
  std::vector<bool> raw_;      // prefixed mode: frames_[i] goes without a prefix (parallel)
  prefix_fn prefix_ = nullptr;
  std::size_t head_ = 0;
  std::size_t head_offset_ = 0;  // bytes of frames_[head_] already sent
  std::size_t queued_bytes_ = 0;
  std::size_t high_water_;
  // Trim policy (consume): capacity is kept between bursts; it is given back (down to
  // trim_floor) only after trim_after bursts in a row each used at most a quarter of it.
  static constexpr std::size_t trim_floor = 64;
  static constexpr std::uint32_t trim_after = 256;
  std::size_t burst_peak_ = 0;   // most frames pending at once in the current burst
  std::uint32_t small_bursts_ = 0;
};

}  // namespace quay::net
