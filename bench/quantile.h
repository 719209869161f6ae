// The nearest-rank quantile the in-process benchmarks report (p50_us,
// p99_us), in one place so that they all compute it alike.
#ifndef PA_MATCH_BENCH_QUANTILE_H_
#define PA_MATCH_BENCH_QUANTILE_H_

#include <algorithm>
#include <cmath>
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

}  // namespace pamatch::bench

#endif  // PA_MATCH_BENCH_QUANTILE_H_
