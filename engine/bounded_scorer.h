// The profile index's bounded scorer: the visitor ProfileIndex::Search
// hands the query plan (index_plan.h). For each document the plan could not
// rule out it applies the residual filters exactly (rules.h), counts the
// match, and computes the score's components (rules.h, the same functions
// as ComponentValues) cheapest first, stopping as soon as an upper bound on
// the score shows the PA cannot enter the page being collected. Whole cells,
// and single certain matches, whose best possible score cannot enter the
// page are only counted. Together with the plan that returns exactly what
// the reference scan returns (tests/index_differential_test.cc).
//
// Included only by index_search.cc, so its calls inline into the scan. One
// instance per search, on the searching thread.
#ifndef PA_MATCH_ENGINE_BOUNDED_SCORER_H_
#define PA_MATCH_ENGINE_BOUNDED_SCORER_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/geo_grid.h"
#include "engine/index_columns.h"
#include "engine/index_plan.h"
#include "engine/profile.h"
#include "engine/query.h"
#include "engine/rules.h"
#include "engine/scoring.h"

namespace pamatch {

// An upper bound on DistanceValue(d) given d >= lower_km: the value at
// lower_km rounded down to a 1/16 km step (the component falls with
// distance); beyond the table (d >= 128 km), the value at 128 km.
inline double DistanceValueBound(double lower_km) {
  constexpr int kStepsPerKm = 16, kSteps = 128 * kStepsPerKm;
  static const std::array<double, kSteps> table = [] {
    std::array<double, kSteps> values;
    for (int i = 0; i < kSteps; ++i) {
      values[i] = DistanceValue(i / static_cast<double>(kStepsPerKm));
    }
    return values;
  }();
  const double step = std::floor(std::max(0.0, lower_km) * kStepsPerKm);
  return step < kSteps
             ? table[static_cast<int>(step)]
             : DistanceValue(kSteps / static_cast<double>(kStepsPerKm));
}

class BoundedScorer {
 public:
  // `docs` are the index's profiles by document id; `excluded` the
  // documents of query.exclude_ids, sorted.
  BoundedScorer(const CompiledQuery& query, const IndexColumns& columns,
                const std::vector<std::shared_ptr<const CompiledProfile>>& docs,
                std::vector<uint32_t> excluded, SearchCollector& collector);

  // The visitor calls of index_plan.h.
  CellVisit OnCell(const GeoGrid::ReachableCell& next);
  bool Skip(uint32_t doc, float lower_km) const;
  void OnDoc(uint32_t doc);
  void OnCounted(int64_t matches) { collector_.CountMatches(matches); }

 private:
  // A rounded score can exceed the unrounded bound by at most half a unit
  // of its last decimal (kScoreDecimals): a bound must miss the page's
  // floor by more than that to rule a PA out.
  static constexpr double kRoundingMargin = 1e-6;

  const CompiledQuery& q_;
  const IndexColumns& columns_;
  const std::vector<std::shared_ptr<const CompiledProfile>>& docs_;
  const std::vector<uint32_t> excluded_;
  SearchCollector& collector_;
  // Masks of the codes the query scores on, in the columns' layout.
  const std::vector<uint64_t> nice_skills_, interests_, preferred_languages_;
  uint32_t genders_ = 0, age_bands_ = 0;
  const double limit_km_;
  const int64_t rate_ceiling_;
  const int preference_lists_;
  const bool check_dbs_age_;
  // Whether the plan alone can tell a match (it judges distance, DBS age,
  // rate and schedule coverage): no exclusion, audience or training expiry
  // to check.
  const bool bulk_countable_;
  // Weights of the applied components (0 for the others) and 1/sum, for
  // the score bound; with no weight every score is 0 and nothing is pruned.
  std::array<double, kComponentCount> applied_{};
  double total_weight_ = 0, inverse_weight_ = 0, weight_but_distance_ = 0;
  // Whether the current cell's matches are only counted (OnCell).
  bool count_only_ = false;
};

inline BoundedScorer::BoundedScorer(
    const CompiledQuery& q, const IndexColumns& columns,
    const std::vector<std::shared_ptr<const CompiledProfile>>& docs,
    std::vector<uint32_t> excluded, SearchCollector& collector)
    : q_(q),
      columns_(columns),
      docs_(docs),
      excluded_(std::move(excluded)),
      collector_(collector),
      nice_skills_(columns.skills().Mask(q.nice_to_have_skills)),
      interests_(columns.interests().Mask(q.interests)),
      preferred_languages_(columns.languages().Mask(q.preferred_languages)),
      limit_km_(DistanceLimitKm(q.max_distance_km)),
      rate_ceiling_(RateCeiling(q.max_hourly_rate_pence)),
      preference_lists_(PreferenceListsGiven(q)),
      check_dbs_age_(q.min_dbs_level > v1::DBS_NONE),
      bulk_countable_(excluded_.empty() && q.required_training.empty() &&
                      q.audience.empty()) {
  for (v1::Gender g : q.preferred_genders) genders_ |= 1u << g;
  for (v1::AgeBand b : q.preferred_age_bands) age_bands_ |= 1u << b;
  for (int c = 0; c < kComponentCount; ++c) {
    if (q.applies[c]) applied_[c] = q.weights[c];
    total_weight_ += applied_[c];
  }
  inverse_weight_ = total_weight_ > 0 ? 1 / total_weight_ : 0;
  weight_but_distance_ = total_weight_ - applied_[kDistance];
}

// Per cell: whether its matches can still enter the page. Cells come
// nearest first, so the page fills with near PAs early and, once even a
// perfect PA at a cell's nearest point could not enter it (every component
// 1 but distance), the cell's matches are only counted.
inline CellVisit BoundedScorer::OnCell(const GeoGrid::ReachableCell& next) {
  count_only_ =
      collector_.PageFull() &&
      (weight_but_distance_ +
       applied_[kDistance] * DistanceValueBound(next.near_km)) *
                  inverse_weight_ +
              kRoundingMargin <
          collector_.KeptScoreFloor();
  // No score needed, and no residual filter the plan cannot judge: the
  // plan may count matches it is certain of without visiting them.
  if (!bulk_countable_) return CellVisit::kVisit;
  if (count_only_) return CellVisit::kCountCertain;
  return collector_.PageFull() ? CellVisit::kAskSkip : CellVisit::kVisit;
}

// A certain match in a scoring cell whose score cannot enter the page even
// with its distance at the plan's lower bound, its skills and interests as
// held and every other component 1, needs only counting.
inline bool BoundedScorer::Skip(uint32_t doc, float lower_km) const {
  if (!collector_.PageFull()) return false;
  double best = weight_but_distance_ +
                applied_[kDistance] * DistanceValueBound(lower_km);
  if (q_.applies[kSkills]) {
    best -= applied_[kSkills] *
            (1 - SkillsValue(SharedBits(columns_.skills().row(doc), nice_skills_),
                             q_.nice_to_have_skills.size()));
  }
  if (q_.applies[kInterests]) {
    best -= applied_[kInterests] *
            (1 - InterestsValue(
                     SharedBits(columns_.interests().row(doc), interests_),
                     q_.interests.size()));
  }
  return best * inverse_weight_ + kRoundingMargin < collector_.KeptScoreFloor();
}

inline void BoundedScorer::OnDoc(uint32_t doc) {
  const CompiledQuery& q = q_;
  const DocRecord& h = columns_.record(doc);
  const Reach reach = DecideReach(h, q, limit_km_);
  if (!reach.within) return;
  double distance = reach.distance_km;

  // The other residual filters, as PassesResidualFilters.
  if (!excluded_.empty() &&
      std::binary_search(excluded_.begin(), excluded_.end(), doc)) {
    return;
  }
  if (!q.audience.empty() && !AudienceSees(q, docs_[doc]->local_authority)) {
    return;
  }
  if (!q.required_training.empty() &&
      !RequiredTrainingUnexpired(q, *docs_[doc])) {
    return;
  }
  if (check_dbs_age_ && !DbsFreshOn(h.dbs_freshness_key, q.dbs_fresh_since)) {
    return;
  }
  int covered = 0;
  if (q.needed_slots > 0 && (!count_only_ || q.min_schedule_coverage > 0)) {
    covered = CoveredSlots(q.schedule, columns_.availability(doc));
    if (!CoverageOk(covered, q.needed_slots, q.min_schedule_coverage)) return;
  }
  if (!RateAccepted<int64_t>(h.min_hourly_rate_pence, rate_ceiling_)) return;
  collector_.CountMatch();
  if (count_only_) return;

  // Component values as ComponentValues computes them, bit for bit,
  // cheapest first. `best` is the weighted score this PA could still reach
  // (components not yet computed count as 1, distance at its bound): once
  // the page is full and `best` is below its floor, the PA cannot enter it
  // and the rest is skipped. (The bound need not match WeightedScore to the
  // bit: the margin dwarfs any difference in rounding.)
  std::array<double, kComponentCount> s{};
  const bool full = collector_.PageFull();
  const double floor = full ? collector_.KeptScoreFloor() : 0;
  double best = total_weight_;
  auto hopeless = [&](double weight, double value) {
    best -= weight * (1 - value);
    return full && best * inverse_weight_ + kRoundingMargin < floor;
  };
  if (full &&
      hopeless(applied_[kDistance],
               DistanceValueBound(distance >= 0
                                      ? distance
                                      : std::sqrt(reach.lower_bound_sq)))) {
    return;
  }
  if (q.applies[kSkills]) {
    s[kSkills] =
        SkillsValue(SharedBits(columns_.skills().row(doc), nice_skills_),
                    q.nice_to_have_skills.size());
    if (hopeless(applied_[kSkills], s[kSkills])) return;
  }
  if (q.applies[kSchedule]) {
    s[kSchedule] = ScheduleValue(covered, q.needed_slots);
    if (hopeless(applied_[kSchedule], s[kSchedule])) return;
  }
  if (q.applies[kInterests]) {
    s[kInterests] =
        InterestsValue(SharedBits(columns_.interests().row(doc), interests_),
                       q.interests.size());
    if (hopeless(applied_[kInterests], s[kInterests])) return;
  }
  if (q.applies[kPreferences]) {
    int met = 0;
    if (!q.preferred_languages.empty()) {
      met += SharedBits(columns_.languages().row(doc), preferred_languages_) > 0;
    }
    if (!q.preferred_genders.empty()) met += (genders_ >> h.gender) & 1;
    if (!q.preferred_age_bands.empty()) met += (age_bands_ >> h.age_band) & 1;
    s[kPreferences] = PreferencesValue(met, preference_lists_);
  }
  s[kTrust] = TrustValue(h.register_level);
  s[kRecency] = RecencyValue(q.as_of_start_seconds, h.has_last_active,
                             h.last_active_seconds, h.last_active_nanos);
  // All three taken off `best` before the one check (the last is the
  // strictest: `best` only falls).
  hopeless(applied_[kPreferences], s[kPreferences]);
  hopeless(applied_[kTrust], s[kTrust]);
  if (hopeless(applied_[kRecency], s[kRecency])) return;
  const CompiledProfile& p = *docs_[doc];
  if (q.applies[kTraining]) {
    s[kTraining] =
        TrainingValue(PreferredTrainingHeld(q, p), q.preferred_training.size());
  }
  if (distance < 0) {
    distance = HaversineKm(q.lat, q.lon, q.cos_lat, h.lat, h.lon, h.cos_lat);
  }
  s[kDistance] = DistanceValue(distance);
  collector_.Offer({Score(q, s), distance, &p});
}

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_BOUNDED_SCORER_H_
