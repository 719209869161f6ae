#include "engine/job_matching.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/geo.h"
#include "engine/scoring.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace pamatch {
namespace {

// Binds a page token to the PA it pages for: the request less its paging.
uint64_t Fingerprint(const v1::MatchJobsRequest& request) {
  v1::MatchJobsRequest copy = request;
  copy.clear_page_token();
  copy.clear_page_size();
  copy.clear_explain();
  copy.clear_as_of();
  std::string bytes = "MatchJobs:";
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return StableHash(bytes);
}

}  // namespace

const CompiledQuery& QueryOn(const CompiledJob& job, DayNumber day,
                             CompiledQuery* scratch) {
  if (job.query.as_of == day) return job.query;
  *scratch = job.query;
  SetAsOf(day, scratch);
  return *scratch;
}

std::optional<PairMatch> JudgePair(const CompiledQuery& q,
                                   const CompiledProfile& pa) {
  if (!PassesSetFiltersAnyStatus(q, pa)) return std::nullopt;
  // The distance as the forward search computes it: from the query.
  const double distance =
      HaversineKm(q.lat, q.lon, q.cos_lat, pa.lat, pa.lon, pa.cos_lat);
  if (!PassesResidualFilters(q, pa, distance)) return std::nullopt;
  return PairMatch{Score(q, ComponentValues(q, pa, distance)), distance};
}

std::optional<PairMatch> JudgeJobPair(const CompiledJob& job, DayNumber day,
                                      const CompiledProfile& pa,
                                      CompiledQuery* scratch) {
  if (job.query.as_of == day) return JudgePair(job.query, pa);
  const CompiledQuery& stored = job.query;
  if (!PassesSetFiltersAnyStatus(stored, pa)) return std::nullopt;
  const double distance = HaversineKm(stored.lat, stored.lon, stored.cos_lat,
                                      pa.lat, pa.lon, pa.cos_lat);
  if (!WithinReach(distance, pa.max_travel_km,
                   DistanceLimitKm(stored.max_distance_km))) {
    return std::nullopt;
  }
  return JudgePair(QueryOn(job, day, scratch), pa);
}

void ForEachJobMatch(const JobIndex& jobs, const CompiledProfile& pa,
                     DayNumber day, JobMatchVisit visit) {
  CompiledQuery scratch;
  jobs.ForEachCandidate(pa, day, [&](const CompiledJob& job) {
    const std::optional<PairMatch> match = JudgeJobPair(job, day, pa, &scratch);
    if (match) visit(job, *match);
  });
}

namespace {

// JudgePair without the score: whether the pair matches.
bool Matches(const CompiledQuery& q, const CompiledProfile& pa) {
  if (!PassesSetFiltersAnyStatus(q, pa)) return false;
  const double distance =
      HaversineKm(q.lat, q.lon, q.cos_lat, pa.lat, pa.lon, pa.cos_lat);
  return PassesResidualFilters(q, pa, distance);
}

// JudgeJobPair without the score.
bool JobMatches(const CompiledJob& job, DayNumber day,
                const CompiledProfile& pa, CompiledQuery* scratch) {
  if (job.query.as_of == day) return Matches(job.query, pa);
  const CompiledQuery& stored = job.query;
  if (!PassesSetFiltersAnyStatus(stored, pa)) return false;
  const double distance = HaversineKm(stored.lat, stored.lon, stored.cos_lat,
                                      pa.lat, pa.lon, pa.cos_lat);
  if (!WithinReach(distance, pa.max_travel_km,
                   DistanceLimitKm(stored.max_distance_km))) {
    return false;
  }
  return Matches(QueryOn(job, day, scratch), pa);
}

}  // namespace

void ForEachMatchChange(const JobIndex& jobs, const CompiledProfile* before,
                        const CompiledProfile* after, DayNumber day,
                        MatchChangeVisit visit) {
  CompiledQuery scratch;
  jobs.ForEachCandidateOfEither(
      before, after, day, [&](const CompiledJob& job, bool of_before,
                              bool of_after) {
        const bool was =
            of_before && JobMatches(job, day, *before, &scratch);
        if (was) {
          if (!of_after || !JobMatches(job, day, *after, &scratch)) {
            visit(job, /*started=*/false, nullptr);
          }
          return;
        }
        if (!of_after) return;
        const std::optional<PairMatch> now =
            JudgeJobPair(job, day, *after, &scratch);
        if (now) visit(job, /*started=*/true, &*now);
      });
}

absl::Status ForEachJobMatchReference(const JobIndex& jobs,
                                      const Taxonomy& taxonomy,
                                      const PolicyOf& policy_of,
                                      const CompiledProfile& pa, DayNumber day,
                                      JobMatchVisit visit) {
  absl::Status status;
  jobs.ForEach([&](const JobPtr& job) {
    if (!status.ok() || !job->OpenOn(day)) return;
    v1::SearchRequest request = job->job.request();
    request.set_as_of(FormatDate(day));
    const std::optional<v1::Policy> policy = policy_of(job->local_authority);
    absl::StatusOr<CompiledQuery> query = CompileQuery(
        taxonomy, request, policy ? &*policy : nullptr, absl::UnixEpoch());
    if (!query.ok()) {
      status = query.status();
      return;
    }
    const std::optional<PairMatch> match = JudgePair(*query, pa);
    if (match) visit(*job, *match);
  });
  return status;
}

absl::StatusOr<MatchJobsQuery> CompileMatchJobs(
    const v1::MatchJobsRequest& request, absl::Time now) {
  MatchJobsQuery q;
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: ", request.page_size(), " is outside 1..", kMaxPageSize,
        " (0 = ", kDefaultPageSize, ")"));
  }
  q.page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  q.fingerprint = Fingerprint(request);
  q.explain = request.explain();
  std::string token_as_of;
  if (!request.page_token().empty()) {
    absl::StatusOr<DecodedPageToken> token =
        DecodePageToken(request.page_token(), q.fingerprint);
    if (!token.ok()) return token.status();
    q.cursor = std::move(token->cursor);
    token_as_of = std::move(token->as_of);
  }
  const std::string& as_of =
      !request.as_of().empty() ? request.as_of() : token_as_of;
  if (as_of.empty()) {
    q.as_of = DayOf(now);
  } else {
    absl::StatusOr<DayNumber> day = ParseDate(as_of, "as_of");
    if (!day.ok()) return day.status();
    q.as_of = *day;
  }
  return q;
}

JobCollector::JobCollector(const MatchJobsQuery& query,
                           const Taxonomy& taxonomy, const CompiledProfile& pa)
    : query_(query), taxonomy_(taxonomy), pa_(pa) {}

bool JobCollector::ComesBefore(const Kept& a, const Kept& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.distance_km != b.distance_km) return a.distance_km < b.distance_km;
  return a.job->id < b.job->id;
}

void JobCollector::Offer(const CompiledJob& job, const PairMatch& match) {
  ++total_;
  const Kept kept{match.score, match.distance_km, &job};
  if (query_.cursor &&
      !AfterCursor(*query_.cursor, kept.score, kept.distance_km, job.id)) {
    return;
  }
  const size_t keep = static_cast<size_t>(query_.page_size) + 1;
  if (best_.size() == keep && !ComesBefore(kept, best_.front())) return;
  best_.push_back(kept);
  std::push_heap(best_.begin(), best_.end(), ComesBefore);
  if (best_.size() > keep) {
    std::pop_heap(best_.begin(), best_.end(), ComesBefore);
    best_.pop_back();
  }
}

v1::MatchJobsResponse JobCollector::Finish() {
  v1::MatchJobsResponse response;
  response.set_total_matches(total_);
  response.set_as_of(FormatDate(query_.as_of));
  response.set_register_level(pa_.register_level);
  std::sort_heap(best_.begin(), best_.end(), ComesBefore);
  const size_t page = std::min<size_t>(query_.page_size, best_.size());
  CompiledQuery scratch;
  for (size_t i = 0; i < page; ++i) {
    const Kept& kept = best_[i];
    v1::JobMatch* result = response.add_results();
    result->set_job_id(kept.job->id);
    result->set_score(kept.score);
    result->set_distance_km(kept.distance_km);
    result->set_local_authority(kept.job->local_authority);
    result->set_applied_policy(kept.job->query.applied_policy);
    if (query_.explain) {
      ExplainMatch(QueryOn(*kept.job, query_.as_of, &scratch), taxonomy_, pa_,
                   kept.distance_km, result->mutable_explanation());
    }
  }
  if (best_.size() > page && page > 0) {
    const Kept& last = best_[page - 1];
    response.set_next_page_token(EncodePageToken(
        PageCursor{last.score, last.distance_km, last.job->id},
        query_.fingerprint, query_.as_of));
  }
  return response;
}

}  // namespace pamatch
