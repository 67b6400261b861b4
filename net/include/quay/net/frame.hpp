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

namespace detail {
/// The start of every allocation a frame can share: its reference count. A frame made by
/// frame::make owns a block of its own; a received frame may instead be a view into the
/// framer's read block, which lives while any frame references it. Internal.
struct shared_bytes {
  std::atomic<std::uint32_t> refs;  // the count, and in bit 31 a read block's mark (block_cache)
};
/// Marks a read block in shared_bytes::refs: its last release recycles it (block_cache).
inline constexpr std::uint32_t block_flag = 1u << 31;
/// The reference count proper (below the flag).
inline constexpr std::uint32_t ref_mask = block_flag - 1;
/// A fresh shared allocation of `total` bytes (count included) with one reference.
shared_bytes* allocate_shared_bytes(std::size_t total);
/// Drops one reference; the last one frees the allocation (a read block goes to the releasing
/// thread's block cache instead). Any thread.
void release_shared_bytes(shared_bytes* b) noexcept;
}  // namespace detail

class framer;

/// An encoded frame (header + payload, contiguous): an immutable, reference-counted buffer.
///
/// Copying a frame shares the bytes, so one frame encoded once can sit in many sessions' send
/// queues at the same time (the area-of-interest broadcast) without being copied. The payload
/// starts 8-byte aligned, so a flatbuffer read from it is aligned.
///
/// A received frame is usually a view into the session's read block rather than a buffer of its
/// own (no copy on the receive path); it keeps that whole block alive, so code that holds a
/// received frame for long (minutes, not a turn or a send) should keep frame::copy_of(payload())
/// instead.
///
/// Thread contract: the bytes never change after creation, so any thread may read them; the
/// reference count is atomic, so copies may be made and destroyed on any thread. One `frame`
/// object itself is, like any value, used by one thread at a time.
class frame {
 public:
  frame() noexcept = default;
  frame(const frame& other) noexcept : owner_(other.owner_), wire_(other.wire_) {
    if (owner_ != nullptr) owner_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  frame(frame&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), wire_(std::exchange(other.wire_, nullptr)) {}
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
    if (f) {
      std::forward<Fill>(fill)(
          std::span<std::byte>(const_cast<std::byte*>(f.wire_) + frame_header_bytes, payload_size));
    }
    return f;
  }
  /// A frame holding a copy of `payload` (empty frame when its size is 0 or over the cap).
  /// Thread-safe.
  static frame copy_of(std::span<const std::byte> payload);

  explicit operator bool() const noexcept { return owner_ != nullptr; }
  /// The payload (an Envelope flatbuffer on the Quay protocol). Any thread.
  std::span<const std::byte> payload() const noexcept {
    if (owner_ == nullptr) return {};
    return {wire_ + frame_header_bytes, size()};
  }
  /// The bytes that go on the wire: header then payload. Any thread.
  std::span<const std::byte> wire() const noexcept {
    if (owner_ == nullptr) return {};
    return {wire_, frame_header_bytes + size()};
  }
  std::size_t payload_size() const noexcept { return owner_ == nullptr ? 0 : size(); }
  std::size_t wire_size() const noexcept {
    return owner_ == nullptr ? 0 : frame_header_bytes + size();
  }
  /// How many frame objects (and read buffers) share these bytes (a snapshot; for tests and
  /// metrics). Any thread.
  std::uint32_t use_count() const noexcept {
    return owner_ == nullptr ? 0 : owner_->refs.load(std::memory_order_relaxed) & detail::ref_mask;
  }

  void swap(frame& other) noexcept {
    std::swap(owner_, other.owner_);
    std::swap(wire_, other.wire_);
  }

 private:
  friend class framer;
  // A view of the frame whose header starts at `wire`, inside `owner`'s allocation; takes a
  // reference. The caller guarantees the payload is 8-aligned. For the framer.
  frame(detail::shared_bytes* owner, const std::byte* wire) noexcept : owner_(owner), wire_(wire) {
    owner_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  std::size_t size() const noexcept { return read_frame_header(wire_); }

  // A frame of its own: [refs:4][header:4][payload...]. The allocation is at least 8-aligned,
  // so the payload starts 8-aligned and the header sits right before it, contiguous for the
  // wire.
  static frame allocate(std::size_t payload_size);
  void release() noexcept {
    if (owner_ != nullptr) detail::release_shared_bytes(std::exchange(owner_, nullptr));
    wire_ = nullptr;
  }

  detail::shared_bytes* owner_ = nullptr;
  const std::byte* wire_ = nullptr;  // header then payload, inside *owner_
};

}  // namespace quay::net
