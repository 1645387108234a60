#pragma once
// A log-linear latency histogram (HdrHistogram's idea, fixed size): 64
// sub-buckets per power of two, so any recorded value is reported within
// ~1.6%. Values are nanoseconds; merging is element-wise.

#include <array>
#include <bit>
#include <cstdint>

namespace werk::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = 64 * kSub;

  void Record(uint64_t v) {
    ++counts_[Index(v)];
    ++total_;
    if (v > max_) max_ = v;
  }
  void Merge(const Histogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    if (o.max_ > max_) max_ = o.max_;
  }
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  // The value at quantile q (0..1): the upper edge of its bucket.
  uint64_t Quantile(double q) const {
    if (total_ == 0) return 0;
    uint64_t rank = uint64_t(q * double(total_));
    if (rank >= total_) rank = total_ - 1;
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) {
        const uint64_t hi = UpperEdge(i);
        return hi < max_ ? hi : max_;
      }
    }
    return max_;
  }

 private:
  static int Index(uint64_t v) {
    if (v < kSub) return int(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    return (shift + 1) * kSub + int((v >> shift) & (kSub - 1));
  }
  static uint64_t UpperEdge(int i) {
    if (i < kSub) return uint64_t(i);
    const int shift = i / kSub - 1;
    const uint64_t mant = uint64_t(i % kSub) | kSub;
    return ((mant + 1) << shift) - 1;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace werk::bench
