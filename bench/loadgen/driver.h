// LoadDriver: runs one load-generator phase against a pa-matchd with gRPC's
// callback client API, so a few gRPC threads keep hundreds of calls in
// flight (no thread per call).
//
// Closed loop: `concurrency` calls are always in flight; each completion
// starts the next call on the same channel at once. Latency is from the
// call's start to its completion.
//
// Open loop: calls are due at fixed intervals (1 / rate) from the phase
// start, whether or not earlier calls have finished. Each call's latency is
// measured from its *intended* send time, not from when it was actually
// sent: if the server (or this process) falls behind, the wait before
// sending counts, so queueing is not hidden (no coordinated omission). The
// gap between intended and actual send is reported as `send_lag`.
//
// A call belongs to the measurement when its intended start lies in
// [warm-up end, phase end); no call starts after the phase end, and calls in
// flight then are waited for (their deadline bounds the wait). Throughput is
// successful measured calls / measured_s, where measured_s runs from the
// warm-up end to the last measured completion (at least the duration).
//
// Thread-safety: Run is called from one thread at a time.
#ifndef PA_MATCH_BENCH_LOADGEN_DRIVER_H_
#define PA_MATCH_BENCH_LOADGEN_DRIVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/loadgen/cpu.h"
#include "bench/loadgen/histogram.h"
#include "bench/loadgen/recorder.h"
#include "bench/loadgen/workload.h"

namespace pamatch::loadgen {

enum class LoopMode { kClosed, kOpen };

struct PhaseSpec {
  std::string name;  // "health", "search", "mixed"
  PhaseWorkload workload = PhaseWorkload::kSearch;
  LoopMode mode = LoopMode::kClosed;
  int concurrency = 32;       // closed loop: calls in flight
  double rate_per_s = 1000;   // open loop: calls started per second
  int max_in_flight = 10000;  // open loop: the scheduler waits above this
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  absl::Duration call_timeout = absl::Seconds(10);  // each call's deadline
};

struct PhaseResult {
  PhaseSpec spec;
  int channels = 0;
  double measured_s = 0;     // the throughput denominator (see above)
  std::vector<OpStats> ops;  // indexed like OpNames()
  std::vector<SecondSample> series;
  LatencyHistogram send_lag;  // open loop: actual - intended send time
  // CPU used from the warm-up end to the phase end (cpu.h).
  CpuUsage cpu;
};

// Receives each second's sample while a phase runs (the progress line).
using ProgressFn = std::function<void(const PhaseSpec&, const SecondSample&,
                                      int64_t in_flight)>;

class LoadDriver {
 public:
  // `channels` (at least one) are used round-robin; `api_key` is sent as
  // `authorization: Bearer <key>` on every call (none when empty).
  LoadDriver(std::vector<std::shared_ptr<grpc::Channel>> channels,
             std::string api_key, Workload* workload, ProgressFn progress);
  ~LoadDriver();

  PhaseResult Run(const PhaseSpec& spec);

 private:
  class Phase;
  struct Stubs;
  std::vector<std::unique_ptr<Stubs>> stubs_;
  const std::string authorization_;
  Workload* const workload_;
  const ProgressFn progress_;
};

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_DRIVER_H_
