// LatencyHistogram: a log-bucketed latency histogram in the manner of
// HdrHistogram (own implementation), for the load generator.
//
// Values are nanoseconds. Values below 256 ns have a bucket each; above,
// every power of two is split into 128 equal buckets, so a bucket is at most
// 1/128 (< 0.8 %) of its values wide: two significant digits over the whole
// range, in a fixed 38 KiB of counters and O(1) per Record. Values above
// kMaxValueNs (~73 minutes) are recorded as kMaxValueNs.
//
// Percentiles report the highest value of the bucket holding the rank (as
// HdrHistogram's "highest equivalent value" does), clamped to the largest
// value recorded, so a reported percentile is never below the true one and
// never above the true maximum.
//
// Thread-safety: none; the caller serialises access (one histogram per
// phase and kind under the recorder's lock).
#ifndef PA_MATCH_BENCH_LOADGEN_HISTOGRAM_H_
#define PA_MATCH_BENCH_LOADGEN_HISTOGRAM_H_

#include <cstdint>
#include <vector>

namespace pamatch::loadgen {

class LatencyHistogram {
 public:
  // 2^42 ns, about 73 minutes: far beyond any deadline we set.
  static constexpr uint64_t kMaxValueNs = uint64_t{1} << 42;

  LatencyHistogram();

  void Record(uint64_t value_ns);
  // Adds every value recorded in `other`.
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min_ns() const { return count_ == 0 ? 0 : min_ns_; }
  uint64_t max_ns() const { return max_ns_; }
  double mean_ns() const;

  // The value at quantile q in [0, 1] (0.99 = p99): the smallest recorded
  // bucket whose cumulative count reaches ceil(q * count). 0 when empty.
  uint64_t ValueAtQuantile(double q) const;

  // One point of the cumulative distribution: `fraction` of the values are
  // <= `value_ns` (a bucket's highest value, clamped to the max).
  struct CdfPoint {
    uint64_t value_ns;
    double fraction;
  };
  // A point per non-empty bucket, ascending.
  std::vector<CdfPoint> Cdf() const;

  // Bucket arithmetic, public for the tests.
  static int BucketIndex(uint64_t value_ns);
  static uint64_t BucketLowest(int index);
  static uint64_t BucketHighest(int index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ns_ = UINT64_MAX;
  uint64_t max_ns_ = 0;
  // Sum in double: 2^42 ns * 2^32 calls would overflow uint64.
  double sum_ns_ = 0;
};

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_HISTOGRAM_H_
