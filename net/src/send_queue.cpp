#include "quay/net/send_queue.hpp"

#include <algorithm>

namespace quay::net {

bool send_queue::push(frame f) {
  if (!f) return false;
  const std::size_t n = f.wire_size();
  if (!empty() && queued_bytes_ + n > high_water_) return false;
  if (head_ > 0 && head_ == frames_.size()) {
    frames_.clear();
    head_ = 0;
  }
  frames_.push_back(std::move(f));
  queued_bytes_ += n;
  return true;
}

std::size_t send_queue::gather(std::span<const_buffer> out) const noexcept {
  std::size_t count = 0;
  std::size_t offset = head_offset_;
  for (std::size_t i = head_; i < frames_.size(); ++i) {
    const auto wire = frames_[i].wire();
    const std::byte* from = wire.data() + offset;
    const std::size_t n = wire.size() - offset;
    offset = 0;
    // Frames that lie back to back in memory (received frames sent on in order are views of
    // one read block) go out as one buffer.
    if (count > 0 && static_cast<const std::byte*>(out[count - 1].data) + out[count - 1].size == from) {
      out[count - 1].size += n;
      continue;
    }
    if (count == out.size()) break;
    out[count++] = const_buffer{from, n};
  }
  return count;
}

void send_queue::consume(std::size_t bytes) noexcept {
  bytes = std::min(bytes, queued_bytes_);
  queued_bytes_ -= bytes;
  while (bytes > 0 && head_ < frames_.size()) {
    const std::size_t left = frames_[head_].wire_size() - head_offset_;
    if (bytes < left) {
      head_offset_ += bytes;
      return;
    }
    bytes -= left;
    frames_[head_] = frame{};  // drop our reference now, not at compaction
    ++head_;
    head_offset_ = 0;
  }
  if (head_ == frames_.size()) {
    frames_.clear();
    head_ = 0;
    // A burst may have grown the vector; an idle session should not keep that memory.
    if (frames_.capacity() > 64) frames_.shrink_to_fit();
  } else if (head_ >= 64 && head_ * 2 >= frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void send_queue::clear() noexcept {
  frames_.clear();
  frames_.shrink_to_fit();
  head_ = 0;
  head_offset_ = 0;
  queued_bytes_ = 0;
}

}  // namespace quay::net
