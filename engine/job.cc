#include "engine/job.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/validation.h"

namespace pamatch {
namespace {

// The request's fields that belong to one call, not to a standing
// requirement.
absl::Status CheckNoCallFields(const v1::SearchRequest& request) {
  auto refuse = [](absl::string_view field) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job.request.", field,
        ": belongs to one search, not to a job; leave it unset (MatchJobs "
        "takes as_of, page_size, page_token and explain)"));
  };
  if (request.exclude_ids_size() > 0) return refuse("exclude_ids");
  if (!request.as_of().empty()) return refuse("as_of");
  if (request.page_size() != 0) return refuse("page_size");
  if (!request.page_token().empty()) return refuse("page_token");
  if (request.explain()) return refuse("explain");
  return absl::OkStatus();
}

// `status` with "job.request." before its field path, so that a job's
// errors name the field as the caller sent it.
absl::Status InRequest(const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("job.request.", status.message()));
}

absl::StatusOr<CompiledQuery> CompileRequest(const Taxonomy& taxonomy,
                                             const v1::SearchRequest& request,
                                             const v1::Policy* policy,
                                             DayNumber day) {
  absl::StatusOr<CompiledQuery> query = CompileQuery(
      taxonomy, request, policy,
      absl::FromUnixSeconds(StartOfDaySeconds(day)));
  if (!query.ok()) {
    return query.status().code() == absl::StatusCode::kInvalidArgument
               ? InRequest(query.status())
               : query.status();
  }
  return query;
}

}  // namespace

absl::StatusOr<CompiledJob> CompileJob(const Taxonomy& taxonomy,
                                       const v1::Job& job,
                                       const v1::Policy* policy,
                                       DayNumber day) {
  absl::Status status = CheckNoUnknownFields(job, "job");
  if (status.ok()) status = ValidateId(job.id(), "job.id");
  if (!status.ok()) return status;
  if (job.version() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job.version: ", job.version(),
        " is negative (> 0, or 0 for the stored version + 1)"));
  }
  if (!v1::JobStatus_IsValid(job.status())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job.status: ", static_cast<int>(job.status()),
        " is not a JobStatus (OPEN, FILLED, CLOSED)"));
  }
  if (!job.has_request()) {
    return absl::InvalidArgumentError(
        "job.request: required (the requirement, as a SearchRequest)");
  }
  status = CheckNoCallFields(job.request());
  if (!status.ok()) return status;
  CompiledJob compiled;
  compiled.id = job.id();
  compiled.version = job.version();
  compiled.status =
      job.status() == v1::JOB_STATUS_UNSPECIFIED ? v1::OPEN : job.status();
  if (!job.closes_on().empty()) {
    absl::StatusOr<DayNumber> closes = ParseDate(job.closes_on(), "job.closes_on");
    if (!closes.ok()) return closes.status();
    compiled.closes_on = *closes;
  }
  compiled.local_authority = job.request().local_authority();
  if (!compiled.local_authority.empty()) {
    compiled.local_authority_id =
        taxonomy.local_authorities().Find(compiled.local_authority);
  }
  absl::StatusOr<CompiledQuery> query =
      CompileRequest(taxonomy, job.request(), policy, day);
  if (!query.ok()) return query.status();
  compiled.query = *std::move(query);
  compiled.job = job;
  compiled.job.set_status(compiled.status);
  return compiled;
}

absl::StatusOr<CompiledJob> RecompileJob(const Taxonomy& taxonomy,
                                         const CompiledJob& job,
                                         const v1::Policy* policy,
                                         DayNumber day) {
  CompiledJob copy = job;
  absl::StatusOr<CompiledQuery> query =
      CompileRequest(taxonomy, job.job.request(), policy, day);
  if (!query.ok()) return query.status();
  copy.query = *std::move(query);
  return copy;
}

}  // namespace pamatch
