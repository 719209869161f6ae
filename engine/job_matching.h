// A PA's jobs (MATCHING.md "Jobs"): match(job, PA, day) and its score,
// judged by the very functions a Search judges a PA with (scoring.h) on
// the job's compiled request, so forward and backward agree by
// construction; the collector that ranks and pages a PA's jobs; and the
// two ways of finding them, through the job index and by the reference
// scan the index is tested against.
//
// Pure functions over immutable inputs; a JobCollector is used by one
// thread at a time. Callers hold the job index's lock shared.
#ifndef PA_MATCH_ENGINE_JOB_MATCHING_H_
#define PA_MATCH_ENGINE_JOB_MATCHING_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/job.h"
#include "engine/job_index.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// The job's query judged on `day`: the stored one when it is already
// judged on that day, else a copy moved to it in `*scratch`.
const CompiledQuery& QueryOn(const CompiledJob& job, DayNumber day,
                             CompiledQuery* scratch);

// A (job, PA) pair that matches: its score (rounded) and distance.
struct PairMatch {
  double score;
  double distance_km;
};

// Whether the PA passes every hard filter of `query` but the status, and
// with what score: exactly what a Search with that query would say of it.
std::optional<PairMatch> JudgePair(const CompiledQuery& query,
                                   const CompiledProfile& pa);

// JudgePair for `job` on `day`. The filters that do not depend on the day
// (set filters, reach) are judged on the job's stored query first, so the
// query is moved to another day (a copy in `*scratch`) only for pairs that
// pass them.
std::optional<PairMatch> JudgeJobPair(const CompiledJob& job, DayNumber day,
                                      const CompiledProfile& pa,
                                      CompiledQuery* scratch);

// Every job open on `day` that `pa` matches, found through the index.
using JobMatchVisit = absl::FunctionRef<void(const CompiledJob& job,
                                             const PairMatch& match)>;
void ForEachJobMatch(const JobIndex& jobs, const CompiledProfile& pa,
                     DayNumber day, JobMatchVisit visit);

// The pairs whose match turns when a PA goes from `before` to `after`
// (either null: absent) on `day`: each job `before` matches and `after`
// does not (started = false; `match` unset) and each job `after` matches
// and `before` does not (started = true, with its match), in no particular
// order. Exactly the difference of two ForEachJobMatch calls, found in
// one scan of the index (JobIndex::ForEachCandidateOfEither), each job
// judged for both sides while it is in the cache, and scored only for the
// pairs that start: what a profile write's alert events need.
using MatchChangeVisit = absl::FunctionRef<void(
    const CompiledJob& job, bool started, const PairMatch* match)>;
void ForEachMatchChange(const JobIndex& jobs, const CompiledProfile* before,
                        const CompiledProfile* after, DayNumber day,
                        MatchChangeVisit visit);

// The same found by the reference scan: every stored job, its request
// compiled afresh as a Search on `day` with the policy `policy_of` gives
// for its authority. Slow; the oracle.
using PolicyOf =
    std::function<std::optional<v1::Policy>(const std::string& local_authority)>;
absl::Status ForEachJobMatchReference(const JobIndex& jobs,
                                      const Taxonomy& taxonomy,
                                      const PolicyOf& policy_of,
                                      const CompiledProfile& pa, DayNumber day,
                                      JobMatchVisit visit);

// A MatchJobs request's paging and day: validated, the page token decoded.
struct MatchJobsQuery {
  DayNumber as_of = 0;
  int page_size = kDefaultPageSize;
  std::optional<PageCursor> cursor;
  uint64_t fingerprint = 0;
  bool explain = false;
  // Local authority codes, sorted: when not empty, only jobs whose
  // request names one of them are offered (a caller limited to them).
  std::vector<std::string> audience;
};
absl::StatusOr<MatchJobsQuery> CompileMatchJobs(
    const v1::MatchJobsRequest& request, absl::Time now);

// Ranks a PA's matching jobs (score desc, distance asc, job id asc) and
// produces the page after the cursor, with the exact total.
class JobCollector {
 public:
  // `query`, `taxonomy` and `pa` must outlive the collector; so must the
  // jobs offered, until Finish returns.
  JobCollector(const MatchJobsQuery& query, const Taxonomy& taxonomy,
               const CompiledProfile& pa);
  void Offer(const CompiledJob& job, const PairMatch& match);
  v1::MatchJobsResponse Finish();

 private:
  struct Kept {
    double score;
    double distance_km;
    const CompiledJob* job;
  };
  static bool ComesBefore(const Kept& a, const Kept& b);

  const MatchJobsQuery& query_;
  const Taxonomy& taxonomy_;
  const CompiledProfile& pa_;
  int64_t total_ = 0;
  std::vector<Kept> best_;  // heap, front = the one that comes last
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_JOB_MATCHING_H_
