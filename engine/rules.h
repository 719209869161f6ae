// The rules of MATCHING.md that judge one (requirement, PA) pair, each
// written once: the hard filters judged per PA (the "residual" ones, that
// no posting answers) and the value of each score component. The reference
// scan (scoring.cc), the index's plan and its bounded scorer
// (profile_index*.cc) call these and nothing else for these rules, so a
// rule changes in one place. Each takes plain values, not a query or a
// profile, so any direction of matching (a search for PAs, a PA's jobs)
// can use it on its own columns.
//
// The set filters (skills, languages, levels, flags) are plain set
// inclusions and live with their postings; how a score is combined,
// rounded and ordered is in scoring.h.
//
// Pure functions; any thread.
#ifndef PA_MATCH_ENGINE_RULES_H_
#define PA_MATCH_ENGINE_RULES_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

#include "engine/availability.h"
#include "engine/dates.h"
#include "engine/profile.h"

namespace pamatch {

// ---- Hard filters ---------------------------------------------------------

// `max_distance_km`: the request's limit, or kMaxTravelKm when it has none
// (no PA travels further, so that limits nothing more).
inline double DistanceLimitKm(const std::optional<double>& max_distance_km) {
  return max_distance_km.value_or(kMaxTravelKm);
}

// distance <= the request's limit AND distance <= the PA's max_travel_km.
inline bool WithinReach(double distance_km, double pa_max_travel_km,
                        double limit_km) {
  return distance_km <= pa_max_travel_km && distance_km <= limit_km;
}

// `required_training`, `preferred_training`: a training record counts on
// `as_of` when held (expires_on is not kNoDate) and unexpired: no expiry
// (kNeverExpires), or expires_on >= as_of.
inline bool TrainingUnexpired(DayNumber expires_on, DayNumber as_of) {
  return expires_on != kNoDate && expires_on >= as_of;
}

// `min_dbs_level` above NONE also asks for a fresh check: the update
// service, or issued_on + dbs_max_age_months calendar months >= as_of,
// which is issued_on >= EarliestFreshIssue(as_of, months) (dates.h, the
// query's dbs_fresh_since). A PA's check as one number, so that fresh is
// one comparison: kNeverExpires with the update service, else the issue
// day (kNoDate, before every real day, when there is none).
inline DayNumber DbsFreshnessKey(bool update_service, DayNumber issued_on) {
  return update_service ? kNeverExpires : issued_on;
}
inline bool DbsFreshOn(DayNumber freshness_key, DayNumber fresh_since) {
  return freshness_key >= fresh_since;
}

// `schedule`: the needed slots a PA is available for.
inline int CoveredSlots(const WeekSlots& needed, const WeekSlots& available) {
  return static_cast<int>((needed & available).count());
}

// `min_schedule_coverage`: covered / needed >= the minimum. With no slots
// needed there is nothing to cover.
inline bool CoverageOk(int covered_slots, int needed_slots,
                       double min_coverage) {
  return needed_slots == 0 ||
         static_cast<double>(covered_slots) / needed_slots >= min_coverage;
}

// `max_hourly_rate_pence`, hard when > 0: the PA's min_hourly_rate_pence <=
// it. As a ceiling: the request's maximum, or above every rate when 0.
inline int64_t RateCeiling(int64_t max_hourly_rate_pence) {
  return max_hourly_rate_pence > 0 ? max_hourly_rate_pence
                                   : std::numeric_limits<int64_t>::max();
}
// (A template so that the index compares its 32-bit column as it is.)
template <typename Pence>
bool RateAccepted(Pence pa_min_hourly_rate_pence, Pence ceiling) {
  return pa_min_hourly_rate_pence <= ceiling;
}

// ---- Score components (each s_c in [0, 1]) --------------------------------

inline constexpr double kDistanceHalfLifeKm = 8;
inline constexpr double kRecencyHalfLifeDays = 30;
inline constexpr int kMaxRegisterLevel = 4;
// The score is rounded to this many decimals; explained distances to this.
inline constexpr int kScoreDecimals = 6;
inline constexpr int kExplainedDistanceDecimals = 3;

// `skills`: matched nice-to-have skills / requested nice-to-have skills.
inline double SkillsValue(int matched, size_t requested) {
  return static_cast<double>(matched) / requested;
}
// `schedule`: needed slots the PA is available for / needed slots.
inline double ScheduleValue(int covered_slots, int needed_slots) {
  return static_cast<double>(covered_slots) / needed_slots;
}
// `distance`: 0.5 ^ (distance_km / 8). Falls with distance.
inline double DistanceValue(double distance_km) {
  return std::pow(0.5, distance_km / kDistanceHalfLifeKm);
}
// `interests`: shared interests / requested interests.
inline double InterestsValue(int shared, size_t requested) {
  return static_cast<double>(shared) / requested;
}
// `preferences`: the mean over the preference lists given of [the PA's
// value is in the list] (languages: the PA speaks any listed one).
inline double PreferencesValue(int lists_met, int lists_given) {
  return static_cast<double>(lists_met) / lists_given;
}
// `training`: preferred training held and unexpired / requested.
inline double TrainingValue(int held_unexpired, size_t requested) {
  return static_cast<double>(held_unexpired) / requested;
}
// `trust`: register_level / 4.
inline double TrustValue(int register_level) {
  return register_level / static_cast<double>(kMaxRegisterLevel);
}

// `recency`: 0.5 ^ (days / 30), bit-identical to std::pow(0.5, days /
// 30.0), from a table when small.
double RecencyValue(int64_t days);
// days = max(0, floor((00:00 UTC of as_of - last_active) / 24 h)), for
// last_active given as (seconds, nanos) of a google.protobuf.Timestamp.
int64_t DaysSinceActive(int64_t as_of_start_seconds, int64_t seconds,
                        int32_t nanos);
// The recency of a PA on the day starting at as_of_start_seconds: as
// above, or 0 for a PA with no last_active (MATCHING-DECISIONS.md).
inline double RecencyValue(int64_t as_of_start_seconds, bool has_last_active,
                           int64_t seconds, int32_t nanos) {
  return has_last_active
             ? RecencyValue(DaysSinceActive(as_of_start_seconds, seconds, nanos))
             : 0.0;
}

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_RULES_H_
