#include "quay/bots/histogram.hpp"

#include <bit>

namespace quay::bots {

std::size_t latency_histogram::bucket_of(std::uint64_t us) noexcept {
  if (us < sub_buckets) return static_cast<std::size_t>(us);
  const auto e = static_cast<std::size_t>(std::bit_width(us) - 1);  // floor(log2 us), >= 5
  if (e > max_exponent) return bucket_count - 1;
  // The 5 bits below the leading one pick the sub-bucket.
  const auto sub = static_cast<std::size_t>((us >> (e - 5)) & (sub_buckets - 1));
  return sub_buckets + (e - 5) * sub_buckets + sub;
}

std::uint64_t latency_histogram::value_of(std::size_t bucket) noexcept {
  if (bucket < sub_buckets) return bucket;
  const std::size_t e = (bucket - sub_buckets) / sub_buckets + 5;
  const std::size_t sub = (bucket - sub_buckets) % sub_buckets;
  const std::uint64_t width = std::uint64_t{1} << (e - 5);
  const std::uint64_t low = (std::uint64_t{1} << e) + sub * width;
  return low + width / 2;
}

void latency_histogram::record(std::chrono::microseconds v) noexcept {
  const std::uint64_t us = v.count() < 0 ? 0 : static_cast<std::uint64_t>(v.count());
  buckets_[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(us, std::memory_order_relaxed);
  std::uint64_t seen = max_.load(std::memory_order_relaxed);
  while (us > seen && !max_.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
  }
}

void latency_histogram::reset() noexcept {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

std::uint64_t latency_histogram::count() const noexcept {
  return count_.load(std::memory_order_relaxed);
}

std::chrono::microseconds latency_histogram::quantile(double q) const noexcept {
  // Sum the buckets first: count_ may run ahead of them while records are in flight.
  std::uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return std::chrono::microseconds{0};
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total) + 0.5);
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      // A bucket's middle can lie above the largest sample; never report more than that.
      const auto v = value_of(i);
      const auto mx = max_.load(std::memory_order_relaxed);
      return std::chrono::microseconds{static_cast<std::int64_t>(v < mx ? v : mx)};
    }
  }
  return max();
}

std::chrono::microseconds latency_histogram::mean() const noexcept {
  const auto n = count();
  if (n == 0) return std::chrono::microseconds{0};
  return std::chrono::microseconds{
      static_cast<std::int64_t>(sum_.load(std::memory_order_relaxed) / n)};
}

std::chrono::microseconds latency_histogram::max() const noexcept {
  return std::chrono::microseconds{
      static_cast<std::int64_t>(max_.load(std::memory_order_relaxed))};
}

}  // namespace quay::bots
