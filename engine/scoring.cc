#include "engine/scoring.h"

#include "engine/validation.h"

#include <algorithm>
#include <cmath>

namespace pamatch {
namespace {

bool HasAll(const std::vector<CodeId>& held, const std::vector<CodeId>& wanted) {
  return std::includes(held.begin(), held.end(), wanted.begin(), wanted.end());
}

int CountShared(const std::vector<CodeId>& a, const std::vector<CodeId>& b) {
  int shared = 0;
  for (CodeId id : b) shared += ContainsId(a, id) ? 1 : 0;
  return shared;
}

template <typename T>
bool Contains(const std::vector<T>& sorted, T value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

}  // namespace

bool RequiredTrainingUnexpired(const CompiledQuery& q,
                               const CompiledProfile& p) {
  for (CodeId code : q.required_training) {
    if (!TrainingUnexpired(p.TrainingExpiry(code), q.as_of)) return false;
  }
  return true;
}

int PreferredTrainingHeld(const CompiledQuery& q, const CompiledProfile& p) {
  int held = 0;
  for (CodeId code : q.preferred_training) {
    held += TrainingUnexpired(p.TrainingExpiry(code), q.as_of) ? 1 : 0;
  }
  return held;
}

int PreferenceListsGiven(const CompiledQuery& q) {
  return !q.preferred_languages.empty() + !q.preferred_genders.empty() +
         !q.preferred_age_bands.empty();
}

bool PassesSetFilters(const CompiledQuery& q, const CompiledProfile& p) {
  return p.active && PassesSetFiltersAnyStatus(q, p);
}

bool PassesSetFiltersAnyStatus(const CompiledQuery& q,
                               const CompiledProfile& p) {
  if (!HasAll(p.skills, q.must_have_skills)) return false;
  for (CodeId code : q.required_training) {
    if (p.TrainingExpiry(code) == kNoDate) return false;
  }
  if (p.dbs_level < q.min_dbs_level) return false;
  if (p.register_level < q.min_register_level) return false;
  if (q.requires_driver && !p.driving_licence) return false;
  if (q.requires_car && !p.has_car) return false;
  if (q.has_pets && !p.ok_with_pets) return false;
  if (q.requires_non_smoker && !p.non_smoker) return false;
  if (!HasAll(p.languages, q.required_languages)) return false;
  if (q.required_gender && p.gender != *q.required_gender) return false;
  if (q.short_notice && !p.short_notice_cover) return false;
  return true;
}

bool PassesResidualFilters(const CompiledQuery& q, const CompiledProfile& p,
                           double distance_km) {
  if (!WithinReach(distance_km, p.max_travel_km,
                   DistanceLimitKm(q.max_distance_km))) {
    return false;
  }
  if (!q.exclude_ids.empty() && q.exclude_ids.contains(p.id)) return false;
  if (!AudienceSees(q, p.local_authority)) return false;
  if (!RequiredTrainingUnexpired(q, p)) return false;
  if (q.min_dbs_level > v1::DBS_NONE &&
      !DbsFreshOn(DbsFreshnessKey(p.dbs_update_service, p.dbs_issued_on),
                  q.dbs_fresh_since)) {
    return false;
  }
  if (!CoverageOk(CoveredSlots(q.schedule, p.availability), q.needed_slots,
                  q.min_schedule_coverage)) {
    return false;
  }
  return RateAccepted(p.min_hourly_rate_pence,
                      RateCeiling(q.max_hourly_rate_pence));
}

std::array<double, kComponentCount> ComponentValues(const CompiledQuery& q,
                                                    const CompiledProfile& p,
                                                    double distance_km) {
  std::array<double, kComponentCount> s{};
  if (q.applies[kSkills]) {
    s[kSkills] = SkillsValue(CountShared(p.skills, q.nice_to_have_skills),
                             q.nice_to_have_skills.size());
  }
  if (q.applies[kSchedule]) {
    s[kSchedule] = ScheduleValue(CoveredSlots(q.schedule, p.availability),
                                 q.needed_slots);
  }
  s[kDistance] = DistanceValue(distance_km);
  if (q.applies[kInterests]) {
    s[kInterests] = InterestsValue(CountShared(p.interests, q.interests),
                                   q.interests.size());
  }
  if (q.applies[kPreferences]) {
    int met = 0;
    if (!q.preferred_languages.empty()) {
      met += CountShared(p.languages, q.preferred_languages) > 0 ? 1 : 0;
    }
    if (!q.preferred_genders.empty()) {
      met += Contains(q.preferred_genders, p.gender) ? 1 : 0;
    }
    if (!q.preferred_age_bands.empty()) {
      met += Contains(q.preferred_age_bands, p.age_band) ? 1 : 0;
    }
    s[kPreferences] = PreferencesValue(met, PreferenceListsGiven(q));
  }
  if (q.applies[kTraining]) {
    s[kTraining] = TrainingValue(PreferredTrainingHeld(q, p),
                                 q.preferred_training.size());
  }
  s[kTrust] = TrustValue(p.register_level);
  s[kRecency] = RecencyValue(q.as_of_start_seconds, p.has_last_active,
                             p.last_active_seconds, p.last_active_nanos);
  return s;
}

double WeightedScore(const CompiledQuery& q,
                     const std::array<double, kComponentCount>& values) {
  double weighted = 0, total_weight = 0;
  for (int c = 0; c < kComponentCount; ++c) {
    if (!q.applies[c]) continue;
    weighted += q.weights[c] * values[c];
    total_weight += q.weights[c];
  }
  if (total_weight == 0) return 0;
  return weighted / total_weight;
}

double RoundDecimal(double x, int decimals) {
  // Ties to even and the rest are symmetric about 0; below, x >= 0 keeps
  // p - floor(p) exact (for -1 < p < 0 it would round).
  if (std::signbit(x)) return -RoundDecimal(-x, decimals);
  static constexpr double kScale[] = {1e0, 1e1, 1e2, 1e3, 1e4,
                                      1e5, 1e6, 1e7, 1e8, 1e9};
  const double scale = kScale[decimals];
  const double p = x * scale;  // rounded: x * scale == p + error exactly
  const double below = std::floor(p);
  const double fraction = p - below;  // exact
  // fraction and 1/2 are both multiples of p's ulp, and |error| is at most
  // half an ulp: only a product that lands exactly on a half can be off
  // (the exact value being a little above or below it, or exactly on it).
  bool up = fraction > 0.5;
  if (fraction == 0.5) {
    const double error = std::fma(x, scale, -p);
    up = error > 0 || (error == 0 && std::fmod(below, 2) != 0);
  }
  // Both operands exact, so the quotient is the double nearest the
  // decimal, as a decimal-to-double conversion would give.
  return (up ? below + 1 : below) / scale;
}

double Score(const CompiledQuery& q,
             const std::array<double, kComponentCount>& values) {
  return RoundDecimal(WeightedScore(q, values), kScoreDecimals);
}

bool ComesBefore(const Match& a, const Match& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.distance_km != b.distance_km) return a.distance_km < b.distance_km;
  return a.profile->id < b.profile->id;
}

SearchCollector::SearchCollector(const CompiledQuery& query,
                                 const Taxonomy& taxonomy)
    : query_(query), taxonomy_(taxonomy) {}

void SearchCollector::Consider(const CompiledProfile& profile) {
  if (!PassesSetFilters(query_, profile)) return;
  const double distance =
      HaversineKm(query_.lat, query_.lon, query_.cos_lat, profile.lat,
                  profile.lon, profile.cos_lat);
  if (!PassesResidualFilters(query_, profile, distance)) return;
  ++total_matches_;
  Offer({Score(query_, ComponentValues(query_, profile, distance)), distance,
         &profile});
}

void SearchCollector::Offer(const Match& match) {
  if (query_.cursor && !AfterCursor(*query_.cursor, match.score,
                                    match.distance_km, match.profile->id)) {
    return;
  }
  // Keep the best page_size + 1 (the extra one tells whether a next page
  // exists) in a heap whose top is the worst kept match.
  const size_t keep = static_cast<size_t>(query_.page_size) + 1;
  if (best_.size() == keep && !ComesBefore(match, best_.front())) return;
  best_.push_back(match);
  std::push_heap(best_.begin(), best_.end(), ComesBefore);
  if (best_.size() > keep) {
    std::pop_heap(best_.begin(), best_.end(), ComesBefore);
    best_.pop_back();
  }
}

v1::SearchResponse SearchCollector::Finish() {
  v1::SearchResponse response;
  response.set_total_matches(total_matches_);
  response.set_applied_policy(query_.applied_policy);
  response.set_as_of(FormatDate(query_.as_of));
  std::sort_heap(best_.begin(), best_.end(), ComesBefore);
  const size_t page = std::min<size_t>(query_.page_size, best_.size());
  for (size_t i = 0; i < page; ++i) {
    const Match& match = best_[i];
    v1::SearchResult* result = response.add_results();
    result->set_id(match.profile->id);
    result->set_score(match.score);
    result->set_distance_km(match.distance_km);
    result->set_register_level(match.profile->register_level);
    if (query_.explain) {
      ExplainMatch(query_, taxonomy_, *match.profile, match.distance_km,
                   result->mutable_explanation());
    }
  }
  if (best_.size() > page && page > 0) {
    const Match& last = best_[page - 1];
    response.set_next_page_token(EncodePageToken(
        query_, PageCursor{last.score, last.distance_km, last.profile->id}));
  }
  return response;
}

void ExplainMatch(const CompiledQuery& query, const Taxonomy& taxonomy,
                  const CompiledProfile& p, double distance_km,
                  v1::Explanation* out) {
  const auto values = ComponentValues(query, p, distance_km);
  for (int c = 0; c < kComponentCount; ++c) {
    if (!query.applies[c]) continue;
    v1::ScoreComponent* component = out->add_components();
    component->set_name(kComponentNames[c]);
    component->set_value(values[c]);
    component->set_weight(query.weights[c]);
  }
  for (CodeId id : query.nice_to_have_skills_in_request_order) {
    if (ContainsId(p.skills, id)) {
      out->add_matched_skills(taxonomy.skills().code(id));
    } else {
      out->add_missing_skills(taxonomy.skills().code(id));
    }
  }
  for (CodeId id : query.interests_in_request_order) {
    if (ContainsId(p.interests, id)) {
      out->add_shared_interests(taxonomy.interests().code(id));
    }
  }
  out->set_distance_km(RoundDecimal(distance_km, kExplainedDistanceDecimals));
  out->set_covered_slots(CoveredSlots(query.schedule, p.availability));
  out->set_needed_slots(query.needed_slots);
  out->set_register_level(p.register_level);
}

}  // namespace pamatch
