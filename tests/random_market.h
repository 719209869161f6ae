// Random data for the jobs tests (jobs_differential_test.cc,
// alerts_replay_test.cc): PA profiles of the demo generator with the dates
// that matter for jobs moved close to chosen "key days" (training expiring
// the day before, on or after one, DBS certificates whose validity of N
// months ends near one, often at a month's end), some PAUSED; jobs whose
// requests are random searches placed where PAs are; and random policies.
//
// Seeds follow tests/index_differential_test.cc: each test runs a few fixed
// seeds and one random seed, prints the seed first, and
// PA_MATCH_TEST_SEED=N replays N as the random case.
#ifndef PA_MATCH_TESTS_RANDOM_MARKET_H_
#define PA_MATCH_TESTS_RANDOM_MARKET_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "demo/demo_data.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::testing {

// The random case's seed: PA_MATCH_TEST_SEED if set, else a new one.
inline uint64_t RandomTestSeed() {
  if (const char* env = std::getenv("PA_MATCH_TEST_SEED")) {
    return std::strtoull(env, nullptr, 10);
  }
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

// Prints the seed before anything can crash, with how to replay it.
inline void PrintSeed(uint64_t seed) {
  std::printf(
      "seed %llu (replay: PA_MATCH_TEST_SEED=%llu, "
      "--gtest_filter='*random*')\n",
      static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
}

inline std::string DayText(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

inline absl::Time NoonOf(absl::CivilDay day) {
  return absl::FromCivil(absl::CivilSecond(day) + 12 * 3600,
                         absl::UTCTimeZone());
}

inline int DaysInMonth(int64_t year, int month) {
  const absl::CivilMonth m(year, month);
  return static_cast<int>(absl::CivilDay(m + 1) - absl::CivilDay(m));
}

class RandomMarket {
 public:
  // `authorities`: the local authority codes jobs and policies use;
  // `key_days`: the days whose edges the dates are put around.
  RandomMarket(uint64_t seed, demo::DemoScenario scenario,
               std::vector<std::string> authorities,
               std::vector<absl::CivilDay> key_days)
      : seed_(seed),
        scenario_(scenario),
        authorities_(std::move(authorities)),
        key_days_(std::move(key_days)),
        rng_(seed ^ 0x6a6f6273ULL) {}

  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  double Real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Uniform(0, static_cast<int>(items.size()) - 1)];
  }
  const std::string& Authority() { return Pick(authorities_); }

  // A key day moved by -2..+2 days.
  absl::CivilDay NearKeyDay() { return Pick(key_days_) + Uniform(-2, 2); }

  // An issue date whose validity of `months` ends near a key day: in the
  // month `months` before it, on a day at or near a month's end (clamped
  // when the later month is shorter) or on the key day's own day.
  std::string IssueNear(int months) {
    const absl::CivilDay target = NearKeyDay();
    const absl::CivilMonth month = absl::CivilMonth(target) - months;
    const int last = DaysInMonth(month.year(), month.month());
    int day;
    switch (Uniform(0, 3)) {
      case 0:
        day = last;
        break;
      case 1:
        day = last - Uniform(1, 3);
        break;
      case 2:
        day = std::min<int>(last, target.day());
        break;
      default:
        day = Uniform(1, last);
        break;
    }
    return DayText(absl::CivilDay(month.year(), month.month(), day));
  }

  // Profile `index` of the demo data set `data_seed` (its dates relative
  // to `now`), with its dates moved near the key days and some PAUSED.
  v1::Profile Profile(uint64_t data_seed, int index, absl::Time now,
                      const std::string& prefix = "pa-") {
    v1::Profile p =
        demo::GenerateScenarioProfile(scenario_, data_seed, index, now, prefix);
    Perturb(&p);
    return p;
  }

  // `p`'s status drawn again (some PAUSED) and its dates moved near the
  // key days.
  void Perturb(v1::Profile* profile) {
    v1::Profile& p = *profile;
    p.set_status(Chance(0.15) ? v1::PAUSED : v1::ACTIVE);
    for (v1::TrainingRecord& record : *p.mutable_training()) {
      if (Chance(0.3)) record.set_expires_on(DayText(NearKeyDay()));
    }
    if (Chance(0.05)) {  // a second first_aid record (the later expiry counts)
      v1::TrainingRecord* record = p.add_training();
      record->set_code("first_aid");
      record->set_expires_on(DayText(NearKeyDay()));
    }
    v1::DbsCheck* dbs = p.mutable_checks()->mutable_dbs();
    if (dbs->level() > v1::DBS_NONE && Chance(0.5)) {
      dbs->set_update_service(Chance(0.1));
      dbs->set_issued_on(IssueNear(Pick(kMonths)));
    }
  }

  // A job's request: a random search, as index_differential_test's, less
  // the fields of one call; around the PA at `near` (when given) or
  // anywhere in the area / the UK.
  v1::SearchRequest Request(const v1::Profile* near) {
    static const std::vector<std::string> kSkills = {
        "personal_care",     "meal_preparation", "shopping",
        "domestic_cleaning", "hoist_use",        "peg_feeding",
        "bsl_signing",       "night_care",       "driving"};
    static const std::vector<std::string> kTraining = {
        "pa_induction", "first_aid", "safeguarding_adults", "food_hygiene",
        "moving_and_assisting"};
    static const std::vector<std::string> kLanguages = {"en", "pl", "ur", "ar"};
    static const std::vector<std::string> kInterests = {
        "music", "walking", "football", "cooking", "reading"};
    v1::SearchRequest r;
    const double where = Real(0, 1);
    // Nationally PAs are sparse: jobs closer to one, more often.
    const bool national = scenario_ == demo::DemoScenario::kNational;
    const double spread = national ? 0.5 : 1.0;
    if (near != nullptr && where < (national ? 0.9 : 0.75)) {  // in the box
      r.mutable_location()->set_lat(std::clamp(
          near->location().lat() + spread * Real(-0.08, 0.08), 49.8, 60.95));
      r.mutable_location()->set_lon(std::clamp(
          near->location().lon() + spread * Real(-0.12, 0.12), -8.7, 1.8));
    } else if (scenario_ == demo::DemoScenario::kNorthEast && where < 0.95) {
      r.mutable_location()->set_lat(Real(54.4, 55.6));
      r.mutable_location()->set_lon(Real(-2.4, -1.0));
    } else {  // anywhere in the UK box, often far from every PA
      r.mutable_location()->set_lat(Real(49.9, 60.9));
      r.mutable_location()->set_lon(Real(-8.6, 1.7));
    }
    if (Chance(0.75)) {
      r.set_local_authority(near != nullptr && Chance(0.5)
                                ? near->local_authority()
                                : Authority());
    }
    // Now and then from the authority's centre (no location).
    if (!r.local_authority().empty() && Chance(0.1)) r.clear_location();
    if (Chance(0.8)) r.set_max_distance_km(Real(0.5, 60));
    for (int i = Uniform(0, 2); i > 0; --i)
      r.add_must_have_skills(Pick(kSkills));
    for (int i = Uniform(0, 3); i > 0; --i)
      r.add_nice_to_have_skills(Pick(kSkills));
    if (Chance(0.35)) r.add_required_training(Pick(kTraining));
    if (Chance(0.3)) r.add_preferred_training(Pick(kTraining));
    if (Chance(0.4))
      r.set_min_dbs_level(static_cast<v1::DbsLevel>(Uniform(1, 5)));
    if (Chance(0.5)) r.set_dbs_max_age_months(Pick(kMonths));
    if (Chance(0.3)) r.set_min_register_level(Uniform(0, 4));
    r.set_requires_driver(Chance(0.1));
    r.set_requires_car(Chance(0.1));
    r.set_has_pets(Chance(0.1));
    r.set_requires_non_smoker(Chance(0.1));
    r.set_short_notice(Chance(0.1));
    if (Chance(0.1)) r.add_required_languages(Pick(kLanguages));
    if (Chance(0.3)) r.add_preferred_languages(Pick(kLanguages));
    if (Chance(0.3))
      r.add_preferred_genders(static_cast<v1::Gender>(Uniform(1, 4)));
    if (Chance(0.2))
      r.add_preferred_age_bands(static_cast<v1::AgeBand>(Uniform(1, 6)));
    if (Chance(0.1)) {
      r.add_must_have_skills("personal_care");
      r.set_required_gender(static_cast<v1::Gender>(Uniform(1, 4)));
    }
    for (int i = Uniform(0, 2); i > 0; --i) r.add_interests(Pick(kInterests));
    for (int i = Uniform(0, 3); i > 0; --i) {
      v1::TimeInterval* interval = r.add_schedule();
      interval->set_day(static_cast<v1::DayOfWeek>(Uniform(1, 7)));
      const int start = Uniform(0, 46);
      const int end = Uniform(start + 1, 48);
      interval->set_start(
          absl::StrFormat("%02d:%02d", start / 2, start % 2 * 30));
      interval->set_end(absl::StrFormat("%02d:%02d", end / 2, end % 2 * 30));
    }
    if (r.schedule_size() > 0 && Chance(0.4)) {
      r.set_min_schedule_coverage(Uniform(0, 4) / 4.0);
    }
    if (Chance(0.2)) r.set_max_hourly_rate_pence(Uniform(1000, 1800));
    if (Chance(0.2)) r.mutable_weights()->set_distance(Real(0, 2));
    if (Chance(0.1)) r.mutable_weights()->set_trust(0);
    return r;
  }

  // Drops most of `r`'s hard filters (each with probability 0.7), but not
  // its required training and DBS floor (the ones the calendar ends), so
  // that it matches many PAs.
  void Loosen(v1::SearchRequest* r) {
    if (Chance(0.7) && r->required_gender() == v1::GENDER_UNSPECIFIED) {
      r->clear_must_have_skills();
    }
    if (Chance(0.7)) r->clear_min_register_level();
    if (Chance(0.7)) {
      r->clear_requires_driver();
      r->clear_requires_car();
      r->clear_has_pets();
      r->clear_requires_non_smoker();
      r->clear_short_notice();
    }
    if (Chance(0.7)) r->clear_required_languages();
    if (Chance(0.7)) r->clear_min_schedule_coverage();
    if (Chance(0.7)) r->clear_max_hourly_rate_pence();
  }

  // A job `id` (version 0: the stored one + 1) near `near` (may be null):
  // mostly OPEN, some FILLED or CLOSED, some closing near a key day.
  v1::Job Job(const std::string& id, const v1::Profile* near) {
    v1::Job job;
    job.set_id(id);
    job.set_version(0);
    const double status = Real(0, 1);
    job.set_status(status < 0.75   ? v1::OPEN
                   : status < 0.88 ? v1::FILLED
                                   : v1::CLOSED);
    if (Chance(0.35)) job.set_closes_on(DayText(NearKeyDay()));
    *job.mutable_request() = Request(near);
    return job;
  }

  // A policy for `authority`: a DBS floor, a register floor, training.
  v1::Policy Policy(const std::string& authority) {
    static const std::vector<std::string> kTraining = {
        "pa_induction", "first_aid", "safeguarding_adults"};
    v1::Policy policy;
    policy.set_local_authority(authority);
    if (Chance(0.5))
      policy.set_min_dbs_level(static_cast<v1::DbsLevel>(Uniform(1, 4)));
    if (Chance(0.5)) policy.set_min_register_level(Uniform(1, 3));
    if (Chance(0.5)) policy.add_required_training(Pick(kTraining));
    if (policy.min_dbs_level() == v1::DBS_NONE &&
        policy.min_register_level() == 0 &&
        policy.required_training().empty()) {
      policy.set_min_register_level(1);
    }
    return policy;
  }

  uint64_t seed() const { return seed_; }

 private:
  // dbs_max_age_months of requests, and the validities issue dates are
  // put near the key days with (36 is the default).
  inline static const std::vector<int> kMonths = {1, 6, 12, 36, 36, 60};

  const uint64_t seed_;
  const demo::DemoScenario scenario_;
  const std::vector<std::string> authorities_;
  const std::vector<absl::CivilDay> key_days_;
  std::mt19937_64 rng_;
};

}  // namespace pamatch::testing

#endif  // PA_MATCH_TESTS_RANDOM_MARKET_H_
