#include "bench/loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pamatch::loadgen {
namespace {

// 2^7 sub-buckets per power of two.
constexpr int kSubBits = 7;
constexpr uint64_t kSubCount = uint64_t{1} << kSubBits;
// Octave 0 holds 0..255 one value per bucket (indexes 0..255); octave k >= 1
// holds [2^(k+7), 2^(k+8)) in 128 buckets (indexes 128*(k+1) ..).
constexpr int kBucketCount = static_cast<int>(kSubCount) * (42 - kSubBits + 2);

}  // namespace

int LatencyHistogram::BucketIndex(uint64_t value_ns) {
  value_ns = std::min(value_ns, kMaxValueNs);
  if (value_ns < 2 * kSubCount) return static_cast<int>(value_ns);
  const int msb = 63 - std::countl_zero(value_ns);  // >= 8
  const int shift = msb - kSubBits;                 // >= 1
  const uint64_t mantissa = (value_ns >> shift) & (kSubCount - 1);
  return static_cast<int>(kSubCount) * (shift + 1) + static_cast<int>(mantissa);
}

uint64_t LatencyHistogram::BucketLowest(int index) {
  if (index < static_cast<int>(2 * kSubCount)) return index;
  const int shift = index / static_cast<int>(kSubCount) - 1;
  const uint64_t mantissa = index % kSubCount;
  return (kSubCount + mantissa) << shift;
}

uint64_t LatencyHistogram::BucketHighest(int index) {
  if (index < static_cast<int>(2 * kSubCount)) return index;
  const int shift = index / static_cast<int>(kSubCount) - 1;
  return BucketLowest(index) + (uint64_t{1} << shift) - 1;
}

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

void LatencyHistogram::Record(uint64_t value_ns) {
  value_ns = std::min(value_ns, kMaxValueNs);
  ++counts_[BucketIndex(value_ns)];
  ++count_;
  min_ns_ = std::min(min_ns_, value_ns);
  max_ns_ = std::max(max_ns_, value_ns);
  sum_ns_ += static_cast<double>(value_ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ns_ = std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
  sum_ns_ += other.sum_ns_;
}

void LatencyHistogram::Clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ns_ = UINT64_MAX;
  max_ns_ = 0;
  sum_ns_ = 0;
}

double LatencyHistogram::mean_ns() const {
  return count_ == 0 ? 0 : sum_ns_ / static_cast<double>(count_);
}

uint64_t LatencyHistogram::ValueAtQuantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(BucketHighest(i), max_ns_);
  }
  return max_ns_;
}

std::vector<LatencyHistogram::CdfPoint> LatencyHistogram::Cdf() const {
  std::vector<CdfPoint> points;
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount && seen < count_; ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    points.push_back({std::min(BucketHighest(i), max_ns_),
                      static_cast<double>(seen) / static_cast<double>(count_)});
  }
  return points;
}

}  // namespace pamatch::loadgen
