// A search request compiled for matching: validated, codes resolved, the
// local authority's policy folded in (the stricter of request and policy),
// as_of fixed, weights resolved and the paging cursor decoded. Immutable
// after CompileQuery; safe to read from any thread.
#ifndef PA_MATCH_ENGINE_QUERY_H_
#define PA_MATCH_ENGINE_QUERY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/availability.h"
#include "engine/dates.h"
#include "engine/taxonomy.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch {

// Score components in the order of MATCHING.md's table.
enum Component : int {
  kSkills = 0,
  kSchedule,
  kDistance,
  kInterests,
  kPreferences,
  kTraining,
  kTrust,
  kRecency,
  kComponentCount
};

// Component names as the API spells them, indexed by Component.
extern const std::array<const char*, kComponentCount> kComponentNames;
// Default weights, indexed by Component (the one source of truth).
extern const std::array<double, kComponentCount> kDefaultWeights;

inline constexpr int kDefaultPageSize = 20;
inline constexpr int kMaxPageSize = 100;
inline constexpr int kDefaultDbsMaxAgeMonths = 36;
inline constexpr int kMaxExcludeIds = 1000;       // distinct ids
inline constexpr int kMaxExcludeIdItems = 10000;  // as sent, repeats included

// Where a page starts: strictly after this (score, distance, id).
struct PageCursor {
  double score = 0;
  double distance_km = 0;
  std::string id;
};

struct CompiledQuery {
  double lat = 0, lon = 0;
  double cos_lat = 1;  // CosLat(lat)
  std::optional<double> max_distance_km;
  std::vector<CodeId> must_have_skills, nice_to_have_skills;
  std::vector<CodeId> required_training, preferred_training;
  v1::DbsLevel min_dbs_level = v1::DBS_NONE;  // never UNSPECIFIED
  int dbs_max_age_months = kDefaultDbsMaxAgeMonths;
  // A DBS check issued on or after this day is fresh on as_of.
  DayNumber dbs_fresh_since = 0;
  int min_register_level = 0;
  bool requires_driver = false, requires_car = false, has_pets = false,
       requires_non_smoker = false;
  std::vector<CodeId> required_languages, preferred_languages;
  std::vector<v1::Gender> preferred_genders;      // sorted, unique
  std::vector<v1::AgeBand> preferred_age_bands;   // sorted, unique
  std::optional<v1::Gender> required_gender;
  std::vector<CodeId> interests;
  // The same sets in the order the request first names each code, which
  // is the order explanations list matched/missing skills and interests in.
  std::vector<CodeId> nice_to_have_skills_in_request_order;
  std::vector<CodeId> interests_in_request_order;
  WeekSlots schedule;
  int needed_slots = 0;
  double min_schedule_coverage = 0;
  bool short_notice = false;
  int64_t max_hourly_rate_pence = 0;
  absl::flat_hash_set<std::string> exclude_ids;
  DayNumber as_of = 0;
  int64_t as_of_start_seconds = 0;  // 00:00 UTC of as_of
  int page_size = kDefaultPageSize;
  std::optional<PageCursor> cursor;
  uint64_t fingerprint = 0;  // binds page tokens to this request
  std::array<double, kComponentCount> weights = kDefaultWeights;
  std::array<bool, kComponentCount> applies{};
  bool explain = false;
  std::string applied_policy;  // local authority code, or empty
  // Who may see the results: when not empty, only PAs whose
  // local_authority's code id is set here match (a caller's key limited to
  // some authorities, service/api_keys.h); not part of the request, so not
  // in the fingerprint. Set by RestrictToAuthorities.
  std::vector<bool> audience;
};

// Limits `q` to PAs of the authorities `codes` (taxonomy codes; unknown ones
// reach no one). Empty `codes`: no limit.
void RestrictToAuthorities(const Taxonomy& taxonomy,
                           const std::vector<std::string>& codes,
                           CompiledQuery* q);

// Whether `q`'s audience sees a PA of local authority `la`.
inline bool AudienceSees(const CompiledQuery& q, CodeId la) {
  return q.audience.empty() || (la < q.audience.size() && q.audience[la]);
}

// Validates and compiles `request`. `policy` is the policy of the request's
// local_authority, if it has one. `now` gives as_of when the request and its
// page token have none.
absl::StatusOr<CompiledQuery> CompileQuery(const Taxonomy& taxonomy,
                                           const v1::SearchRequest& request,
                                           const v1::Policy* policy,
                                           absl::Time now);

// 64-bit FNV-1a: stable across processes and replicas, unlike absl::Hash
// (page tokens are bound to their request by it).
uint64_t StableHash(absl::string_view bytes);

// Judges `q` on `day`: sets as_of and what follows from it (the start of
// the day for recency, the earliest fresh DBS issue day). CompileQuery
// ends with this; a job's stored query is moved to another day with it.
void SetAsOf(DayNumber day, CompiledQuery* q);

// The opaque token that continues `query` after `last`.
std::string EncodePageToken(const CompiledQuery& query, const PageCursor& last);

// Page tokens, for any paged answer (Search, MatchJobs): the cursor, the
// fingerprint of the request they belong to, and the as_of of its first
// page, so that paging across midnight stays on one day.
std::string EncodePageToken(const PageCursor& last, uint64_t fingerprint,
                            DayNumber as_of);
struct DecodedPageToken {
  PageCursor cursor;
  std::string as_of;  // as the first page had it, "YYYY-MM-DD"
};
// INVALID_ARGUMENT "page_token" unless `token` is, byte for byte, a token
// EncodePageToken issued for a request with this fingerprint: a token of
// another request, a changed, truncated or extended one, is refused (the
// token carries a hash of its fields; docs/SECURITY.md).
absl::StatusOr<DecodedPageToken> DecodePageToken(absl::string_view token,
                                                 uint64_t fingerprint);

// Whether a result (score, distance, id) comes strictly after `cursor` in
// the order of results: score desc, distance asc, id asc.
bool AfterCursor(const PageCursor& cursor, double score, double distance_km,
                 absl::string_view id);

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_QUERY_H_
