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
  burst_peak_ = std::max(burst_peak_, frames_.size() - head_);
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
    end_burst();
  } else if (head_ >= 64 && head_ * 2 >= frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void send_queue::end_burst() noexcept {
  // Bounded, non-thrashing trim: one reallocation at most per trim_after small bursts, and a
  // burst that needs more than a quarter of the capacity keeps all of it.
  const std::size_t cap = frames_.capacity();
  if (cap > trim_floor && burst_peak_ * 4 <= cap) {
    if (++small_bursts_ >= trim_after) {
      std::vector<frame>().swap(frames_);
      // Reserve may throw; an empty vector is as good (it grows again on demand).
      try {
        frames_.reserve(std::max(trim_floor, burst_peak_ * 2));
      } catch (...) {
      }
      small_bursts_ = 0;
    }
  } else {
    small_bursts_ = 0;
  }
  burst_peak_ = 0;
}

void send_queue::clear() noexcept {
  frames_.clear();
  frames_.shrink_to_fit();
  burst_peak_ = 0;
  small_bursts_ = 0;
  head_ = 0;
  head_offset_ = 0;
  queued_bytes_ = 0;
}

}  // namespace quay::net
