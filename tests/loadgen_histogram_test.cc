// The load generator's latency histogram (bench/loadgen/histogram.h).
#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/histogram.h"
#include "gtest/gtest.h"

namespace pamatch::loadgen {
namespace {

TEST(LoadgenHistogramTest, BucketsCoverEveryValueWithinOnePercent) {
  std::vector<uint64_t> values;
  for (uint64_t v = 0; v < 5000; ++v) values.push_back(v);
  for (uint64_t v = 5000; v < LatencyHistogram::kMaxValueNs; v = v * 1.37 + 1) {
    values.push_back(v);
    values.push_back(v - 1);
  }
  values.push_back(LatencyHistogram::kMaxValueNs);
  for (uint64_t v : values) {
    const int index = LatencyHistogram::BucketIndex(v);
    const uint64_t low = LatencyHistogram::BucketLowest(index);
    const uint64_t high = LatencyHistogram::BucketHighest(index);
    ASSERT_LE(low, v) << v;
    ASSERT_GE(high, v) << v;
    // Width at most 1/128 of the bucket's values (exact below 256 ns).
    ASSERT_LE(high - low + 1, std::max<uint64_t>(1, low / 128)) << v;
    // Neighbouring buckets meet without a gap.
    if (index > 0) {
      ASSERT_EQ(LatencyHistogram::BucketHighest(index - 1) + 1, low) << v;
    }
  }
}

TEST(LoadgenHistogramTest, QuantilesOfAUniformRunAreWithinOnePercent) {
  LatencyHistogram h;
  for (uint64_t us = 1; us <= 10000; ++us) h.Record(us * 1000);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min_ns(), 1000u);
  EXPECT_EQ(h.max_ns(), 10'000'000u);
  EXPECT_NEAR(h.mean_ns(), 5'000'500, 1);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double truth = q * 10'000'000;
    const double reported = static_cast<double>(h.ValueAtQuantile(q));
    // Never below the true value (highest equivalent), at most 1 % above.
    EXPECT_GE(reported, truth) << q;
    EXPECT_LE(reported, truth * 1.01) << q;
  }
  EXPECT_EQ(h.ValueAtQuantile(1.0), 10'000'000u);
  EXPECT_EQ(h.ValueAtQuantile(0.0), h.ValueAtQuantile(1e-9));
}

TEST(LoadgenHistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.ValueAtQuantile(0.99), 0u);
  EXPECT_EQ(h.max_ns(), 0u);
  EXPECT_EQ(h.min_ns(), 0u);
  EXPECT_EQ(h.mean_ns(), 0);
  EXPECT_TRUE(h.Cdf().empty());
}

TEST(LoadgenHistogramTest, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  for (uint64_t v = 1; v < 100000; v += 7) {
    (v % 3 == 0 ? a : b).Record(v * 13);
    all.Record(v * 13);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max_ns(), all.max_ns());
  EXPECT_EQ(a.min_ns(), all.min_ns());
  for (double q : {0.1, 0.5, 0.99, 0.9999}) {
    EXPECT_EQ(a.ValueAtQuantile(q), all.ValueAtQuantile(q)) << q;
  }
  a.Clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.ValueAtQuantile(0.5), 0u);
}

TEST(LoadgenHistogramTest, CdfEndsAtOneAndTheMax) {
  LatencyHistogram h;
  for (uint64_t v : {5u, 5u, 300u, 123456u}) h.Record(v);
  std::vector<LatencyHistogram::CdfPoint> cdf = h.Cdf();
  ASSERT_EQ(cdf.size(), 3u);
  EXPECT_EQ(cdf[0].value_ns, 5u);
  EXPECT_DOUBLE_EQ(cdf[0].fraction, 0.5);
  EXPECT_EQ(cdf.back().value_ns, 123456u);
  EXPECT_DOUBLE_EQ(cdf.back().fraction, 1.0);
}

}  // namespace
}  // namespace pamatch::loadgen
