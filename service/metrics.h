// pa-matchd's Prometheus metrics (prometheus-cpp): what the server did, per
// RPC, and what it holds, served over HTTP for a Prometheus scrape.
//
// - RpcMetrics: calls of each Matcher RPC by final status code, and the time
//   the server spent on each (from the handler's start to its Finish: for a
//   write, that includes the wait for the group commit's fsync). Recorded by
//   MatcherService as each call finishes.
// - StateCollector: gauges read when scraped: the engine's Stats() (profiles,
//   policies, index layout) and the process's CPU time, memory and file
//   descriptors (read from /proc, in the standard `process_*` names), so an
//   operator can divide server CPU by calls during a load test.
// - MetricsEndpoint: the HTTP endpoint (prometheus-cpp's Exposer) at
//   GET /metrics, behind HTTP basic authentication whose password is an API
//   key carrying the `metrics` scope (admin keys carry it too); the user
//   name is not checked. Without a valid key: 401.
//
// Threads: every RpcMetrics method may be called from any thread (gRPC's
// callback threads, the engine's commit thread); none takes a lock of ours
// (a counter or gauge is an atomic add; a histogram takes prometheus-cpp's
// own mutex of that histogram). The endpoint serves scrapes on its own two threads, which call
// StateCollector::Collect. SetEngine may be called at any time; the engine
// must outlive the endpoint (destroy the endpoint, which waits for a scrape
// in progress, before the engine).
#ifndef PA_MATCH_SERVICE_METRICS_H_
#define PA_MATCH_SERVICE_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "service/api_keys.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace pamatch {

// The Matcher RPCs, as metric labels.
enum class RpcMethod : int {
  kUpsertProfile,
  kBulkUpsertProfiles,
  kGetProfile,
  kDeleteProfile,
  kSearch,
  kSetPolicy,
  kGetPolicy,
  kListPolicies,
  kDeletePolicy,
  kGetStats,
  kBackup,
  kUpsertJob,
  kBulkUpsertJobs,
  kGetJob,
  kDeleteJob,
  kMatchJobs,
  kWatch,
};
inline constexpr int kRpcMethods = 17;

// The method's name as in the proto ("Search").
absl::string_view RpcMethodName(RpcMethod method);

// Counters and latency histograms of Matcher RPCs, registered in a registry:
//   pamatch_rpc_requests_total{method,code}     counter
//   pamatch_rpc_duration_seconds{method}        histogram (Watch: how long
//                                               the stream lasted)
//   pamatch_bulk_items_total{result}            counter (accepted/rejected)
//   pamatch_bulk_job_items_total{result}        counter (accepted/rejected)
//   pamatch_watch_streams                       gauge (Watch streams open)
//   pamatch_watch_messages_total{kind}          counter (match_started,
//                                               match_ended, heartbeat)
class RpcMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RpcMetrics(prometheus::Registry& registry);

  // One finished call of `method`, started at `start`.
  void Record(RpcMethod method, absl::StatusCode code, Clock::time_point start);
  // Items of one bulk stream (`method`: kBulkUpsertProfiles or
  // kBulkUpsertJobs), by their result.
  void RecordBulkItems(RpcMethod method, int64_t accepted, int64_t rejected);
  // A Watch stream began streaming (its request was admitted and its
  // cursor placed) / ended.
  void WatchStarted() { watch_streams_.Increment(); }
  void WatchEnded() { watch_streams_.Decrement(); }
  // One message written to a Watch stream.
  void RecordWatchMessage(v1::WatchEvent::Kind kind);
  // One call refused because its key was over its rate.
  void RecordRateLimited() { rate_limited_.Increment(); }

 private:
  static constexpr int kCodes = 17;  // google.rpc.Code 0..16

  prometheus::Family<prometheus::Counter>& requests_;
  // One counter per (method, code), added to the family on first use (the
  // family's Add is idempotent and locked; the pointer is then read
  // without a lock).
  std::array<std::array<std::atomic<prometheus::Counter*>, kCodes>, kRpcMethods>
      counters_{};
  std::array<prometheus::Histogram*, kRpcMethods> durations_{};
  prometheus::Family<prometheus::Counter>& bulk_items_;
  prometheus::Counter& bulk_accepted_;
  prometheus::Counter& bulk_rejected_;
  prometheus::Family<prometheus::Counter>& bulk_job_items_;
  prometheus::Counter& bulk_jobs_accepted_;
  prometheus::Counter& bulk_jobs_rejected_;
  prometheus::Gauge& watch_streams_;
  prometheus::Family<prometheus::Counter>& watch_messages_;
  prometheus::Counter& watch_started_;
  prometheus::Counter& watch_ended_;
  prometheus::Counter& watch_heartbeats_;
  prometheus::Counter& rate_limited_;
};

// Gauges read at scrape time from the engine and from /proc/self:
//   pamatch_profiles{status}, pamatch_profiles_by_local_authority{...},
//   pamatch_policies, pamatch_jobs, pamatch_jobs_open,
//   pamatch_alert_last_event_sequence, pamatch_alert_oldest_event_sequence,
//   pamatch_alert_retained_events, pamatch_index_unsorted_profiles,
//   pamatch_index_relayouts_total, pamatch_index_last_relayout_seconds,
//   pamatch_ready (1 once the engine is open), pamatch_build_info{version},
//   process_cpu_seconds_total, process_resident_memory_bytes,
//   process_virtual_memory_bytes, process_open_fds,
//   process_start_time_seconds.
class StateCollector final : public prometheus::Collectable {
 public:
  void SetEngine(Engine* engine);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::atomic<Engine*> engine_{nullptr};
};

// The HTTP endpoint serving a registry and a StateCollector at /metrics.
class MetricsEndpoint {
 public:
  // Listens on `address`: an IPv4 address or a bracketed IPv6 one, and a
  // port (0 picks a free one); anything else, such as a bare port (which
  // would mean every interface), is INVALID_ARGUMENT naming
  // metrics_listen. `keys` must outlive the endpoint; a reloaded key set
  // applies at once. Fails (UNAVAILABLE) when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, const ApiKeyStore* keys,
      std::shared_ptr<prometheus::Registry> registry,
      std::shared_ptr<StateCollector> state);
  ~MetricsEndpoint();  // stops serving; waits for a scrape in progress

  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<StateCollector> state_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_METRICS_H_
