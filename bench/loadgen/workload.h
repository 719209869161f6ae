// Workload: what each load-generator call does. A phase draws operations
// from it: the standard search mix (bench/query_mix.h) with per-kind
// weights, and in a mixed phase a fraction of writes: upserts of generated
// demo profiles (demo/demo_data.h) under the run's id prefix, and deletes
// of ids this run created. The job phases (issue 20) send MatchJobs for
// stored PAs (ids pa_prefix + 6-digit index, index uniform below
// pa_count) and, in a jobs phase, a fraction of job writes: upserts of the
// standard job mix (bench/job_mix.h) under the run's job id prefix, and
// deletes of jobs this run created. The writes and watch phases send
// profile writes only (watch: with Watch streams open, driver.h).
//
// Writes never race each other on one id: an id is checked out of the pool
// of live ids while its call is in flight, so each upsert can carry the
// stored version + 1 and no call is rejected as stale. Versions start at the
// run's start time in microseconds, so a later run's upserts supersede an
// earlier run's profiles (and jobs) with the same ids. Profiles and jobs
// have a pool each.
//
// Thread-safety: every method may be called from any thread.
#ifndef PA_MATCH_BENCH_LOADGEN_WORKLOAD_H_
#define PA_MATCH_BENCH_LOADGEN_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bench/query_mix.h"
#include "demo/demo_data.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::loadgen {

// What a phase sends.
enum class PhaseWorkload {
  kHealth,     // grpc.health.v1.Health/Check only: the transport's no-op RPC
  kSearch,     // the search mix only
  kMixed,      // the search mix plus write_fraction writes
  kMatchJobs,  // MatchJobs for stored PAs only
  kJobs,       // MatchJobs plus job_write_fraction job writes
  kWrites,     // profile writes only (upserts and deletes, as mixed's)
  kWatch,      // profile writes only, with the phase's Watch streams open
};

// "health", "search", "mixed", "match_jobs", "jobs", "writes", "watch".
absl::string_view PhaseWorkloadName(PhaseWorkload workload);
// The workload of that name, or nullopt.
std::optional<PhaseWorkload> ParsePhaseWorkload(absl::string_view name);
// Whether phases of `workload` send MatchJobs (and so need pa_count > 0).
bool SendsMatchJobs(PhaseWorkload workload);

// Operations, as indexes into OpNames(): the query kinds in
// bench::AllQueryKinds() order, then upsert, delete, health, match_jobs,
// job_upsert, job_delete.
int OpCount();
const std::vector<std::string>& OpNames();
int UpsertOp();
int DeleteOp();
int HealthOp();
int MatchJobsOp();
int JobUpsertOp();
int JobDeleteOp();
bool IsSearchOp(int op);
// Profile writes (upsert, delete) and job writes (job_upsert, job_delete).
bool IsProfileWriteOp(int op);
bool IsJobWriteOp(int op);
// The operations a phase of `workload` is about, whose figures the reports
// put first (the ratios, the percentile chart): Health/Check, the searches,
// MatchJobs, or the profile writes.
bool IsPrimaryOp(PhaseWorkload workload, int op);

// Parses "dense_city=2,broad=1" (unlisted kinds get weight 0) into one
// weight per query kind. Empty text: every kind weight 1.
absl::StatusOr<std::vector<double>> ParseQueryWeights(absl::string_view text);

// Parses "E08000021,E06000057" (local authority codes: a letter and 8
// digits) for --watch_authorities; at least one.
absl::StatusOr<std::vector<std::string>> ParseAuthorities(
    absl::string_view text);

// The 12 North East authorities (taxonomy/north_east.json, also in
// taxonomy/great_britain.json), where the written demo profiles live: the
// default --watch_authorities.
const std::vector<std::string>& NorthEastAuthorities();

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
  // Reference instant of the generated profiles' (and jobs') dates.
  absl::Time now = absl::UnixEpoch();
  // MatchJobs phases: the stored PAs asked about are pa_prefix + 6-digit
  // index for index uniform in [0, pa_count) (the ids pa-matchd's
  // --demo_profiles, pa-match-datagen and the benchmarks give).
  std::string pa_prefix = "pa-";
  int64_t pa_count = 0;
  // Jobs phases: fraction of calls that are job writes, 0..1 (deletes:
  // delete_fraction of them, of jobs this run created).
  double job_write_fraction = 0.05;
  // Created jobs get ids job_id_prefix + 6-digit index.
  std::string job_id_prefix = "lgj-";
  // Where the generated jobs are (bench/job_mix.h); north_east's codes are
  // in both taxonomies.
  demo::DemoScenario job_scenario = demo::DemoScenario::kNorthEast;
};

// One call to make. For profile and job writes, `index` is the demo profile
// (or job mix) index checked out; hand it back with Finish. For MatchJobs,
// the index of the PA asked about.
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
  // MatchJobs for the stored PA op.index, page size 20, judged today (no
  // as_of: the server's alerts day, as a portal asks).
  v1::MatchJobsRequest MatchJobsRequestFor(const PlannedOp& op) const;
  std::string PaIdOf(int64_t index) const;
  v1::UpsertJobRequest JobUpsertRequestFor(const PlannedOp& op) const;
  std::string JobIdOf(int64_t index) const;

  // Reports the outcome of a write returned by Next; a successful upsert
  // makes (or keeps) the id live, a successful delete removes it, a failed
  // one leaves it as it was. Other operations are ignored.
  void Finish(const PlannedOp& op, bool ok);

  struct WriteTally {
    int64_t upserts_ok = 0;
    int64_t deletes_ok = 0;
    int64_t live_ids = 0;           // created, not deleted, idle
    std::string sample_live_id;     // empty if none
    std::string sample_deleted_id;  // empty if none
    // The same for jobs.
    int64_t job_upserts_ok = 0;
    int64_t job_deletes_ok = 0;
    int64_t live_job_ids = 0;
  };
  WriteTally Tally() const;

 private:
  struct LiveId {
    int64_t index;
    int64_t version;  // the stored version
  };
  // The ids of one kind (profiles or jobs) this run wrote.
  struct IdPool {
    std::vector<LiveId> live;  // idle live ids
    int64_t next_index = 0;
    int64_t upserts_ok = 0;
    int64_t deletes_ok = 0;
    int64_t last_deleted = -1;
  };
  // A uniform double in [0, 1) from the shared counter (splitmix64).
  double NextUniform();
  // A write of `pool`'s kind: `upsert_op` or `delete_op`.
  PlannedOp NextWrite(IdPool& pool, int upsert_op, int delete_op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void FinishWrite(IdPool& pool, const PlannedOp& op, bool is_delete,
                          bool ok, int64_t base_version);

  const WorkloadOptions options_;
  const int64_t base_version_;
  std::vector<double> cumulative_weights_;  // over query kinds
  std::atomic<uint64_t> draws_{0};
  std::atomic<uint64_t> variants_{0};

  mutable Mutex mu_;
  IdPool profiles_ ABSL_GUARDED_BY(mu_);
  IdPool jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_WORKLOAD_H_
