#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace quay::net {

/// Bytes of the frame header: the payload length as a 4-byte little-endian unsigned integer.
inline constexpr std::size_t frame_header_bytes = 4;
/// The largest max-frame-size any session may be configured with. Kept far below the 2 GiB a
/// flatbuffers Verifier accepts.
inline constexpr std::size_t frame_size_cap = std::size_t{64} << 20;

/// Writes `n` as the 4-byte little-endian frame header at `out`. Thread-safe (pure).
inline void write_frame_header(std::byte* out, std::uint32_t n) noexcept {
  out[0] = static_cast<std::byte>(n & 0xffu);
  out[1] = static_cast<std::byte>((n >> 8) & 0xffu);
  out[2] = static_cast<std::byte>((n >> 16) & 0xffu);
  out[3] = static_cast<std::byte>((n >> 24) & 0xffu);
}
/// Reads a 4-byte little-endian frame header. Thread-safe (pure).
inline std::uint32_t read_frame_header(const std::byte* in) noexcept {
  return static_cast<std::uint32_t>(in[0]) | (static_cast<std::uint32_t>(in[1]) << 8) |
         (static_cast<std::uint32_t>(in[2]) << 16) | (static_cast<std::uint32_t>(in[3]) << 24);
}

/// An encoded frame (header + payload, contiguous): an immutable, reference-counted buffer.
///
/// Copying a frame shares the bytes, so one frame encoded once can sit in many sessions' send
/// queues at the same time (the area-of-interest broadcast) without being copied. The payload
/// starts 8-byte aligned, so a flatbuffer read from it is aligned.
///
/// Thread contract: the bytes never change after creation, so any thread may read them; the
/// reference count is atomic, so copies may be made and destroyed on any thread. One `frame`
/// object itself is, like any value, used by one thread at a time.
class frame {
 public:
  frame() noexcept = default;
  frame(const frame& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  frame(frame&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  frame& operator=(const frame& other) noexcept {
    frame tmp(other);
    swap(tmp);
    return *this;
  }
  frame& operator=(frame&& other) noexcept {
    frame tmp(std::move(other));
    swap(tmp);
    return *this;
  }
  ~frame() { release(); }

  /// A frame of `payload_size` bytes whose payload `fill` writes once (it receives a
  /// std::span<std::byte> of exactly that size). Returns an empty frame when the size is 0 or
  /// over frame_size_cap. Thread-safe.
  template <class Fill>
  static frame make(std::size_t payload_size, Fill&& fill) {
    frame f = allocate(payload_size);
    if (f) std::forward<Fill>(fill)(std::span<std::byte>(f.block_->payload(), payload_size));
    return f;
  }
  /// A frame holding a copy of `payload` (empty frame when its size is 0 or over the cap).
  /// Thread-safe.
  static frame copy_of(std::span<const std::byte> payload);

  explicit operator bool() const noexcept { return block_ != nullptr; }
  /// The payload (an Envelope flatbuffer on the Quay protocol). Any thread.
  std::span<const std::byte> payload() const noexcept {
    if (block_ == nullptr) return {};
    return {block_->payload(), block_->size()};
  }
  /// The bytes that go on the wire: header then payload. Any thread.
  std::span<const std::byte> wire() const noexcept {
    if (block_ == nullptr) return {};
    return {block_->header(), frame_header_bytes + block_->size()};
  }
  std::size_t payload_size() const noexcept { return block_ == nullptr ? 0 : block_->size(); }
  std::size_t wire_size() const noexcept {
    return block_ == nullptr ? 0 : frame_header_bytes + block_->size();
  }
  /// How many frame objects share these bytes (a snapshot; for tests and metrics). Any thread.
  std::uint32_t use_count() const noexcept {
    return block_ == nullptr ? 0 : block_->refs.load(std::memory_order_relaxed);
  }

  void swap(frame& other) noexcept { std::swap(block_, other.block_); }

 private:
  // Layout: [refs:4][header:4][payload...]. The allocation is at least 8-aligned, so the
  // payload starts 8-aligned and the header sits right before it, contiguous for the wire.
  struct block {
    std::atomic<std::uint32_t> refs;
    std::byte wire_header[frame_header_bytes];  // the payload length, little-endian
    std::byte* header() noexcept { return wire_header; }
    std::byte* payload() noexcept { return reinterpret_cast<std::byte*>(this) + sizeof(block); }
    std::uint32_t size() const noexcept { return read_frame_header(wire_header); }
  };
  static_assert(sizeof(block) == 8);

  static frame allocate(std::size_t payload_size);
  void release() noexcept;

  block* block_ = nullptr;
};

}  // namespace quay::net
