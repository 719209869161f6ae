// The nearest-rank quantile the in-process benchmarks report (p50_us,
// p99_us), in one place so that they all compute it alike; and the median
// of a few repeated measurements (rounds).
#ifndef PA_MATCH_BENCH_QUANTILE_H_
#define PA_MATCH_BENCH_QUANTILE_H_

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

namespace pamatch::bench {

// The q-quantile (0..1) of `samples` (sorted in place), nearest rank; 0 if
// there are none.
inline double Quantile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * samples.size()));
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// The median of `values`: the middle one, or the mean of the middle two
// (as Python's statistics.median, which bench/postgres/ratios.py uses for
// its rounds); nullopt if there are none.
inline std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace pamatch::bench

#endif  // PA_MATCH_BENCH_QUANTILE_H_
