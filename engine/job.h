// A job (MATCHING.md "Jobs: the same contract read backwards"): an
// employer's standing requirement, validated exactly as a Search and kept
// compiled as one, so that a PA's jobs are judged by the very rules and
// code that judge a search's PAs.
//
// A CompiledJob is built once per upsert (and again when its authority's
// policy changes or the alerts day moves on), immutable afterwards, and
// shared between threads through shared_ptr.
#ifndef PA_MATCH_ENGINE_JOB_H_
#define PA_MATCH_ENGINE_JOB_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/dates.h"
#include "engine/query.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

struct CompiledJob {
  std::string id;
  int64_t version = 0;
  v1::JobStatus status = v1::OPEN;  // never UNSPECIFIED
  DayNumber closes_on = kNeverExpires;  // last open day
  // The request's local_authority code (empty when it names none) and its
  // taxonomy id (-1 then).
  std::string local_authority;
  int local_authority_id = -1;
  // The job as stored (v1::Job, version resolved), for GetJob and for
  // compiling it again.
  v1::Job job;
  // The request compiled as a Search: the policy of local_authority folded
  // in, judged on `query.as_of` (SetAsOf moves it), page and cursor unused.
  CompiledQuery query;

  // Whether the job can match on `day`: OPEN, and closes_on not past.
  bool OpenOn(DayNumber day) const {
    return status == v1::OPEN && day <= closes_on;
  }
};

using JobPtr = std::shared_ptr<const CompiledJob>;

// Validates `job` (id, version >= 0, status, closes_on, and the request
// as a Search, less the fields of one call, which must be unset) and
// compiles it with `policy` (the policy of the request's local_authority,
// if it has one), judged on `day`. Errors are INVALID_ARGUMENT naming the
// field ("job.request.must_have_skills: ..."). The version is kept as given.
absl::StatusOr<CompiledJob> CompileJob(const Taxonomy& taxonomy,
                                       const v1::Job& job,
                                       const v1::Policy* policy,
                                       DayNumber day);

// `job` compiled again with another policy (or none) or on another day:
// what a policy change or the daily pass does to the jobs it touches.
// Fails only if the taxonomy lost a code the policy names.
absl::StatusOr<CompiledJob> RecompileJob(const Taxonomy& taxonomy,
                                         const CompiledJob& job,
                                         const v1::Policy* policy,
                                         DayNumber day);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_JOB_H_
