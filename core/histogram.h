#pragma once
// A fixed-bucket histogram of non-negative integer samples (µs, records…),
// as Prometheus exports one: a count per bucket, the sum and the count.
//
// The bounds are log-linear and fixed at compile time, chosen per use:
// octaves starting at 2^kFirstLog2, each split into 2^kSubLog2 equal steps
// (HdrHistogram's layout, coarse). With kFirstLog2 = 3, kSubLog2 = 1 the
// bounds are 8, 12, 16, 24, 32, 48, …: every bound is an integer, adjacent
// bounds differ by a factor of at most 1.5, and a sample's bucket comes from
// its bit width — O(1), no search, no allocation. Bucket i counts the samples
// v with Bound(i-1) < v <= Bound(i) (Prometheus' `le`); the last bucket,
// kBuckets - 1, counts those above every bound (`+Inf`). Counts are kept per
// bucket, not cumulated: Cumulative(i) gives `le` counts.
//
// A plain aggregate: copying one is a memcpy of (kBounds + 3) words, so a
// shard can carry its histograms in a published snapshot, and Add() merges
// the shards' for the whole server. Not thread-safe (one owner thread).

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace werk::core {

template <unsigned kFirstLog2, unsigned kSubLog2, size_t kBounds>
struct Histogram {
  static_assert(kFirstLog2 >= kSubLog2, "bounds must be integers");
  static_assert(kBounds >= 1 && kFirstLog2 + kBounds / (1u << kSubLog2) < 63, "bounds overflow");
  static constexpr size_t kSub = size_t(1) << kSubLog2;
  static constexpr size_t kBuckets = kBounds + 1;  // the last one: +Inf

  // The upper bound (inclusive) of bucket i < kBounds.
  static constexpr uint64_t Bound(size_t i) {
    const uint64_t octave = uint64_t(1) << (kFirstLog2 + i / kSub);
    return octave + (i % kSub) * (octave >> kSubLog2);
  }

  // The bucket of sample v.
  static constexpr size_t BucketOf(uint64_t v) {
    if (v <= Bound(0)) return 0;
    // x = v - 1 lies in [Bound(i-1), Bound(i)) exactly when v is in bucket
    // i; its octave is its bit width, its step the bits just below the top.
    const uint64_t x = v - 1;
    const unsigned octave = unsigned(std::bit_width(x)) - 1 - kFirstLog2;
    const uint64_t step = (x >> (kFirstLog2 + octave - kSubLog2)) & (kSub - 1);
    const size_t i = size_t(octave) * kSub + size_t(step) + 1;
    return i < kBounds ? i : kBounds;
  }

  void Record(uint64_t v) {
    ++counts[BucketOf(v)];
    sum += v;
    ++count;
  }
  // `n` samples of value v.
  void Record(uint64_t v, uint64_t n) {
    counts[BucketOf(v)] += n;
    sum += v * n;
    count += n;
  }
  void Add(const Histogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts[i] += other.counts[i];
    sum += other.sum;
    count += other.count;
  }
  // Samples <= Bound(i) (i = kBounds: all of them).
  uint64_t Cumulative(size_t i) const {
    uint64_t n = 0;
    for (size_t j = 0; j <= i && j < kBuckets; ++j) n += counts[j];
    return n;
  }

  std::array<uint64_t, kBuckets> counts{};
  uint64_t sum = 0;
  uint64_t count = 0;
};

// Latencies in µs: 8 µs to ~2.1 s (8·2^18 µs, FETCH's 2 s wait included),
// adjacent bounds a factor 1.33-1.5 apart; 37 bounds.
using LatencyHistogram = Histogram<3, 1, 37>;
// Counts (records per write of the log): 1, 2, 4, … 65536; 17 bounds.
using CountHistogram = Histogram<0, 0, 17>;

}  // namespace werk::core
