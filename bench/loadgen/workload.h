// Workload: what each load-generator call does. A phase draws operations
// from it: the standard search mix (bench/query_mix.h) with per-kind
// weights, and in a mixed phase a fraction of writes: upserts of generated
// demo profiles (demo/demo_data.h) under the run's id prefix, and deletes
// of ids this run created.
//
// Writes never race each other on one id: an id is checked out of the pool
// of live ids while its call is in flight, so each upsert can carry the
// stored version + 1 and no call is rejected as stale. Versions start at the
// run's start time in microseconds, so a later run's upserts supersede an
// earlier run's profiles with the same ids.
//
// Thread-safety: every method may be called from any thread.
#ifndef PA_MATCH_BENCH_LOADGEN_WORKLOAD_H_
#define PA_MATCH_BENCH_LOADGEN_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/query_mix.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::loadgen {

// What a phase sends.
enum class PhaseWorkload {
  kHealth,  // grpc.health.v1.Health/Check only: the transport's no-op RPC
  kSearch,  // the search mix only
  kMixed,   // the search mix plus write_fraction writes
};

// "health", "search", "mixed".
absl::string_view PhaseWorkloadName(PhaseWorkload workload);

// Operations, as indexes into OpNames(): the query kinds in
// bench::AllQueryKinds() order, then upsert, delete, health.
int OpCount();
const std::vector<std::string>& OpNames();
int UpsertOp();
int DeleteOp();
int HealthOp();
bool IsSearchOp(int op);

// Parses "dense_city=2,broad=1" (unlisted kinds get weight 0) into one
// weight per query kind. Empty text: every kind weight 1.
absl::StatusOr<std::vector<double>> ParseQueryWeights(absl::string_view text);

struct WorkloadOptions {
  // One weight per bench::AllQueryKinds() entry; at least one > 0.
  std::vector<double> query_weights;
  // Mixed phases: fraction of calls that are writes, 0..1.
  double write_fraction = 0.05;
  // Fraction of writes that are deletes (of ids this run created; an
  // upsert when none is live), 0..1.
  double delete_fraction = 0.2;
  // Created profiles get ids id_prefix + 6-digit index.
  std::string id_prefix = "lg-";
  // Seed of the demo profiles and of the operation choice.
  uint64_t seed = 7;
  // Reference instant of the generated profiles' dates.
  absl::Time now = absl::UnixEpoch();
};

// One call to make. For kUpsert/kDelete, `index` is the demo profile index
// checked out; hand it back with Finish.
struct PlannedOp {
  int op = 0;
  int64_t index = -1;
  int64_t version = 0;
  uint64_t variant = 0;  // search: StandardQuery variant
};

class Workload {
 public:
  explicit Workload(WorkloadOptions options);

  // The next operation of a phase of kind `workload`.
  PlannedOp Next(PhaseWorkload workload);

  // Request builders for a planned op.
  v1::SearchRequest SearchRequestFor(const PlannedOp& op) const;
  v1::UpsertProfileRequest UpsertRequestFor(const PlannedOp& op) const;
  std::string IdOf(int64_t index) const;

  // Reports the outcome of a write returned by Next; a successful upsert
  // makes (or keeps) the id live, a successful delete removes it, a failed
  // one leaves it as it was.
  void Finish(const PlannedOp& op, bool ok);

  struct WriteTally {
    int64_t upserts_ok = 0;
    int64_t deletes_ok = 0;
    int64_t live_ids = 0;           // created, not deleted, idle
    std::string sample_live_id;     // empty if none
    std::string sample_deleted_id;  // empty if none
  };
  WriteTally Tally() const;

 private:
  struct LiveId {
    int64_t index;
    int64_t version;  // the stored version
  };
  // A uniform double in [0, 1) from the shared counter (splitmix64).
  double NextUniform();

  const WorkloadOptions options_;
  const int64_t base_version_;
  std::vector<double> cumulative_weights_;  // over query kinds
  std::atomic<uint64_t> draws_{0};
  std::atomic<uint64_t> variants_{0};

  mutable Mutex mu_;
  std::vector<LiveId> live_ ABSL_GUARDED_BY(mu_);  // idle live ids
  int64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t upserts_ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t deletes_ok_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_deleted_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_WORKLOAD_H_
