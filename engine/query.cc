#include "engine/query.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/geo.h"
#include "engine/profile.h"
#include "engine/validation.h"
#include "pamatch/internal/internal.pb.h"

namespace pamatch {

const std::array<const char*, kComponentCount> kComponentNames = {
    "skills",      "schedule", "distance", "interests",
    "preferences", "training", "trust",    "recency"};
const std::array<double, kComponentCount> kDefaultWeights = {
    0.30, 0.25, 0.15, 0.10, 0.10, 0.05, 0.05, 0.05};

void RestrictToAuthorities(const Taxonomy& taxonomy,
                           const std::vector<std::string>& codes,
                           CompiledQuery* q) {
  q->audience.clear();
  if (codes.empty()) return;
  // Not empty even when no code is known: then no PA is seen.
  q->audience.assign(taxonomy.local_authorities().size() + 1, false);
  for (const std::string& code : codes) {
    const int la = taxonomy.local_authorities().Find(code);
    if (la >= 0) q->audience[static_cast<size_t>(la)] = true;
  }
}

uint64_t StableHash(absl::string_view bytes) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

namespace {

constexpr double kMaxSearchDistanceKm = 1000;
constexpr int kMaxDbsAgeMonths = 600;


uint64_t Fingerprint(const v1::SearchRequest& request) {
  v1::SearchRequest copy = request;
  copy.clear_page_token();
  copy.clear_page_size();
  copy.clear_explain();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return StableHash(bytes);
}

template <typename Enum>
absl::StatusOr<std::vector<Enum>> ResolveEnums(
    const google::protobuf::RepeatedField<int>& values, bool (*is_valid)(int),
    Enum unspecified, Enum undisclosed, absl::string_view field) {
  std::vector<Enum> out;
  for (int i = 0; i < values.size(); ++i) {
    if (!is_valid(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "[", i, "]: ", values[i], " is not a known value"));
    }
    const Enum value = static_cast<Enum>(values[i]);
    out.push_back(value == unspecified ? undisclosed : value);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::Status CompileLocation(const Taxonomy& taxonomy,
                             const v1::SearchRequest& request,
                             CompiledQuery* q) {
  int la = -1;
  if (!request.local_authority().empty()) {
    la = taxonomy.local_authorities().Find(request.local_authority());
    if (la < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "local_authority: unknown local authority code \"",
          request.local_authority().substr(0, 64), "\""));
    }
  }
  if (request.has_location()) {
    absl::Status status = ValidateLocation(request.location(), "location");
    if (!status.ok()) return status;
    q->lat = request.location().lat();
    q->lon = request.location().lon();
  } else if (la >= 0) {
    q->lat = taxonomy.local_authority(static_cast<CodeId>(la)).lat;
    q->lon = taxonomy.local_authority(static_cast<CodeId>(la)).lon;
  } else {
    return absl::InvalidArgumentError(
        "location: required (or give local_authority to search from its "
        "centre)");
  }
  if (request.has_max_distance_km()) {
    const double km = request.max_distance_km();
    if (!(km > 0) || !std::isfinite(km)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "max_distance_km: ", ExactNumber(km),
          " is not a distance (finite, > 0)"));
    }
    // No PA travels further than 200 km (kMaxTravelKm), so any larger
    // limit means the same, "as far as the PAs travel"; it is kept at
    // kMaxSearchDistanceKm only to keep the plan's arithmetic small.
    q->max_distance_km = std::min(km, kMaxSearchDistanceKm);
  }
  return absl::OkStatus();
}

absl::Status CompileCodes(const Taxonomy& taxonomy,
                          const v1::SearchRequest& request, CompiledQuery* q) {
  struct List {
    const Vocabulary& vocabulary;
    const google::protobuf::RepeatedPtrField<std::string>& codes;
    const char* field;
    std::vector<CodeId>* out;
  };
  const List lists[] = {
      {taxonomy.skills(), request.must_have_skills(), "must_have_skills",
       &q->must_have_skills},
      {taxonomy.skills(), request.nice_to_have_skills(), "nice_to_have_skills",
       &q->nice_to_have_skills},
      {taxonomy.training(), request.required_training(), "required_training",
       &q->required_training},
      {taxonomy.training(), request.preferred_training(), "preferred_training",
       &q->preferred_training},
      {taxonomy.languages(), request.required_languages(),
       "required_languages", &q->required_languages},
      {taxonomy.languages(), request.preferred_languages(),
       "preferred_languages", &q->preferred_languages},
      {taxonomy.interests(), request.interests(), "interests", &q->interests},
  };
  for (const List& list : lists) {
    auto ids =
        ResolveCodes(list.vocabulary, list.codes, list.field);
    if (!ids.ok()) return ids.status();
    *list.out = *std::move(ids);
  }
  auto in_request_order = [](const Vocabulary& vocabulary,
                             const google::protobuf::RepeatedPtrField<std::string>& codes) {
    std::vector<CodeId> ordered;
    for (const std::string& code : codes) {
      const CodeId id = static_cast<CodeId>(vocabulary.Find(code));
      if (std::find(ordered.begin(), ordered.end(), id) == ordered.end()) {
        ordered.push_back(id);
      }
    }
    return ordered;
  };
  q->nice_to_have_skills_in_request_order =
      in_request_order(taxonomy.skills(), request.nice_to_have_skills());
  q->interests_in_request_order =
      in_request_order(taxonomy.interests(), request.interests());
  auto genders = ResolveEnums<v1::Gender>(
      request.preferred_genders(), v1::Gender_IsValid, v1::GENDER_UNSPECIFIED,
      v1::GENDER_UNDISCLOSED, "preferred_genders");
  if (!genders.ok()) return genders.status();
  q->preferred_genders = *std::move(genders);
  auto bands = ResolveEnums<v1::AgeBand>(
      request.preferred_age_bands(), v1::AgeBand_IsValid,
      v1::AGE_BAND_UNSPECIFIED, v1::AGE_BAND_UNDISCLOSED,
      "preferred_age_bands");
  if (!bands.ok()) return bands.status();
  q->preferred_age_bands = *std::move(bands);
  return absl::OkStatus();
}

absl::Status CompileChecks(const Taxonomy& taxonomy,
                           const v1::SearchRequest& request, CompiledQuery* q) {
  if (!v1::DbsLevel_IsValid(request.min_dbs_level())) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_dbs_level: ", static_cast<int>(request.min_dbs_level()),
                     " is not a DBS level"));
  }
  q->min_dbs_level = std::max(v1::DBS_NONE, request.min_dbs_level());
  if (request.has_dbs_max_age_months()) {
    const int months = request.dbs_max_age_months();
    if (months < 1 || months > kMaxDbsAgeMonths) {
      return absl::InvalidArgumentError(
          absl::StrCat("dbs_max_age_months: ", months, " is outside 1..",
                       kMaxDbsAgeMonths));
    }
    q->dbs_max_age_months = months;
  }
  if (request.min_register_level() < 0 || request.min_register_level() > 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min_register_level: ", request.min_register_level(),
        " is outside 0..4"));
  }
  q->min_register_level = request.min_register_level();
  if (!v1::Gender_IsValid(request.required_gender())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "required_gender: ", static_cast<int>(request.required_gender()),
        " is not a gender"));
  }
  if (request.required_gender() != v1::GENDER_UNSPECIFIED) {
    const int personal_care = taxonomy.skills().Find("personal_care");
    if (personal_care < 0 ||
        !ContainsId(q->must_have_skills, static_cast<CodeId>(personal_care))) {
      return absl::InvalidArgumentError(
          "required_gender: accepted only when \"personal_care\" is among "
          "must_have_skills (the occupational-requirement exception for "
          "intimate care); use preferred_genders otherwise");
    }
    q->required_gender = request.required_gender();
  }
  q->requires_driver = request.requires_driver();
  q->requires_car = request.requires_car();
  q->has_pets = request.has_pets();
  q->requires_non_smoker = request.requires_non_smoker();
  q->short_notice = request.short_notice();
  if (request.max_hourly_rate_pence() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_hourly_rate_pence: ", request.max_hourly_rate_pence(),
                     " is negative"));
  }
  // No PA asks for more than kMaxRatePence, so a higher cap passes them
  // all, as kMaxRatePence does.
  q->max_hourly_rate_pence =
      std::min<int64_t>(request.max_hourly_rate_pence(), kMaxRatePence);
  if (request.exclude_ids_size() > kMaxExcludeIdItems) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exclude_ids: ", request.exclude_ids_size(), " items, at most ",
        kMaxExcludeIdItems, " (repeated ids included)"));
  }
  for (int i = 0; i < request.exclude_ids_size(); ++i) {
    const std::string& id = request.exclude_ids(i);
    // The item's name is built only for an error.
    if (!ValidateId(id, "exclude_ids").ok()) {
      return ValidateId(id, absl::StrCat("exclude_ids[", i, "]"));
    }
    q->exclude_ids.insert(id);
    // A set: repeated ids count once.
    if (q->exclude_ids.size() > static_cast<size_t>(kMaxExcludeIds)) {
      return absl::InvalidArgumentError(
          absl::StrCat("exclude_ids: more than ", kMaxExcludeIds,
                       " distinct ids (at most ", kMaxExcludeIds, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CompileSchedule(const v1::SearchRequest& request,
                             CompiledQuery* q) {
  auto slots = SlotsFromIntervals(request.schedule(), "schedule");
  if (!slots.ok()) return slots.status();
  q->schedule = *slots;
  q->needed_slots = static_cast<int>(q->schedule.count());
  absl::Status status = CheckRange(request.min_schedule_coverage(), 0, 1,
                                   "min_schedule_coverage");
  if (!status.ok()) return status;
  q->min_schedule_coverage = request.min_schedule_coverage();
  return absl::OkStatus();
}

absl::Status CompileWeights(const v1::Weights& weights, CompiledQuery* q) {
  const bool has[kComponentCount] = {
      weights.has_skills(),      weights.has_schedule(),
      weights.has_distance(),    weights.has_interests(),
      weights.has_preferences(), weights.has_training(),
      weights.has_trust(),       weights.has_recency()};
  const double value[kComponentCount] = {
      weights.skills(),      weights.schedule(), weights.distance(),
      weights.interests(),   weights.preferences(), weights.training(),
      weights.trust(),       weights.recency()};
  for (int c = 0; c < kComponentCount; ++c) {
    if (!has[c]) continue;
    absl::Status status = CheckRange(value[c], 0, 100,
                                     absl::StrCat("weights.", kComponentNames[c]));
    if (!status.ok()) return status;
    q->weights[c] = value[c];
  }
  q->applies[kSkills] = !q->nice_to_have_skills.empty();
  q->applies[kSchedule] = q->needed_slots > 0;
  q->applies[kDistance] = true;
  q->applies[kInterests] = !q->interests.empty();
  q->applies[kPreferences] = !q->preferred_languages.empty() ||
                             !q->preferred_genders.empty() ||
                             !q->preferred_age_bands.empty();
  q->applies[kTraining] = !q->preferred_training.empty();
  q->applies[kTrust] = true;
  q->applies[kRecency] = true;
  return absl::OkStatus();
}

// Decodes the page token and fixes as_of (request, else token, else today).
absl::Status CompilePaging(const v1::SearchRequest& request, absl::Time now,
                           CompiledQuery* q) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size: ", request.page_size(), " is outside 1..", kMaxPageSize,
        " (0 = ", kDefaultPageSize, ")"));
  }
  q->page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  q->fingerprint = Fingerprint(request);
  std::string token_as_of;
  if (!request.page_token().empty()) {
    absl::StatusOr<DecodedPageToken> token =
        DecodePageToken(request.page_token(), q->fingerprint);
    if (!token.ok()) return token.status();
    q->cursor = std::move(token->cursor);
    token_as_of = std::move(token->as_of);
  }
  const std::string& as_of =
      !request.as_of().empty() ? request.as_of() : token_as_of;
  if (as_of.empty()) {
    q->as_of = DayOf(now);
  } else {
    absl::StatusOr<DayNumber> day = ParseDate(as_of, "as_of");
    if (!day.ok()) return day.status();
    q->as_of = *day;
  }
  return absl::OkStatus();
}

// The stricter of request and policy.
absl::Status ApplyPolicy(const Taxonomy& taxonomy, const v1::Policy& policy,
                         CompiledQuery* q) {
  q->applied_policy = policy.local_authority();
  q->min_dbs_level = std::max(q->min_dbs_level, policy.min_dbs_level());
  q->min_register_level =
      std::max(q->min_register_level, policy.min_register_level());
  for (const std::string& code : policy.required_training()) {
    const int id = taxonomy.training().Find(code);
    if (id < 0) {
      // The taxonomy lost a code a stored policy uses: fail loudly rather
      // than silently weaken the policy.
      return absl::FailedPreconditionError(absl::StrCat(
          "policy ", policy.local_authority(),
          " requires training code \"", code, "\" the taxonomy no longer has"));
    }
    q->required_training.push_back(static_cast<CodeId>(id));
  }
  std::sort(q->required_training.begin(), q->required_training.end());
  q->required_training.erase(
      std::unique(q->required_training.begin(), q->required_training.end()),
      q->required_training.end());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CompiledQuery> CompileQuery(const Taxonomy& taxonomy,
                                           const v1::SearchRequest& request,
                                           const v1::Policy* policy,
                                           absl::Time now) {
  CompiledQuery q;
  absl::Status status = CheckNoUnknownFields(request, "");
  if (status.ok()) status = CompileLocation(taxonomy, request, &q);
  if (status.ok()) status = CompileCodes(taxonomy, request, &q);
  if (status.ok()) status = CompileChecks(taxonomy, request, &q);
  if (status.ok()) status = CompileSchedule(request, &q);
  if (status.ok()) status = CompileWeights(request.weights(), &q);
  if (status.ok()) status = CompilePaging(request, now, &q);
  if (status.ok() && policy != nullptr) {
    status = ApplyPolicy(taxonomy, *policy, &q);
  }
  if (!status.ok()) return status;
  SetAsOf(q.as_of, &q);
  q.cos_lat = CosLat(q.lat);
  q.explain = request.explain();
  return q;
}

void SetAsOf(DayNumber day, CompiledQuery* q) {
  q->as_of = day;
  q->as_of_start_seconds = StartOfDaySeconds(day);
  q->dbs_fresh_since = EarliestFreshIssue(day, q->dbs_max_age_months);
}

std::string EncodePageToken(const CompiledQuery& query, const PageCursor& last) {
  return EncodePageToken(last, query.fingerprint, query.as_of);
}

namespace {

// The bytes of `token` as the encoder writes them: deterministic, fields in
// number order (the message has no maps).
std::string TokenBytes(const internal::PageToken& token) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    token.SerializeToCodedStream(&coded);
  }
  return bytes;
}

// The hash of every field but `check` itself. Not a secret MAC: it makes a
// changed or damaged token fail loudly instead of silently paging from
// another place. A client that mints a well-formed token gains nothing: the
// fingerprint must be that of the request it comes with, and the cursor
// only says where in that request's own results the page starts.
uint64_t TokenCheck(internal::PageToken token) {
  token.clear_check();
  return StableHash(absl::StrCat("pa-match page token 1\n", TokenBytes(token)));
}

}  // namespace

std::string EncodePageToken(const PageCursor& last, uint64_t fingerprint,
                            DayNumber as_of) {
  internal::PageToken token;
  token.set_score(last.score);
  token.set_distance_km(last.distance_km);
  token.set_id(last.id);
  token.set_request_fingerprint(fingerprint);
  token.set_as_of(FormatDate(as_of));
  token.set_check(TokenCheck(token));
  return absl::WebSafeBase64Escape(TokenBytes(token));
}

absl::StatusOr<DecodedPageToken> DecodePageToken(absl::string_view text,
                                                 uint64_t fingerprint) {
  // Only the exact text the encoder wrote is accepted: base64 with other
  // padding bits, protobuf with repeated, reordered or unknown fields, or
  // any changed byte (the check) is refused like a token of another
  // request.
  std::string bytes;
  internal::PageToken token;
  if (text.size() > 1024 || !absl::WebSafeBase64Unescape(text, &bytes) ||
      absl::WebSafeBase64Escape(bytes) != text ||
      !token.ParseFromString(bytes) || TokenBytes(token) != bytes ||
      token.check() != TokenCheck(token) ||
      token.request_fingerprint() != fingerprint) {
    return absl::InvalidArgumentError(
        "page_token: not a token issued for this request (send the same "
        "request with the previous page's next_page_token)");
  }
  return DecodedPageToken{
      PageCursor{token.score(), token.distance_km(), token.id()},
      token.as_of()};
}

bool AfterCursor(const PageCursor& cursor, double score, double distance_km,
                 absl::string_view id) {
  if (score != cursor.score) return score < cursor.score;
  if (distance_km != cursor.distance_km) return distance_km > cursor.distance_km;
  return id > cursor.id;
}

}  // namespace pamatch
