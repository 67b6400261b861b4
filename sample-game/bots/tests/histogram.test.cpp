#include "quay/bots/histogram.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

namespace quay::bots {
namespace {

using us = std::chrono::microseconds;

TEST(LatencyHistogram, SmallValuesAreExact) {
  for (std::uint64_t v = 0; v < 32; ++v) {
    EXPECT_EQ(latency_histogram::bucket_of(v), v);
    EXPECT_EQ(latency_histogram::value_of(v), v);
  }
}

TEST(LatencyHistogram, EveryBucketStandsForAValueWithinThreePercent) {
  for (std::uint64_t v = 32; v < (std::uint64_t{1} << 34); v = v * 21 / 20 + 1) {
    const auto b = latency_histogram::bucket_of(v);
    ASSERT_LT(b, latency_histogram::bucket_count);
    const double rep = static_cast<double>(latency_histogram::value_of(b));
    EXPECT_NEAR(rep / static_cast<double>(v), 1.0, 0.035) << v;
  }
}

TEST(LatencyHistogram, BucketsAreOrderedLikeTheirValues) {
  std::size_t prev = 0;
  for (std::uint64_t v = 0; v < 1'000'000; v += 7) {
    const auto b = latency_histogram::bucket_of(v);
    EXPECT_GE(b, prev);
    prev = b;
  }
}

TEST(LatencyHistogram, QuantilesOfAUniformSampleAreClose) {
  latency_histogram h;
  for (int i = 1; i <= 10000; ++i) h.record(us{i});
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5).count()), 5000, 5000 * 0.035);
  EXPECT_NEAR(static_cast<double>(h.quantile(0.99).count()), 9900, 9900 * 0.035);
  EXPECT_LE(h.quantile(1.0).count(), 10000);
  EXPECT_EQ(h.max().count(), 10000);
  EXPECT_EQ(h.mean().count(), 5000);
}

TEST(LatencyHistogram, AnEmptyHistogramReportsZero) {
  latency_histogram h;
  EXPECT_EQ(h.quantile(0.99).count(), 0);
  EXPECT_EQ(h.mean().count(), 0);
  EXPECT_EQ(h.max().count(), 0);
}

TEST(LatencyHistogram, ResetForgetsEverySample) {
  latency_histogram h;
  for (int i = 1; i <= 100; ++i) h.record(std::chrono::microseconds{i * 1000});
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.99).count(), 0);
  EXPECT_EQ(h.max().count(), 0);
  h.record(std::chrono::microseconds{7});
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.quantile(0.5).count(), 7);
  EXPECT_EQ(h.mean().count(), 7);
}

TEST(LatencyHistogram, OutOfRangeValuesAreClampedNotLost) {
  latency_histogram h;
  h.record(us{-5});
  h.record(us{std::int64_t{1} << 50});
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.quantile(0.0).count(), 0);
}

TEST(LatencyHistogram, RecordsFromManyThreadsAreAllCounted) {
  latency_histogram h;
  constexpr int threads = 4;
  constexpr int per_thread = 50'000;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&h, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < per_thread; ++i) h.record(us{static_cast<int>(rng() % 100000)});
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(h.count(), static_cast<std::uint64_t>(threads * per_thread));
  EXPECT_NEAR(static_cast<double>(h.quantile(0.5).count()), 50000, 50000 * 0.05);
}

}  // namespace
}  // namespace quay::bots
