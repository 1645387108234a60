#include "core/histogram.h"

#include <gtest/gtest.h>

namespace werk::core {
namespace {

TEST(HistogramTest, LatencyBoundsAreLogLinearIntegers) {
  using H = LatencyHistogram;
  const uint64_t expected[] = {8, 12, 16, 24, 32, 48, 64, 96, 128};
  for (size_t i = 0; i < std::size(expected); ++i) EXPECT_EQ(H::Bound(i), expected[i]) << i;
  EXPECT_EQ(H::Bound(36), uint64_t(2097152));  // past FETCH's 2 s wait
  for (size_t i = 1; i < 37; ++i) {
    EXPECT_GT(H::Bound(i), H::Bound(i - 1));
    EXPECT_LE(double(H::Bound(i)) / double(H::Bound(i - 1)), 1.5);
  }
}

TEST(HistogramTest, CountBoundsArePowersOfTwo) {
  using H = CountHistogram;
  for (size_t i = 0; i < 17; ++i) EXPECT_EQ(H::Bound(i), uint64_t(1) << i);
  EXPECT_EQ(H::BucketOf(0), 0u);
  EXPECT_EQ(H::BucketOf(1), 0u);
  EXPECT_EQ(H::BucketOf(2), 1u);
  EXPECT_EQ(H::BucketOf(3), 2u);
  EXPECT_EQ(H::BucketOf(65536), 16u);
  EXPECT_EQ(H::BucketOf(65537), 17u);  // +Inf
}

// Every value lands in the bucket whose bounds enclose it, as `le` reads it.
template <class H>
void CheckEveryValue(uint64_t upto) {
  for (uint64_t v = 0; v <= upto; ++v) {
    const size_t i = H::BucketOf(v);
    ASSERT_LE(i, H::kBuckets - 1) << v;
    if (i < H::kBuckets - 1) {
      ASSERT_LE(v, H::Bound(i)) << v;
    }
    if (i > 0) {
      ASSERT_GT(v, H::Bound(i - 1)) << v;
    }
  }
}

TEST(HistogramTest, BucketOfMatchesTheBounds) {
  CheckEveryValue<LatencyHistogram>(3'000'000);
  CheckEveryValue<CountHistogram>(200'000);
  CheckEveryValue<Histogram<4, 2, 20>>(100'000);
  EXPECT_EQ(LatencyHistogram::BucketOf(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(HistogramTest, RecordsCountsSumAndCumulates) {
  LatencyHistogram h;
  h.Record(5);
  h.Record(8);
  h.Record(9);
  h.Record(100, 3);
  h.Record(10'000'000);  // above every bound
  EXPECT_EQ(h.count, 7u);
  EXPECT_EQ(h.sum, 5u + 8 + 9 + 300 + 10'000'000);
  EXPECT_EQ(h.counts[0], 2u);
  EXPECT_EQ(h.counts[1], 1u);
  EXPECT_EQ(h.counts[LatencyHistogram::BucketOf(100)], 3u);
  EXPECT_EQ(h.counts[LatencyHistogram::kBuckets - 1], 1u);
  EXPECT_EQ(h.Cumulative(1), 3u);
  EXPECT_EQ(h.Cumulative(LatencyHistogram::kBuckets - 2), 6u);
  EXPECT_EQ(h.Cumulative(LatencyHistogram::kBuckets - 1), h.count);
}

TEST(HistogramTest, AddMergesShards) {
  CountHistogram a, b;
  a.Record(1);
  a.Record(64);
  b.Record(64);
  b.Record(1'000'000);
  a.Add(b);
  EXPECT_EQ(a.count, 4u);
  EXPECT_EQ(a.sum, 1u + 64 + 64 + 1'000'000);
  EXPECT_EQ(a.counts[CountHistogram::BucketOf(64)], 2u);
  EXPECT_EQ(a.counts[CountHistogram::kBuckets - 1], 1u);
}

}  // namespace
}  // namespace werk::core
