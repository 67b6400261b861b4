#include "quay/net/send_queue.hpp"

#include <algorithm>

namespace quay::net {

std::size_t send_queue::item_size(std::size_t i) const noexcept {
  const frame& f = frames_[i];
  if (prefix_ == nullptr) return f.wire_size();
  if (raw_[i]) return f.payload_size();
  std::byte scratch[max_prefix_bytes];
  return prefix_(f.payload_size(), scratch) + f.payload_size();
}

bool send_queue::push_raw(frame f) {
  if (!f || prefix_ == nullptr) return false;
  if (head_ > 0 && head_ == frames_.size()) {
    frames_.clear();
    raw_.clear();
    head_ = 0;
  }
  queued_bytes_ += f.payload_size();
  frames_.push_back(std::move(f));
  raw_.push_back(true);
  burst_peak_ = std::max(burst_peak_, frames_.size() - head_);
  return true;
}

bool send_queue::push(frame f) {
  if (!f) return false;
  std::size_t n = f.wire_size();
  if (prefix_ != nullptr) {
    std::byte scratch[max_prefix_bytes];
    n = prefix_(f.payload_size(), scratch) + f.payload_size();
  }
  if (!empty() && queued_bytes_ + n > high_water_) return false;
  if (head_ > 0 && head_ == frames_.size()) {
    frames_.clear();
    raw_.clear();
    head_ = 0;
  }
  if (prefix_ != nullptr) raw_.push_back(false);
  frames_.push_back(std::move(f));
  queued_bytes_ += n;
  burst_peak_ = std::max(burst_peak_, frames_.size() - head_);
  return true;
}

std::size_t send_queue::gather(std::span<const_buffer> out,
                              std::span<std::byte> scratch) const noexcept {
  std::size_t count = 0;
  std::size_t offset = head_offset_;
  std::size_t used = 0;  // scratch bytes
  for (std::size_t i = head_; i < frames_.size(); ++i) {
    const frame& f = frames_[i];
    const auto payload = f.payload();
    std::size_t plen = 0;
    std::byte* prefix = scratch.data() + used;
    if (!raw_[i]) {
      if (scratch.size() - used < max_prefix_bytes) break;
      plen = prefix_(payload.size(), prefix);
    }
    // A partly sent frame: skip what went out, in the prefix and then in the payload.
    const std::size_t skip_prefix = std::min(offset, plen);
    const std::size_t skip_payload = offset - skip_prefix;
    offset = 0;
    const std::size_t need = (plen > skip_prefix ? 1 : 0) + 1;
    if (out.size() - count < need) break;
    if (plen > skip_prefix) {
      out[count++] = const_buffer{prefix + skip_prefix, plen - skip_prefix};
      used += plen;
    }
    out[count++] = const_buffer{payload.data() + skip_payload, payload.size() - skip_payload};
  }
  return count;
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
    const std::size_t left = item_size(head_) - head_offset_;
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
    raw_.clear();
    head_ = 0;
    end_burst();
  } else if (head_ >= 64 && head_ * 2 >= frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    if (prefix_ != nullptr) raw_.erase(raw_.begin(), raw_.begin() + static_cast<std::ptrdiff_t>(head_));
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
  raw_.clear();
  burst_peak_ = 0;
  small_bursts_ = 0;
  head_ = 0;
  head_offset_ = 0;
  queued_bytes_ = 0;
}

}  // namespace quay::net
