#include "bench/job_mix.h"

#include <algorithm>
#include <array>
#include <span>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "bench/query_mix.h"

namespace pamatch::bench {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

uint64_t Mix64(uint64_t z) {
  z += kGolden;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// splitmix64 seeded from (seed, index), as demo/demo_data.cc's generator.
class Rng {
 public:
  Rng(uint64_t seed, int64_t index)
      : state_(Mix64(Mix64(Mix64(seed) ^ static_cast<uint64_t>(index)) ^
                     0x6a6f62ULL)) {}
  uint64_t Next() {
    const uint64_t z = state_;
    state_ += kGolden;
    return Mix64(z);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool PerMille(int p) { return Below(1000) < static_cast<uint64_t>(p); }
  size_t Pick(std::span<const int> weights) {
    int64_t total = 0;
    for (int w : weights) total += w;
    int64_t r = static_cast<int64_t>(Below(static_cast<uint64_t>(total)));
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.size() - 1;
  }

 private:
  uint64_t state_;
};

struct Code {
  const char* code;
  int weight;
};

// clang-format off
// Skills employers ask for, weighted by how often (must-have and
// nice-to-have alike).
constexpr std::array<Code, 22> kDemandedSkills = {{
    {"personal_care", 400}, {"meal_preparation", 150},
    {"domestic_cleaning", 100}, {"medication_support", 100},
    {"moving_and_handling", 80}, {"accompanying_outings", 80},
    {"shopping", 60}, {"dementia_support", 60}, {"continence_care", 50},
    {"learning_disability_support", 50}, {"autism_support", 40},
    {"driving", 40}, {"hoist_use", 30}, {"mental_health_support", 30},
    {"physical_disability_support", 30}, {"social_leisure", 30},
    {"epilepsy_support", 20}, {"night_care", 20}, {"respite_cover", 20},
    {"end_of_life_care", 10}, {"catheter_care", 10}, {"peg_feeding", 10},
}};
constexpr std::array<Code, 6> kPreferredTraining = {{
    {"first_aid", 30}, {"safeguarding_adults", 25}, {"moving_and_assisting", 15},
    {"medication_awareness", 15}, {"food_hygiene", 10},
    {"dementia_awareness", 10},
}};
constexpr std::array<Code, 12> kInterests = {{
    {"music", 30}, {"football", 20}, {"walking", 30}, {"cooking", 25},
    {"gardening", 15}, {"reading", 20}, {"films", 25}, {"animals", 15},
    {"art_and_crafts", 12}, {"swimming", 12}, {"travel", 15},
    {"board_games", 8},
}};
constexpr std::array<Code, 9> kOtherLanguages = {{
    {"pl", 20}, {"ur", 15}, {"ar", 15}, {"bn", 10}, {"zh", 10},
    {"pa", 8}, {"ro", 8}, {"ku", 7}, {"fa", 7},
}};
// clang-format on

template <size_t N>
std::array<int, N> Weights(const std::array<Code, N>& table) {
  std::array<int, N> w{};
  for (size_t i = 0; i < N; ++i) w[i] = table[i].weight;
  return w;
}

// `n` distinct codes of `table`, weighted, none of `taken` (marked taken).
template <size_t N>
void DrawDistinct(Rng& rng, const std::array<Code, N>& table, int n,
                  std::array<bool, N>& taken,
                  google::protobuf::RepeatedPtrField<std::string>& out) {
  for (int k = 0; k < n; ++k) {
    std::array<int, N> w = Weights(table);
    int64_t total = 0;
    for (size_t i = 0; i < N; ++i) {
      if (taken[i]) w[i] = 0;
      total += w[i];
    }
    if (total == 0) return;
    const size_t i = rng.Pick(w);
    taken[i] = true;
    out.Add(table[i].code);
  }
}

void AddBlock(v1::SearchRequest& r, int day, int from, int to) {
  v1::TimeInterval& t = *r.add_schedule();
  t.set_day(static_cast<v1::DayOfWeek>(v1::MONDAY + day));
  t.set_start(absl::StrFormat("%02d:%02d", from / 2, (from % 2) * 30));
  t.set_end(absl::StrFormat("%02d:%02d", to / 2, (to % 2) * 30));
}

// The weekly slots needed; false when none.
bool FillSchedule(Rng& rng, v1::SearchRequest& r) {
  static constexpr std::array<int, 6> kPatterns = {100, 300, 150, 100, 50, 300};
  const size_t pattern = rng.Pick(kPatterns);
  switch (pattern) {
    case 0:
      return false;
    case 1:    // weekday mornings 07:00-10:00
    case 2: {  // weekday evenings 17:00-21:00
      const bool mornings = pattern == 1;
      const int from = mornings ? 14 : 34, to = mornings ? 20 : 42;
      std::array<int, 5> days = {0, 1, 2, 3, 4};
      const int n = static_cast<int>(rng.Between(3, 5));
      for (int k = 0; k < n; ++k) {
        std::swap(days[k], days[k + rng.Below(5 - k)]);
      }
      std::sort(days.begin(), days.begin() + n);
      for (int k = 0; k < n; ++k) AddBlock(r, days[k], from, to);
      return true;
    }
    case 3:  // weekends, a 4-hour block each day
      AddBlock(r, 5, 20, 28);
      AddBlock(r, 6, 20, 28);
      return true;
    case 4: {  // 2-4 consecutive nights, 22:00-24:00 + 00:00-07:00
      const int nights = static_cast<int>(rng.Between(2, 4));
      const int first = static_cast<int>(rng.Below(7));
      for (int k = 0; k < nights; ++k) {
        AddBlock(r, (first + k) % 7, 44, 48);
        AddBlock(r, (first + k + 1) % 7, 0, 14);
      }
      return true;
    }
    default: {  // mixed: 1-4 blocks of 1-6 h on distinct days
      std::array<int, 7> days = {0, 1, 2, 3, 4, 5, 6};
      const int n = static_cast<int>(rng.Between(1, 4));
      for (int k = 0; k < n; ++k) {
        std::swap(days[k], days[k + rng.Below(7 - k)]);
        const int from = static_cast<int>(rng.Between(14, 40));
        const int len = static_cast<int>(rng.Between(2, 12));
        AddBlock(r, days[k], from, std::min(from + len, 48));
      }
      return true;
    }
  }
}

}  // namespace

v1::Job StandardJob(demo::DemoScenario scenario, uint64_t seed, int64_t index,
                    absl::Time now, std::string_view id_prefix) {
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  v1::Job job;
  std::string id(id_prefix);
  id += absl::StrFormat("%06d", index);
  job.set_id(std::move(id));
  job.set_version(1);
  job.set_status(v1::OPEN);
  v1::SearchRequest& r = *job.mutable_request();

  // Where people live: a demo profile's place (its location section only
  // depends on the scenario, seed and index).
  const v1::Profile home = demo::GenerateScenarioProfile(
      scenario, seed ^ kJobSeedSalt, index, now, "");
  *r.mutable_location() = home.location();
  r.set_local_authority(home.local_authority());

  Rng rng(seed, index);
  static constexpr std::array<int, 8> kDistance = {100, 150, 250, 250,
                                                   120, 80,  30,  20};
  static constexpr std::array<int, 8> kKm = {5, 8, 10, 15, 20, 30, 50, 0};
  const int km = kKm[rng.Pick(kDistance)];
  if (km > 0) r.set_max_distance_km(km);

  std::array<bool, kDemandedSkills.size()> skills_taken{};
  static constexpr std::array<int, 4> kMustHave = {150, 450, 300, 100};
  DrawDistinct(rng, kDemandedSkills, static_cast<int>(rng.Pick(kMustHave)),
               skills_taken, *r.mutable_must_have_skills());
  DrawDistinct(rng, kDemandedSkills, static_cast<int>(rng.Between(0, 3)),
               skills_taken, *r.mutable_nice_to_have_skills());

  std::array<bool, kPreferredTraining.size()> training_taken{};
  if (rng.PerMille(300)) r.add_required_training("pa_induction");
  if (rng.PerMille(150)) {
    r.add_required_training("first_aid");
    training_taken[0] = true;
  }
  if (rng.PerMille(100)) {
    r.add_required_training("safeguarding_adults");
    training_taken[1] = true;
  }
  DrawDistinct(rng, kPreferredTraining, static_cast<int>(rng.Between(0, 2)),
               training_taken, *r.mutable_preferred_training());

  static constexpr std::array<int, 5> kDbs = {150, 100, 200, 450, 100};
  r.set_min_dbs_level(static_cast<v1::DbsLevel>(v1::DBS_NONE + rng.Pick(kDbs)));
  static constexpr std::array<int, 5> kLevel = {550, 250, 150, 40, 10};
  r.set_min_register_level(static_cast<int32_t>(rng.Pick(kLevel)));

  if (rng.PerMille(200)) {
    r.set_requires_driver(true);
    r.set_requires_car(rng.PerMille(600));
  }
  r.set_has_pets(rng.PerMille(250));
  r.set_requires_non_smoker(rng.PerMille(300));
  r.set_short_notice(rng.PerMille(50));

  static const std::array<int, kOtherLanguages.size()> kLanguageWeights =
      Weights(kOtherLanguages);
  if (rng.PerMille(20)) {
    r.add_required_languages(kOtherLanguages[rng.Pick(kLanguageWeights)].code);
  }
  if (rng.PerMille(50)) {
    r.add_preferred_languages(kOtherLanguages[rng.Pick(kLanguageWeights)].code);
  }
  const bool personal_care =
      std::find(r.must_have_skills().begin(), r.must_have_skills().end(),
                "personal_care") != r.must_have_skills().end();
  if (personal_care && rng.PerMille(150)) {
    r.set_required_gender(rng.PerMille(850) ? v1::GENDER_FEMALE
                                            : v1::GENDER_MALE);
  }
  if (rng.PerMille(100)) r.add_preferred_genders(v1::GENDER_FEMALE);
  if (rng.PerMille(50)) {
    r.add_preferred_age_bands(static_cast<v1::AgeBand>(
        v1::AGE_BAND_25_34 + rng.Below(3)));
  }
  std::array<bool, kInterests.size()> interests_taken{};
  DrawDistinct(rng, kInterests, static_cast<int>(rng.Between(0, 3)),
               interests_taken, *r.mutable_interests());

  if (FillSchedule(rng, r)) {
    static constexpr std::array<int, 4> kCoverage = {500, 300, 100, 100};
    static constexpr std::array<double, 4> kCoverageValue = {0, 0.5, 0.8, 1};
    const double coverage = kCoverageValue[rng.Pick(kCoverage)];
    if (coverage > 0) r.set_min_schedule_coverage(coverage);
  }
  if (!rng.PerMille(400)) {
    r.set_max_hourly_rate_pence(1200 + 50 * rng.Between(0, 16));
  }
  if (rng.PerMille(400)) {
    job.set_closes_on(absl::FormatCivilTime(today + rng.Between(7, 120)));
  }
  return job;
}

v1::MatchJobsRequest StandardMatchJobs(std::string_view profile_id) {
  v1::MatchJobsRequest request;
  request.set_profile_id(std::string(profile_id));
  request.set_as_of(kQueryAsOf);
  request.set_page_size(20);
  return request;
}

}  // namespace pamatch::bench
