#include "quay/net/framer.hpp"

#include <algorithm>
#include <cstring>

#include "quay/net/error.hpp"
#include "quay/net/frame.hpp"

namespace quay::net {

framer::framer(std::size_t max_frame_size, std::size_t block_bytes)
    : max_frame_(std::clamp<std::size_t>(max_frame_size, 1, frame_size_cap)),
      block_bytes_(std::max<std::size_t>(block_bytes, 2 * inline_bytes)) {}

framer::framer(framer&& o) noexcept
    : heap_(std::move(o.heap_)),
      capacity_(o.capacity_),
      begin_(o.begin_),
      end_(o.end_),
      max_frame_(o.max_frame_),
      block_bytes_(o.block_bytes_),
      last_prepared_(o.last_prepared_),
      error_(o.error_),
      offending_length_(o.offending_length_),
      hot_(o.hot_) {
  std::memcpy(inline_, o.inline_, inline_bytes);
  o.capacity_ = inline_bytes;
  o.begin_ = o.end_ = 0;
}

framer& framer::operator=(framer&& o) noexcept {
  if (this != &o) {
    this->~framer();
    ::new (this) framer(std::move(o));
  }
  return *this;
}

framer::~framer() = default;

void framer::grow_for(std::size_t needed) {
  // A frame larger than the block gets a buffer of exactly its size; `needed` was validated
  // against the max frame size by the caller, so this never allocates for a hostile length.
  const std::size_t cap = std::max(needed, block_bytes_);
  auto fresh = std::make_unique_for_overwrite<std::byte[]>(cap);
  const std::size_t n = buffered();
  if (n > 0) std::memcpy(fresh.get(), data() + begin_, n);
  heap_ = std::move(fresh);
  capacity_ = cap;
  begin_ = 0;
  end_ = n;
}

std::span<std::byte> framer::prepare(bool keep_block) {
  last_prepared_ = 0;
  if (error_) return {};
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (keep_block && heap_ && capacity_ == block_bytes_) {
      // An active stream keeps its block: no extra receive through the small inline area.
    } else if (!hot_) {
      // Quiet stream: an idle session keeps only the inline area.
      heap_.reset();
      capacity_ = inline_bytes;
    } else if (!heap_ || capacity_ > block_bytes_) {
      // Busy stream: a full block (and a large-frame buffer shrinks back to one).
      heap_.reset();
      capacity_ = inline_bytes;
      grow_for(block_bytes_);
    }
  }

  // How many contiguous bytes the frame at the head needs, when its header is complete and
  // valid. An invalid header is left for next() to report.
  std::size_t needed = 0;
  if (buffered() >= frame_header_bytes) {
    const std::uint32_t len = read_frame_header(data() + begin_);
    if (len != 0 && len <= max_frame_) needed = frame_header_bytes + len;
  }

  if (begin_ > 0 && (end_ == capacity_ || needed > capacity_ - begin_)) {
    std::memmove(data(), data() + begin_, buffered());
    end_ -= begin_;
    begin_ = 0;
  }
  if (needed > capacity_) {
    grow_for(needed);
  } else if (end_ == capacity_) {
    // Only reachable when the caller prepares while a whole frame is still buffered; keep the
    // promise of free space anyway, bounded by what is already held plus one block.
    grow_for(capacity_ + block_bytes_);
  }
  last_prepared_ = capacity_ - end_;
  return {data() + end_, last_prepared_};
}

void framer::commit(std::size_t n) noexcept {
  n = std::min(n, last_prepared_);
  end_ += n;
  hot_ = n > 0 && n == last_prepared_;
  last_prepared_ = 0;
}

decode_status framer::next(std::span<const std::byte>& payload) noexcept {
  if (error_) return decode_status::error;
  if (buffered() < frame_header_bytes) return decode_status::need_more;
  const std::uint32_t len = read_frame_header(data() + begin_);
  if (len == 0 || len > max_frame_) {
    error_ = make_error_code(len == 0 ? errc::zero_length_frame : errc::frame_too_large);
    offending_length_ = len;
    return decode_status::error;
  }
  if (buffered() < frame_header_bytes + len) return decode_status::need_more;
  payload = {data() + begin_ + frame_header_bytes, len};
  begin_ += frame_header_bytes + len;
  return decode_status::frame;
}

std::size_t framer::feed(std::span<const std::byte> bytes) {
  std::span<std::byte> space = prepare();
  const std::size_t n = std::min(space.size(), bytes.size());
  if (n > 0) std::memcpy(space.data(), bytes.data(), n);
  commit(n);
  return n;
}

void framer::release_idle() noexcept {
  if (begin_ != end_) return;
  heap_.reset();
  capacity_ = inline_bytes;
  begin_ = end_ = 0;
  hot_ = false;
}

}  // namespace quay::net
