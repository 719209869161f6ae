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
// Watch phases (PhaseWorkload::kWatch) also open `watchers` Watch streams
// before the phase starts, stream k following the local authority
// watch_authorities[k mod size], and close them (cancel) once the phase's
// calls have drained. Every event received is counted; its delivery delay
// is the time from the event's `time` (when the server staged it, before
// the write was durable) to its arrival here, both on this machine's clock
// when the server runs here.
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
#include <map>
#include <memory>
#include <optional>
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
  // Watch phases: Watch streams open through the phase, and the local
  // authorities they follow (one each, in turn).
  int watchers = 0;
  std::vector<std::string> watch_authorities;
  // The server's /proc/PID directory (--server_pid, --server_proc), whose
  // CPU and context switches are sampled with the machine's; empty: none.
  std::string server_proc;
};

// What the Watch streams of a phase received.
struct WatchStats {
  int streams = 0;
  // MATCH_STARTED and MATCH_ENDED events received over the whole phase
  // (warm-up included), and those received in the measured window.
  int64_t events = 0;
  int64_t measured_events = 0;
  int64_t started = 0, ended = 0;
  int64_t heartbeats = 0;
  // Events whose sequence was not above the previous one of their stream
  // (never expected: the stream is in sequence order).
  int64_t out_of_order = 0;
  // Event `time` to arrival, measured events.
  LatencyHistogram delay;
  // Streams that ended other than by our cancel at the phase end, by
  // gRPC status code name, with the first message of each.
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> error_examples;
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
  // Watch phases: what the streams received.
  std::optional<WatchStats> watch;
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
  class WatchStream;
  struct Stubs;
  std::vector<std::unique_ptr<Stubs>> stubs_;
  const std::string authorization_;
  Workload* const workload_;
  const ProgressFn progress_;
};

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_DRIVER_H_
