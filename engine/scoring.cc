#include "engine/scoring.h"

#include "engine/validation.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pamatch {
namespace {

// One multiplication by a precomputed constant, as C's and Python's
// math.radians do, so that independent implementations agree to the bit.
double Radians(double degrees) { return degrees * (std::numbers::pi / 180.0); }

bool HasAll(const std::vector<CodeId>& held, const std::vector<CodeId>& wanted) {
  return std::includes(held.begin(), held.end(), wanted.begin(), wanted.end());
}

int CountShared(const std::vector<CodeId>& a, const std::vector<CodeId>& b) {
  int shared = 0;
  for (CodeId id : b) shared += ContainsId(a, id) ? 1 : 0;
  return shared;
}


bool DbsFresh(const CompiledQuery& query, const CompiledProfile& profile) {
  if (profile.dbs_update_service) return true;
  if (profile.dbs_issued_on == kNoDate) return false;
  // Same as AddMonthsClamped(issued_on, months) >= as_of (dates.h).
  return profile.dbs_issued_on >= query.dbs_fresh_since;
}

int CoveredSlots(const CompiledQuery& query, const CompiledProfile& profile) {
  return static_cast<int>((query.schedule & profile.availability).count());
}

template <typename T>
bool Contains(const std::vector<T>& sorted, T value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

}  // namespace

int64_t DaysSinceActive(int64_t as_of_start_seconds, int64_t seconds,
                        int32_t nanos) {
  // days = max(0, floor((00:00 UTC of as_of - last_active) / 24 h)).
  // With 0 <= nanos < 1e9 that is floor((D - (nanos > 0)) / 86400) for the
  // whole seconds D: subtracting a fraction below one second moves the
  // floor only when D is a multiple of a day, exactly as subtracting one.
  if (nanos >= 0 && nanos < 1000000000) {
    const int64_t d = as_of_start_seconds - seconds - (nanos > 0 ? 1 : 0);
    if (d <= 0) return 0;
    return d / 86400;
  }
  // Otherwise in 128-bit nanoseconds.
  const __int128 diff_ns =
      static_cast<__int128>(as_of_start_seconds - seconds) * 1000000000 -
      nanos;
  const __int128 day_ns = static_cast<__int128>(86400) * 1000000000;
  __int128 days = diff_ns / day_ns;
  if (diff_ns % day_ns != 0 && diff_ns < 0) --days;  // floor, not truncate
  return days < 0 ? 0 : static_cast<int64_t>(days);
}

double RecencyValue(int64_t days) {
  constexpr int64_t kTableDays = 2048;
  static const std::array<double, kTableDays> table = [] {
    std::array<double, kTableDays> values;
    for (int64_t d = 0; d < kTableDays; ++d) values[d] = std::pow(0.5, d / 30.0);
    return values;
  }();
  return days < kTableDays ? table[days] : std::pow(0.5, days / 30.0);
}

bool TrainingUnexpired(const CompiledProfile& profile, CodeId code,
                       DayNumber as_of) {
  const DayNumber expires = profile.TrainingExpiry(code);
  return expires != kNoDate && expires >= as_of;
}

double CosLat(double lat) { return std::cos(Radians(lat)); }

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  return HaversineKm(lat1, lon1, CosLat(lat1), lat2, lon2, CosLat(lat2));
}

double HaversineKm(double lat1, double lon1, double cos_lat1, double lat2,
                   double lon2, double cos_lat2) {
  // Differences are taken in degrees, then converted: mirror-image points
  // (lon0 - d, lon0 + d) get bit-identical distances when d is exact, so
  // their order falls to the id as the contract intends. Evaluation order
  // is that of the textbook formula (sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)).
  const double dphi = Radians(lat2 - lat1);
  const double dlambda = Radians(lon2 - lon1);
  const double s1 = std::sin(dphi / 2), s2 = std::sin(dlambda / 2);
  const double a = s1 * s1 + cos_lat1 * cos_lat2 * (s2 * s2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

bool PassesSetFilters(const CompiledQuery& q, const CompiledProfile& p) {
  if (!p.active) return false;
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
  if (distance_km > p.max_travel_km) return false;
  if (q.max_distance_km && distance_km > *q.max_distance_km) return false;
  if (!q.exclude_ids.empty() && q.exclude_ids.contains(p.id)) return false;
  for (CodeId code : q.required_training) {
    if (!TrainingUnexpired(p, code, q.as_of)) return false;
  }
  if (q.min_dbs_level > v1::DBS_NONE && !DbsFresh(q, p)) return false;
  if (q.needed_slots > 0 &&
      static_cast<double>(CoveredSlots(q, p)) / q.needed_slots <
          q.min_schedule_coverage) {
    return false;
  }
  if (q.max_hourly_rate_pence > 0 &&
      p.min_hourly_rate_pence > q.max_hourly_rate_pence) {
    return false;
  }
  return true;
}

bool PassesHardFilters(const CompiledQuery& q, const CompiledProfile& p,
                       double distance_km) {
  return PassesSetFilters(q, p) && PassesResidualFilters(q, p, distance_km);
}

std::array<double, kComponentCount> ComponentValues(const CompiledQuery& q,
                                                    const CompiledProfile& p,
                                                    double distance_km) {
  std::array<double, kComponentCount> s{};
  if (q.applies[kSkills]) {
    s[kSkills] = static_cast<double>(CountShared(p.skills, q.nice_to_have_skills)) /
                 q.nice_to_have_skills.size();
  }
  if (q.applies[kSchedule]) {
    s[kSchedule] = static_cast<double>(CoveredSlots(q, p)) / q.needed_slots;
  }
  s[kDistance] = std::pow(0.5, distance_km / 8.0);
  if (q.applies[kInterests]) {
    s[kInterests] = static_cast<double>(CountShared(p.interests, q.interests)) /
                    q.interests.size();
  }
  if (q.applies[kPreferences]) {
    int lists = 0, hits = 0;
    if (!q.preferred_languages.empty()) {
      ++lists;
      hits += CountShared(p.languages, q.preferred_languages) > 0 ? 1 : 0;
    }
    if (!q.preferred_genders.empty()) {
      ++lists;
      hits += Contains(q.preferred_genders, p.gender) ? 1 : 0;
    }
    if (!q.preferred_age_bands.empty()) {
      ++lists;
      hits += Contains(q.preferred_age_bands, p.age_band) ? 1 : 0;
    }
    s[kPreferences] = static_cast<double>(hits) / lists;
  }
  if (q.applies[kTraining]) {
    int held = 0;
    for (CodeId code : q.preferred_training) {
      held += TrainingUnexpired(p, code, q.as_of) ? 1 : 0;
    }
    s[kTraining] = static_cast<double>(held) / q.preferred_training.size();
  }
  s[kTrust] = p.register_level / 4.0;
  s[kRecency] = p.has_last_active
                    ? RecencyValue(DaysSinceActive(q.as_of_start_seconds,
                                                   p.last_active_seconds,
                                                   p.last_active_nanos))
                    : 0.0;
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
  return RoundDecimal(WeightedScore(q, values), 6);
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
  if (PassesSetFilters(query_, profile)) ConsiderCandidate(profile);
}

void SearchCollector::ConsiderCandidate(const CompiledProfile& profile) {
  const double distance =
      HaversineKm(query_.lat, query_.lon, query_.cos_lat, profile.lat,
                  profile.lon, profile.cos_lat);
  if (!PassesResidualFilters(query_, profile, distance)) return;
  ++total_matches_;
  Offer({Score(query_, ComponentValues(query_, profile, distance)), distance,
         &profile});
}

void SearchCollector::Offer(const Match& match) {
  if (query_.cursor) {
    const PageCursor& c = *query_.cursor;
    // Strictly after the cursor in the result order.
    if (match.score != c.score) {
      if (match.score > c.score) return;
    } else if (match.distance_km != c.distance_km) {
      if (match.distance_km < c.distance_km) return;
    } else if (match.profile->id <= c.id) {
      return;
    }
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
    if (query_.explain) FillExplanation(match, result->mutable_explanation());
  }
  if (best_.size() > page && page > 0) {
    const Match& last = best_[page - 1];
    response.set_next_page_token(EncodePageToken(
        query_, PageCursor{last.score, last.distance_km, last.profile->id}));
  }
  return response;
}

void SearchCollector::FillExplanation(const Match& match,
                                      v1::Explanation* out) const {
  const CompiledProfile& p = *match.profile;
  const auto values = ComponentValues(query_, p, match.distance_km);
  for (int c = 0; c < kComponentCount; ++c) {
    if (!query_.applies[c]) continue;
    v1::ScoreComponent* component = out->add_components();
    component->set_name(kComponentNames[c]);
    component->set_value(values[c]);
    component->set_weight(query_.weights[c]);
  }
  for (CodeId id : query_.nice_to_have_skills_in_request_order) {
    if (ContainsId(p.skills, id)) {
      out->add_matched_skills(taxonomy_.skills().code(id));
    } else {
      out->add_missing_skills(taxonomy_.skills().code(id));
    }
  }
  for (CodeId id : query_.interests_in_request_order) {
    if (ContainsId(p.interests, id)) {
      out->add_shared_interests(taxonomy_.interests().code(id));
    }
  }
  out->set_distance_km(RoundDecimal(match.distance_km, 3));
  out->set_covered_slots(CoveredSlots(query_, p));
  out->set_needed_slots(query_.needed_slots);
  out->set_register_level(p.register_level);
}

}  // namespace pamatch
