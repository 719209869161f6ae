// PhaseRecorder: collects the outcome of every call of one load-generator
// phase: per-operation latency histograms and errors by gRPC status code for
// the measured calls, and a one-second time series of every call (warm-up
// included) for the progress line and the latency-over-time plot.
//
// Thread-safety: Record and TakeSecond may be called from any thread (gRPC
// completion threads record, the main thread takes a sample each second);
// one mutex guards everything, held for a histogram update only.
#ifndef PA_MATCH_BENCH_LOADGEN_RECORDER_H_
#define PA_MATCH_BENCH_LOADGEN_RECORDER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "bench/loadgen/histogram.h"
#include "engine/sync.h"

namespace pamatch::loadgen {

// Results of one operation kind within a phase (measured calls only).
struct OpStats {
  LatencyHistogram latency;  // successful calls
  // gRPC status code name ("UNAUTHENTICATED") -> count of failed calls.
  std::map<std::string, int64_t> errors;
  // Status code name -> the first error message seen with it.
  std::map<std::string, std::string> error_examples;

  int64_t ok() const { return static_cast<int64_t>(latency.count()); }
  int64_t failed() const;
  void Merge(const OpStats& other);
};

// One second of a phase (all operations, warm-up included), by completion
// time.
struct SecondSample {
  double start_s = 0;  // seconds since the phase started
  double end_s = 0;
  bool warmup = false;
  int64_t calls = 0;  // completed, ok or not
  int64_t errors = 0;
  uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, max_ns = 0;  // ok calls
};

// gRPC status code names, as in the gRPC docs ("DEADLINE_EXCEEDED").
std::string StatusCodeName(int code);

class PhaseRecorder {
 public:
  explicit PhaseRecorder(int op_count);

  // A completed call: operation `op`, `latency_ns`, gRPC status `code`
  // (0 = OK) and message; `measured` = started inside the measurement
  // window (otherwise it only counts in the time series).
  void Record(int op, uint64_t latency_ns, int code, const std::string& message,
              bool measured);

  // Closes the current interval, which ends at `end_s` and started where
  // the previous one ended (0 for the first), and returns its sample (also
  // appended to the series).
  SecondSample TakeSecond(double end_s, bool warmup);

  // Calls recorded since the last TakeSecond.
  int64_t calls_since_last_sample() const;

  // Copies, for the report, once the phase has finished.
  std::vector<OpStats> ops() const;
  std::vector<SecondSample> series() const;

 private:
  mutable Mutex mu_;
  std::vector<OpStats> ops_ ABSL_GUARDED_BY(mu_);
  LatencyHistogram second_ ABSL_GUARDED_BY(mu_);
  int64_t second_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t second_errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<SecondSample> series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_RECORDER_H_
