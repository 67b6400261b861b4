#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace quay::bots {

/// A latency histogram with log-linear buckets: exact below 32 µs, then 32 buckets per power of
/// two (about 3% resolution) up to 2^40 µs. Fixed size, no allocation after construction.
///
/// Thread contract: record() is thread-safe and lock-free (relaxed atomics: thousands of bots
/// on a few workers record into one histogram); reads are thread-safe and give a snapshot that
/// may miss records in flight.
class latency_histogram {
 public:
  /// Adds one sample. Negative values count as 0; values past the range go to the last bucket.
  void record(std::chrono::microseconds v) noexcept;

  /// Samples recorded.
  std::uint64_t count() const noexcept;
  /// The value below which a fraction `q` (0..1) of the samples lie (the middle of its bucket),
  /// or 0 when empty.
  std::chrono::microseconds quantile(double q) const noexcept;
  /// Mean of the samples (exact: from the running sum), or 0 when empty.
  std::chrono::microseconds mean() const noexcept;
  /// Largest sample (exact), or 0 when empty.
  std::chrono::microseconds max() const noexcept;

  /// Forgets every sample (the end of a load run's warm-up). Thread-safe, but a record()
  /// running at the same moment may be lost or counted in part (say, in the sum and not in its
  /// bucket): call it at a phase boundary, where a sample or two does not matter. quantile()
  /// reads the buckets alone, so it stays consistent either way.
  void reset() noexcept;

  /// The bucket a value falls in, and the value a bucket stands for. Exposed for tests.
  static std::size_t bucket_of(std::uint64_t us) noexcept;
  static std::uint64_t value_of(std::size_t bucket) noexcept;

  static constexpr std::size_t sub_buckets = 32;  // per power of two (5 bits)
  static constexpr std::size_t max_exponent = 40;
  static constexpr std::size_t bucket_count = sub_buckets + (max_exponent - 4) * sub_buckets;

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace quay::bots
