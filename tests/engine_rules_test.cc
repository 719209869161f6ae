// One test (or more) per rule of ../shared/MATCHING.md, through the Engine
// API with a real RocksDB in a temp dir. Expected values are worked out by
// hand in the comments.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "engine/dates.h"
#include "engine/engine.h"
#include "engine/scoring.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

using testing::AddInterval;
using testing::BaseProfile;
using testing::BaseRequest;

// `x` rounded to `decimals` places by glibc's printf (exact binary value,
// ties to even: what Python's round() gives too) and read back.
double PrintfRound(double x, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, x);
  return std::strtod(text, nullptr);
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override { engine_ = testing::OpenEngine(dir_.path()); }

  void Put(const v1::Profile& profile) {
    auto result = engine_->Upsert(profile);
    ASSERT_TRUE(result.ok()) << result.status();
  }
  v1::SearchResponse Run(const v1::SearchRequest& request) {
    auto response = engine_->Search(request, testing::SomeNow());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::SearchResponse();
  }
  std::vector<std::string> Ids(const v1::SearchRequest& request) {
    std::vector<std::string> ids;
    const v1::SearchResponse response = Run(request);
    for (const auto& r : response.results()) ids.push_back(r.id());
    return ids;
  }
  absl::Status SearchStatus(const v1::SearchRequest& request) {
    return engine_->Search(request, testing::SomeNow()).status();
  }

  testing::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

using Strings = std::vector<std::string>;

TEST(DatesTest, ParsesAndRejects) {
  EXPECT_EQ(*ParseDate("1970-01-02", "f"), 1);
  EXPECT_EQ(FormatDate(*ParseDate("2024-02-29", "f")), "2024-02-29");
  EXPECT_FALSE(ParseDate("2023-02-29", "f").ok());
  EXPECT_FALSE(ParseDate("2023-2-28", "f").ok());
  EXPECT_FALSE(ParseDate("2023-13-01", "f").ok());
  EXPECT_FALSE(ParseDate("", "f").ok());
  // Any four-digit year but 0000 (ISO 8601, Python's date).
  EXPECT_EQ(FormatDate(*ParseDate("9999-12-31", "f")), "9999-12-31");
  EXPECT_EQ(FormatDate(*ParseDate("0001-01-01", "f")), "0001-01-01");
  EXPECT_EQ(*ParseDate("0001-01-01", "f"), -719162);
  EXPECT_FALSE(ParseDate("0000-12-31", "f").ok());
  EXPECT_FALSE(ParseDate("+999-12-31", "f").ok());
  // Month arithmetic past 9999 (a DBS issued late in 9999, 600 months).
  EXPECT_EQ(FormatDate(AddMonthsClamped(*ParseDate("9999-12-31", "f"), 600)),
            "10049-12-31");
}

TEST(DatesTest, AddMonthsClampsToMonthEnd) {
  auto add = [](const char* day, int months) {
    return FormatDate(AddMonthsClamped(*ParseDate(day, "f"), months));
  };
  EXPECT_EQ(add("2020-02-29", 36), "2023-02-28");
  EXPECT_EQ(add("2020-02-29", 48), "2024-02-29");
  EXPECT_EQ(add("2023-08-31", 1), "2023-09-30");
  EXPECT_EQ(add("2024-01-31", 1), "2024-02-29");
  EXPECT_EQ(add("2023-01-31", 36), "2026-01-31");
  EXPECT_EQ(add("2023-12-15", 1), "2024-01-15");
}

TEST(DatesTest, EarliestFreshIssueIsTheExactThreshold) {
  // For every as_of over four years and several ages, the threshold is
  // fresh and the day before it is not.
  const DayNumber start = *ParseDate("2023-01-01", "f");
  for (int months : {1, 12, 36, 37}) {
    for (DayNumber as_of = start; as_of < start + 4 * 366; ++as_of) {
      const DayNumber t = EarliestFreshIssue(as_of, months);
      ASSERT_GE(AddMonthsClamped(t, months), as_of) << FormatDate(as_of);
      ASSERT_LT(AddMonthsClamped(t - 1, months), as_of) << FormatDate(as_of);
    }
  }
}

TEST(GeoTest, HaversineMatchesKnownDistance) {
  // Newcastle (54.9783, -1.6178) to Sunderland (54.9069, -1.3838):
  // 16.923462 km on a sphere of radius 6371.0088 km (computed
  // independently with Python's math module).
  EXPECT_NEAR(HaversineKm(54.9783, -1.6178, 54.9069, -1.3838), 16.923462,
              1e-6);
  // One degree of latitude: R * pi / 180.
  EXPECT_NEAR(HaversineKm(54, -1.5, 55, -1.5), 6371.0088 * M_PI / 180, 1e-9);
  EXPECT_EQ(HaversineKm(55, -1.5, 55, -1.5), 0);
}

TEST(RoundingTest, RoundsTheExactValueTiesToEven) {
  // A true half (2^-7 = 0.0078125, 93/128 = 0.7265625) goes to the even
  // neighbour; std::round(x * 1e6) / 1e6 would give 0.007813, 0.726563.
  EXPECT_EQ(RoundDecimal(0.0078125, 6), 0.007812);
  EXPECT_EQ(RoundDecimal(0.7265625, 6), 0.726562);
  EXPECT_EQ(RoundDecimal(0.0234375, 6), 0.023438);  // 3/128: odd, goes up
  // 5e-7 and 2.675 lie just under a half in binary (their products with
  // the scale round up to exactly .5); 1.5e-6 just above.
  EXPECT_EQ(RoundDecimal(5e-7, 6), 0.0);
  EXPECT_EQ(RoundDecimal(2.675, 2), 2.67);
  EXPECT_EQ(RoundDecimal(1.5e-6, 6), 2e-6);
  EXPECT_EQ(RoundDecimal(0.0005, 3), 0.001);  // 0.0005 is just above a half
  EXPECT_EQ(RoundDecimal(0, 6), 0.0);
  EXPECT_EQ(RoundDecimal(1, 6), 1.0);
  EXPECT_EQ(RoundDecimal(16.9225, 3), 16.922);  // just under a half
  EXPECT_EQ(RoundDecimal(16.0625, 3), 16.062);   // a true half, to even
  // Symmetric about 0 (the contract's values are never negative).
  EXPECT_EQ(RoundDecimal(-0.0078125, 6), -0.007812);
  EXPECT_EQ(RoundDecimal(-0.049999999999999996, 1), 0.0);
  EXPECT_TRUE(std::signbit(RoundDecimal(-0.049999999999999996, 1)));

  // Against printf on values all over, and on values built next to halves
  // (the decimal half itself and its neighbours), where the two rules part.
  std::mt19937_64 rng(20261130);
  std::uniform_real_distribution<double> unit(0, 1), km(0, 400);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const double s = unit(rng), d = km(rng);
    ASSERT_EQ(RoundDecimal(s, 6), PrintfRound(s, 6)) << s;
    ASSERT_EQ(RoundDecimal(d, 3), PrintfRound(d, 3)) << d;
    const double half = (std::floor(s * 1e6) + 0.5) / 1e6;
    for (double x : {std::nextafter(half, 0.0), half,
                     std::nextafter(half, 1.0)}) {
      ASSERT_EQ(RoundDecimal(x, 6), PrintfRound(x, 6)) << x;
      ASSERT_EQ(RoundDecimal(-x, 6), PrintfRound(-x, 6)) << -x;
      ++checked;
    }
    const double km_half = (std::floor(d * 1e3) + 0.5) / 1e3;
    for (double x : {std::nextafter(km_half, 0.0), km_half,
                     std::nextafter(km_half, 1e9)}) {
      ASSERT_EQ(RoundDecimal(x, 3), PrintfRound(x, 3)) << x;
      ++checked;
    }
  }
  for (int k = 0; k <= 128; ++k) {  // every k/128, exact ties when k is odd
    ASSERT_EQ(RoundDecimal(k / 128.0, 6), PrintfRound(k / 128.0, 6)) << k;
  }
  EXPECT_EQ(checked, 1200000);
}

TEST_F(RulesTest, ScoreTiesAtTheSixthDecimalGoToEven) {
  // weights: only recency. A PA last active exactly 210 days before as_of
  // scores 0.5^7 = 0.0078125, a true half at the 6th decimal: 0.007812.
  v1::Profile p = BaseProfile("p");
  p.mutable_last_active()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilDay(2026, 6, 15), absl::UTCTimeZone()) -
      absl::Hours(24 * 210)));
  p.mutable_last_active()->set_nanos(0);
  Put(p);
  v1::SearchRequest request = BaseRequest();
  v1::Weights* w = request.mutable_weights();
  w->set_skills(0);
  w->set_schedule(0);
  w->set_distance(0);
  w->set_interests(0);
  w->set_preferences(0);
  w->set_training(0);
  w->set_trust(0);
  w->set_recency(1);
  request.set_explain(true);
  v1::SearchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).score(), 0.007812);
  ASSERT_EQ(response.results(0).explanation().components_size(), 3);
  EXPECT_EQ(response.results(0).explanation().components(2).name(), "recency");
  EXPECT_EQ(response.results(0).explanation().components(2).value(), 0.0078125);
}

TEST_F(RulesTest, PausedProfilesAreNeverReturned) {
  v1::Profile paused = BaseProfile("paused");
  paused.set_status(v1::PAUSED);
  Put(paused);
  Put(BaseProfile("active"));
  EXPECT_EQ(Ids(BaseRequest()), Strings{"active"});
  EXPECT_EQ(Run(BaseRequest()).total_matches(), 1);
}

TEST_F(RulesTest, DistanceIsLimitedByRequestAndByPaTravel) {
  v1::Profile near = BaseProfile("near");  // 0 km
  v1::Profile far = BaseProfile("far");
  far.mutable_location()->set_lat(testing::kNewcastleLat + 0.1);  // ~11.1 km
  far.set_max_travel_km(10);  // will not travel that far
  v1::Profile far_willing = far;
  far_willing.set_id("far_willing");
  far_willing.set_max_travel_km(12);
  Put(near);
  Put(far);
  Put(far_willing);
  v1::SearchRequest request = BaseRequest();
  EXPECT_EQ(Ids(request), (Strings{"near", "far_willing"}));
  request.set_max_distance_km(11);
  EXPECT_EQ(Ids(request), Strings{"near"});
}

TEST_F(RulesTest, MustHaveSkillsNeedEveryOne) {
  v1::Profile both = BaseProfile("both");
  both.add_skills("personal_care");
  both.add_skills("hoist_use");
  v1::Profile one = BaseProfile("one");
  one.add_skills("personal_care");
  Put(both);
  Put(one);
  v1::SearchRequest request = BaseRequest();
  request.add_must_have_skills("hoist_use");
  request.add_must_have_skills("personal_care");
  EXPECT_EQ(Ids(request), Strings{"both"});
}

TEST_F(RulesTest, TrainingExpiringOnAsOfStillCounts) {
  auto with_first_aid = [](const char* id, const char* expires) {
    v1::Profile p = BaseProfile(id);
    v1::TrainingRecord* record = p.add_training();
    record->set_code("first_aid");
    record->set_expires_on(expires);
    return p;
  };
  Put(with_first_aid("on_day", "2026-06-15"));
  Put(with_first_aid("day_before", "2026-06-14"));
  Put(with_first_aid("never", ""));
  Put(with_first_aid("far_off", "9999-12-31"));
  v1::SearchRequest request = BaseRequest();
  request.add_required_training("first_aid");
  EXPECT_EQ(Ids(request), (Strings{"far_off", "never", "on_day"}));
  request.set_as_of("9999-12-31");  // the last day there is
  EXPECT_EQ(Ids(request), (Strings{"far_off", "never"}));
}

TEST_F(RulesTest, DuplicateTrainingCodeCountsItsLatestExpiry) {
  v1::Profile p = BaseProfile("renewed");
  v1::TrainingRecord* old_record = p.add_training();
  old_record->set_code("first_aid");
  old_record->set_expires_on("2020-01-01");
  v1::TrainingRecord* renewed = p.add_training();
  renewed->set_code("first_aid");
  renewed->set_expires_on("2027-01-01");
  Put(p);
  v1::SearchRequest request = BaseRequest();
  request.add_required_training("first_aid");
  EXPECT_EQ(Ids(request), Strings{"renewed"});
}

TEST_F(RulesTest, DbsAgeIsJudgedInCalendarMonthsClampedToMonthEnd) {
  auto with_dbs = [](const char* id, const char* issued, bool update) {
    v1::Profile p = BaseProfile(id);
    p.mutable_checks()->mutable_dbs()->set_level(v1::DBS_ENHANCED);
    p.mutable_checks()->mutable_dbs()->set_issued_on(issued);
    p.mutable_checks()->mutable_dbs()->set_update_service(update);
    return p;
  };
  // 2023-02-28 + 36 months = 2026-02-28 (< as_of 2026-06-15): stale.
  // 2023-06-15 + 36 months = 2026-06-15 = as_of: fresh.
  // 2023-06-14 + 36 months = 2026-06-14: stale.
  Put(with_dbs("stale", "2023-02-28", false));
  Put(with_dbs("exact", "2023-06-15", false));
  Put(with_dbs("day_late", "2023-06-14", false));
  Put(with_dbs("update_service", "2010-01-01", true));
  v1::Profile no_date = BaseProfile("no_date");
  no_date.mutable_checks()->mutable_dbs()->set_level(v1::DBS_ENHANCED);
  Put(no_date);
  v1::SearchRequest request = BaseRequest();
  request.set_min_dbs_level(v1::DBS_STANDARD);
  EXPECT_EQ(Ids(request), (Strings{"exact", "update_service"}));
  // Month-end clamping: 2020-02-29 + 36 months = 2023-02-28, fresh on
  // that day and stale the day after.
  for (const char* id : {"stale", "exact", "day_late", "no_date"}) {
    ASSERT_TRUE(engine_->DeleteProfile(id).ok());
  }
  Put(with_dbs("leap", "2020-02-29", false));
  request.set_as_of("2023-02-28");
  EXPECT_EQ(Ids(request), (Strings{"leap", "update_service"}));
  request.set_as_of("2023-03-01");
  EXPECT_EQ(Ids(request), (Strings{"update_service"}));
  // A higher level than required passes; a lower one fails.
  request.set_min_dbs_level(v1::DBS_ENHANCED_BARRED_ADULTS);
  EXPECT_EQ(Ids(request), Strings{});
  // Min level NONE: no freshness check at all.
  request.set_min_dbs_level(v1::DBS_NONE);
  EXPECT_EQ(Run(request).total_matches(), 2);
}

TEST_F(RulesTest, RegisterLevelIsDerivedFromEvidence) {
  v1::Profile l0 = BaseProfile("l0");
  l0.mutable_checks()->set_code_of_conduct_signed(false);
  v1::Profile l1 = BaseProfile("l1");
  v1::Profile l2 = BaseProfile("l2");
  l2.mutable_checks()->mutable_dbs()->set_level(v1::DBS_STANDARD);
  v1::TrainingRecord* induction = l2.add_training();
  induction->set_code("pa_induction");
  induction->set_expires_on("2000-01-01");  // expiry never affects the level
  v1::Profile l3 = l2;
  l3.set_id("l3");
  l3.add_qualifications("care_certificate");
  l3.mutable_checks()->set_references_verified(2);
  v1::Profile l4 = l3;
  l4.set_id("l4");
  l4.add_qualifications("registered_nurse");
  v1::Profile l2_basic_dbs = l3;  // level 3 evidence but only a BASIC DBS
  l2_basic_dbs.set_id("l1_basic_dbs");
  l2_basic_dbs.mutable_checks()->mutable_dbs()->set_level(v1::DBS_BASIC);
  for (const auto& p : {l0, l1, l2, l3, l4, l2_basic_dbs}) Put(p);
  EXPECT_EQ(engine_->GetProfile("l0")->register_level(), 0);
  EXPECT_EQ(engine_->GetProfile("l1")->register_level(), 1);
  EXPECT_EQ(engine_->GetProfile("l2")->register_level(), 2);
  EXPECT_EQ(engine_->GetProfile("l3")->register_level(), 3);
  EXPECT_EQ(engine_->GetProfile("l4")->register_level(), 4);
  EXPECT_EQ(engine_->GetProfile("l1_basic_dbs")->register_level(), 1);
  v1::SearchRequest request = BaseRequest();
  request.set_min_register_level(3);
  EXPECT_EQ(Ids(request), (Strings{"l4", "l3"}));  // trust 1.0 > 0.75
}

TEST_F(RulesTest, FlagFiltersAndLanguagesAndRate) {
  v1::Profile all = BaseProfile("all");
  all.mutable_checks()->set_driving_licence(true);
  all.mutable_checks()->set_has_car(true);
  all.mutable_attributes()->set_ok_with_pets(true);
  all.mutable_attributes()->set_non_smoker(true);
  all.mutable_attributes()->set_short_notice_cover(true);
  all.mutable_attributes()->add_languages("pl");
  all.set_min_hourly_rate_pence(1200);
  Put(all);
  Put(BaseProfile("none"));
  v1::SearchRequest base = BaseRequest();
  for (int field = 0; field < 7; ++field) {
    v1::SearchRequest request = base;
    switch (field) {
      case 0: request.set_requires_driver(true); break;
      case 1: request.set_requires_car(true); break;
      case 2: request.set_has_pets(true); break;
      case 3: request.set_requires_non_smoker(true); break;
      case 4: request.set_short_notice(true); break;
      case 5: request.add_required_languages("pl"); break;
      case 6: request.set_max_hourly_rate_pence(1199); break;
    }
    EXPECT_EQ(Ids(request), field == 6 ? Strings{"none"} : Strings{"all"})
        << "filter " << field;
  }
  base.set_max_hourly_rate_pence(1200);
  EXPECT_EQ(Run(base).total_matches(), 2);
}

TEST_F(RulesTest, RequiredGenderOnlyWithPersonalCare) {
  v1::Profile woman = BaseProfile("woman");
  woman.add_skills("personal_care");
  v1::Profile man = BaseProfile("man");
  man.add_skills("personal_care");
  man.mutable_attributes()->set_gender(v1::GENDER_MALE);
  Put(woman);
  Put(man);
  v1::SearchRequest request = BaseRequest();
  request.set_required_gender(v1::GENDER_MALE);
  absl::Status status = SearchStatus(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("required_gender"), std::string::npos);
  request.add_must_have_skills("personal_care");
  EXPECT_EQ(Ids(request), Strings{"man"});
}

TEST_F(RulesTest, ScheduleCoverageUsesMergedSlotsAndTheWeeksLastSlot) {
  v1::Profile sunday_night = BaseProfile("sunday_night");
  AddInterval(sunday_night.mutable_availability(), v1::SUNDAY, "23:00", "24:00");
  AddInterval(sunday_night.mutable_availability(), v1::SUNDAY, "23:30", "24:00");
  v1::Profile monday = BaseProfile("monday");
  AddInterval(monday.mutable_availability(), v1::MONDAY, "00:00", "01:00");
  Put(sunday_night);
  Put(monday);
  v1::SearchRequest request = BaseRequest();
  // Needed: Sunday 23:30-24:00 (slot 335) and Monday 00:00-00:30 (slot 0),
  // given with overlaps: 2 slots in all.
  AddInterval(request.mutable_schedule(), v1::SUNDAY, "23:30", "24:00");
  AddInterval(request.mutable_schedule(), v1::MONDAY, "00:00", "00:30");
  AddInterval(request.mutable_schedule(), v1::MONDAY, "00:00", "00:30");
  request.set_explain(true);
  request.set_min_schedule_coverage(0.5);
  v1::SearchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 2);
  for (const auto& result : response.results()) {
    EXPECT_EQ(result.explanation().needed_slots(), 2);
    EXPECT_EQ(result.explanation().covered_slots(), 1);
  }
  request.set_min_schedule_coverage(0.51);
  EXPECT_EQ(Run(request).total_matches(), 0);
}

// days = max(0, floor((00:00 UTC of as_of - last_active) / 24 h)), to
// the nanosecond: the index's scores (ProfileIndex::Search scores from its
// own columns) equal the reference scan's and the formula's.
TEST_F(RulesTest, RecencyCountsWholeDaysBeforeAsOfMidnight) {
  const int64_t as_of = absl::ToUnixSeconds(absl::FromCivil(
      absl::CivilDay(2026, 6, 15), absl::UTCTimeZone()));  // BaseRequest's
  struct Case {
    const char* id;
    int64_t seconds;
    int32_t nanos;
    int days;
  };
  const Case cases[] = {
      {"at-midnight", as_of, 0, 0},
      {"day-before-midnight", as_of - 86400, 0, 1},
      {"day-before-plus-1ns", as_of - 86400, 1, 0},
      {"day-before-less-1s", as_of - 86401, 0, 1},
      {"day-before-less-1ns", as_of - 86401, 999999999, 1},
      {"two-days-less-1ns", as_of - 2 * 86400 - 1, 999999999, 2},
      {"after-as-of", as_of + 3600, 5, 0},
      {"thirty-days", as_of - 30 * 86400, 0, 30},
      {"epoch", 0, 0, static_cast<int>(as_of / 86400)},
  };
  for (const Case& c : cases) {
    v1::Profile p = BaseProfile(c.id);
    p.mutable_last_active()->set_seconds(c.seconds);
    p.mutable_last_active()->set_nanos(c.nanos);
    Put(p);
  }
  const v1::SearchRequest request = BaseRequest();
  const v1::SearchResponse index = Run(request);
  auto reference = engine_->ReferenceSearch(request, testing::SomeNow());
  ASSERT_TRUE(reference.ok()) << reference.status();
  ASSERT_EQ(index.results_size(), std::size(cases));
  ASSERT_EQ(reference->results_size(), std::size(cases));
  for (int i = 0; i < index.results_size(); ++i) {
    SCOPED_TRACE(index.results(i).id());
    EXPECT_EQ(index.results(i).id(), reference->results(i).id());
    EXPECT_EQ(index.results(i).score(), reference->results(i).score());
  }
  // Distance 0 (component 1), trust 1/4 (BaseProfile's checks make level
  // 1), recency 0.5^(days/30).
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id);
    const double expected =
        (0.15 * 1 + 0.05 * 0.25 + 0.05 * std::pow(0.5, c.days / 30.0)) / 0.25;
    bool found = false;
    for (const auto& r : index.results()) {
      if (r.id() != c.id) continue;
      found = true;
      EXPECT_DOUBLE_EQ(r.score(), PrintfRound(expected, 6));
    }
    EXPECT_TRUE(found);
  }
}

TEST_F(RulesTest, ScoreFollowsTheFormulaExactly) {
  v1::Profile p = BaseProfile("p");
  p.add_skills("shopping");
  p.mutable_attributes()->add_interests("music");
  p.mutable_attributes()->add_interests("football");
  *p.mutable_last_active() = google::protobuf::Timestamp();
  // last_active 2026-05-16 12:00 UTC; as_of 2026-06-15 00:00: 29.5 days,
  // floor = 29 days.
  p.mutable_last_active()->set_seconds(
      absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(2026, 5, 16, 12, 0, 0),
                                          absl::UTCTimeZone())));
  AddInterval(p.mutable_availability(), v1::MONDAY, "09:00", "10:00");
  Put(p);
  v1::SearchRequest request = BaseRequest();
  request.add_nice_to_have_skills("shopping");
  request.add_nice_to_have_skills("laundry");
  request.add_interests("music");
  request.add_interests("walking");
  request.add_interests("films");
  request.add_interests("football");
  AddInterval(request.mutable_schedule(), v1::MONDAY, "09:00", "11:00");
  request.add_preferred_genders(v1::GENDER_MALE);
  request.add_preferred_languages("en");
  request.set_explain(true);
  // skills 1/2, schedule 2/4, distance 1 (0 km), interests 2/4,
  // preferences (0 + 1)/2, trust 1/4, recency 0.5^(29/30); no training.
  const double recency = std::pow(0.5, 29.0 / 30.0);
  const double expected =
      (0.30 * 0.5 + 0.25 * 0.5 + 0.15 * 1 + 0.10 * 0.5 + 0.10 * 0.5 +
       0.05 * 0.25 + 0.05 * recency) /
      (0.30 + 0.25 + 0.15 + 0.10 + 0.10 + 0.05 + 0.05);
  v1::SearchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_DOUBLE_EQ(response.results(0).score(), PrintfRound(expected, 6));
  const v1::Explanation& e = response.results(0).explanation();
  ASSERT_EQ(e.components_size(), 7);
  EXPECT_EQ(e.components(0).name(), "skills");
  EXPECT_EQ(e.components(6).name(), "recency");
  EXPECT_DOUBLE_EQ(e.components(6).value(), recency);
  ASSERT_EQ(e.matched_skills_size(), 1);
  EXPECT_EQ(e.matched_skills(0), "shopping");
  EXPECT_EQ(e.missing_skills(0), "laundry");
  ASSERT_EQ(e.shared_interests_size(), 2);
  EXPECT_EQ(e.covered_slots(), 2);
  EXPECT_EQ(e.needed_slots(), 4);
}

TEST_F(RulesTest, ZeroWeightsGiveZeroScores) {
  Put(BaseProfile("a"));
  v1::SearchRequest request = BaseRequest();
  v1::Weights* w = request.mutable_weights();
  w->set_distance(0);
  w->set_trust(0);
  w->set_recency(0);
  const v1::SearchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).score(), 0);
  w->set_recency(-1);
  EXPECT_EQ(SearchStatus(request).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RulesTest, TiesAreOrderedByDistanceThenIdAndPagingIsExact) {
  // Ten clones: same score; five at 0 km, five 1.11 km north.
  for (int i = 0; i < 10; ++i) {
    v1::Profile p = BaseProfile("clone-" + std::to_string(9 - i));
    if (i % 2 == 0) p.mutable_location()->set_lat(testing::kNewcastleLat + 0.01);
    Put(p);
  }
  v1::SearchRequest request = BaseRequest();
  request.mutable_weights()->set_distance(0);  // make the scores tie
  request.set_page_size(3);
  std::vector<std::string> all;
  for (int page = 0; page < 10; ++page) {
    v1::SearchResponse response = Run(request);
    EXPECT_EQ(response.total_matches(), 10);
    for (const auto& r : response.results()) all.push_back(r.id());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(all, (Strings{"clone-0", "clone-2", "clone-4", "clone-6",
                          "clone-8", "clone-1", "clone-3", "clone-5",
                          "clone-7", "clone-9"}));
}

TEST_F(RulesTest, PageTokenOfAnotherRequestIsRejected) {
  for (int i = 0; i < 3; ++i) Put(BaseProfile("p" + std::to_string(i)));
  v1::SearchRequest request = BaseRequest();
  request.set_page_size(1);
  v1::SearchResponse first = Run(request);
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_requires_car(true);
  request.set_page_token(first.next_page_token());
  absl::Status status = SearchStatus(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("page_token"), std::string::npos);
}

TEST_F(RulesTest, InvalidSearchesNameTheField) {
  struct Case {
    std::function<void(v1::SearchRequest&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::SearchRequest& r) { r.clear_location(); }, "location"},
      {[](v1::SearchRequest& r) { r.mutable_location()->set_lat(70); },
       "location.lat"},
      {[](v1::SearchRequest& r) { r.set_local_authority("E99"); },
       "local_authority"},
      {[](v1::SearchRequest& r) { r.set_max_distance_km(0); }, "max_distance_km"},
      {[](v1::SearchRequest& r) { r.set_max_distance_km(-3); },
       "max_distance_km"},
      {[](v1::SearchRequest& r) { r.set_max_distance_km(NAN); },
       "max_distance_km"},
      {[](v1::SearchRequest& r) { r.set_max_distance_km(INFINITY); },
       "max_distance_km"},
      {[](v1::SearchRequest& r) { r.add_must_have_skills("juggling"); },
       "must_have_skills[0]"},
      {[](v1::SearchRequest& r) { r.add_required_languages("xx"); },
       "required_languages[0]"},
      {[](v1::SearchRequest& r) { r.set_min_register_level(5); },
       "min_register_level"},
      {[](v1::SearchRequest& r) { r.set_required_gender(v1::GENDER_MALE); },
       "required_gender"},
      {[](v1::SearchRequest& r) { r.set_min_schedule_coverage(1.5); },
       "min_schedule_coverage"},
      {[](v1::SearchRequest& r) {
         AddInterval(r.mutable_schedule(), v1::MONDAY, "09:00", "24:30");
       }, "schedule[0].end"},
      {[](v1::SearchRequest& r) { r.set_max_hourly_rate_pence(-1); },
       "max_hourly_rate_pence"},
      {[](v1::SearchRequest& r) { r.set_as_of("2026-02-30"); }, "as_of"},
      {[](v1::SearchRequest& r) { r.set_page_size(101); }, "page_size"},
      {[](v1::SearchRequest& r) { r.mutable_weights()->set_skills(-1); },
       "weights.skills"},
      {[](v1::SearchRequest& r) { r.mutable_weights()->set_recency(NAN); },
       "weights.recency"},
      {[](v1::SearchRequest& r) { r.set_page_token("not a token"); },
       "page_token"},
  };
  Put(BaseProfile("p"));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::SearchRequest request = BaseRequest();
    c.mutate(request);
    const absl::Status status = SearchStatus(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), c.field + ":"))
        << status.message();
  }
}

// The contract's sets (skills, languages, codes, exclusions) and interval
// lists that overlap are merged: repeated or overlapping items count once,
// so limits count distinct codes, and interval lists have none (however
// many overlap, they cover at most the week).
TEST_F(RulesTest, RepeatedItemsOfASetCountOnce) {
  v1::Profile p = BaseProfile("p");
  for (int i = 0; i < 70; ++i) p.add_skills("shopping");
  for (int i = 0; i < 21; ++i) p.mutable_attributes()->add_languages("pl");
  for (int i = 0; i < 70; ++i) {
    v1::TrainingRecord* record = p.add_training();
    record->set_code("first_aid");
    record->set_expires_on(absl::StrCat(2030 + i % 5, "-01-01"));
  }
  for (int i = 0; i < 400; ++i) {
    AddInterval(p.mutable_availability(), v1::TUESDAY, "09:00", "12:00");
  }
  Put(p);
  Put(BaseProfile("q"));

  v1::SearchRequest request = BaseRequest();
  for (int i = 0; i < 65; ++i) {
    request.add_must_have_skills("shopping");
    request.add_required_training("first_aid");
    request.add_required_languages("pl");
  }
  // A std::string, not "q": GCC 12 at -O2/-O3 reports a false -Wrestrict
  // inside <string> for add_exclude_ids(const char*) in this loop.
  const std::string q = "q";
  for (int i = 0; i < 1001; ++i) request.add_exclude_ids(q);
  for (int i = 0; i < 400; ++i) {
    AddInterval(request.mutable_schedule(), v1::TUESDAY, "10:00", "11:00");
  }
  request.set_min_schedule_coverage(1);
  request.set_explain(true);
  const v1::SearchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).id(), "p");
  EXPECT_EQ(response.results(0).explanation().needed_slots(), 2);
  EXPECT_EQ(response.results(0).explanation().covered_slots(), 2);

  // Distinct codes beyond the vocabulary's use are still counted: a PA
  // lists at most 20 languages, a search any number.
  v1::Profile many = BaseProfile("many");
  v1::SearchRequest polyglot = BaseRequest();
  const std::vector<std::string> languages = {
      "en", "pl", "ur", "pa", "bn", "ar", "fr", "de", "es", "it", "pt",
      "ro", "ru", "tr", "zh", "hi", "gu", "so", "fa", "ku", "ta"};
  for (const std::string& code : languages) {
    many.mutable_attributes()->add_languages(code);
    polyglot.add_preferred_languages(code);
  }
  absl::Status status = engine_->Upsert(many).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "attributes.languages: 21 distinct codes, at most 20");
  EXPECT_TRUE(SearchStatus(polyglot).ok()) << SearchStatus(polyglot);

  v1::SearchRequest excluding = BaseRequest();
  for (int i = 0; i < 1001; ++i) excluding.add_exclude_ids(absl::StrCat("e", i));
  status = SearchStatus(excluding);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "exclude_ids: more than 1000 distinct ids (at most 1000)");

  // A search names as many distinct codes as the vocabulary holds (the
  // old cap was 64 items).
  std::unique_ptr<Taxonomy> taxonomy = testing::LoadTaxonomy();
  ASSERT_GT(taxonomy->languages().size(), 65u);
  v1::SearchRequest wide = BaseRequest();
  for (CodeId id = 0; id < taxonomy->languages().size(); ++id) {
    wide.add_preferred_languages(taxonomy->languages().code(id));
  }
  EXPECT_TRUE(SearchStatus(wide).ok()) << SearchStatus(wide);

  // Lists as sent stay bounded, so a stored profile stays small.
  v1::Profile stuffed = BaseProfile("stuffed");
  for (int i = 0; i < 1001; ++i) stuffed.add_skills("shopping");
  status = engine_->Upsert(stuffed).status();
  EXPECT_EQ(status.message(),
            "skills: 1001 items, at most 1000 (repeated items included)");
  stuffed = BaseProfile("stuffed");
  for (int i = 0; i < 2017; ++i) {
    AddInterval(stuffed.mutable_availability(), v1::MONDAY, "09:00", "10:00");
  }
  status = engine_->Upsert(stuffed).status();
  EXPECT_EQ(status.message(),
            "availability: 2017 intervals, at most 2016 (overlapping ones "
            "included)");
  EXPECT_EQ(engine_->size(), 2);
}

// last_active takes google.protobuf.Timestamp's whole range, 0001..9999:
// long ago scores recency 0, in the future 1 (days clamp at 0).
TEST_F(RulesTest, LastActiveTakesTheWholeTimestampRange) {
  constexpr int64_t kFirst = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kLast = 253402300799;   // 9999-12-31T23:59:59Z
  v1::Profile old_pa = BaseProfile("old");
  old_pa.mutable_last_active()->set_seconds(kFirst);
  old_pa.mutable_last_active()->set_nanos(0);
  Put(old_pa);
  v1::Profile future = BaseProfile("future");
  future.mutable_last_active()->set_seconds(kLast);
  future.mutable_last_active()->set_nanos(999999999);
  Put(future);
  v1::SearchRequest request = BaseRequest();
  request.set_explain(true);
  const v1::SearchResponse response = Run(request);
  ASSERT_EQ(response.results_size(), 2);
  for (const v1::SearchResult& result : response.results()) {
    const auto& components = result.explanation().components();
    const auto recency = std::find_if(
        components.begin(), components.end(),
        [](const auto& c) { return c.name() == "recency"; });
    ASSERT_NE(recency, components.end());
    EXPECT_EQ(recency->value(), result.id() == "future" ? 1.0 : 0.0)
        << result.id();
  }
  for (const auto& [seconds, nanos] :
       std::vector<std::pair<int64_t, int32_t>>{
           {kFirst - 1, 0}, {kLast + 1, 0}, {0, -1}, {0, 1000000000}}) {
    v1::Profile bad = BaseProfile("bad");
    bad.mutable_last_active()->set_seconds(seconds);
    bad.mutable_last_active()->set_nanos(nanos);
    const absl::Status status = engine_->Upsert(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << seconds;
    EXPECT_TRUE(absl::StartsWith(status.message(), "last_active:"))
        << status.message();
  }
}

TEST_F(RulesTest, RangeErrorsQuoteTheValueExactly) {
  v1::Profile p = BaseProfile("p");
  p.set_max_travel_km(200.0000001);
  absl::Status status = engine_->Upsert(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "max_travel_km: 200.0000001 is outside 0..200");
  p.set_max_travel_km(NAN);
  EXPECT_NE(engine_->Upsert(p).status().message().find("max_travel_km: nan"),
            std::string::npos);
  v1::SearchRequest request = BaseRequest();
  request.set_min_schedule_coverage(1 + 1e-12);
  EXPECT_EQ(SearchStatus(request).message(),
            "min_schedule_coverage: 1.000000000001 is outside 0..1");
}

TEST_F(RulesTest, LimitsBeyondEveryPaAreTakenAsNoLimit) {
  // PAs travel at most 200 km and ask at most 100000 pence: a larger
  // distance or rate cap is valid and limits nothing more.
  v1::Profile far = BaseProfile("far");
  far.mutable_location()->set_lat(testing::kNewcastleLat - 1.5);  // ~167 km south
  far.set_max_travel_km(200);
  far.set_min_hourly_rate_pence(100000);
  Put(far);
  Put(BaseProfile("near"));
  v1::SearchRequest request = BaseRequest();
  EXPECT_EQ(Ids(request), (Strings{"near", "far"}));
  request.set_max_distance_km(5000);
  request.set_max_hourly_rate_pence(int64_t{1} << 40);
  EXPECT_EQ(Ids(request), (Strings{"near", "far"}));
  request.set_max_distance_km(150);
  request.set_max_hourly_rate_pence(99999);
  EXPECT_EQ(Ids(request), Strings{"near"});
}

TEST_F(RulesTest, ExcludedIdsAreNeverReturned) {
  Put(BaseProfile("keep"));
  Put(BaseProfile("drop"));
  v1::SearchRequest request = BaseRequest();
  request.add_exclude_ids("drop");
  EXPECT_EQ(Ids(request), Strings{"keep"});
}

TEST_F(RulesTest, PolicyWithUnknownFieldIsRejectedNamingItsPath) {
  v1::Policy policy;
  policy.set_local_authority("E08000021");
  auto* updated = policy.mutable_updated_at();
  updated->GetReflection()->MutableUnknownFields(updated)->AddVarint(79, 1);
  absl::Status status = engine_->SetPolicy(policy, testing::SomeNow()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("policy.updated_at: unknown field number 79"),
            std::string::npos)
      << status.message();
  EXPECT_TRUE(engine_->ListPolicies().empty());
}

TEST_F(RulesTest, PolicyIsStricterOfRequestAndPolicy) {
  v1::Profile trained = BaseProfile("trained");
  trained.add_training()->set_code("safeguarding_adults");
  Put(trained);
  Put(BaseProfile("untrained"));
  v1::Policy policy;
  policy.set_local_authority("E08000021");
  policy.add_required_training("safeguarding_adults");
  ASSERT_TRUE(engine_->SetPolicy(policy, testing::SomeNow()).ok());
  v1::SearchRequest request = BaseRequest();
  EXPECT_EQ(Run(request).total_matches(), 2);  // no local_authority given
  request.set_local_authority("E08000021");
  v1::SearchResponse response = Run(request);
  EXPECT_EQ(response.applied_policy(), "E08000021");
  EXPECT_EQ(Ids(request), Strings{"trained"});
  request.set_local_authority("E08000024");  // Sunderland: no policy
  EXPECT_EQ(Run(request).applied_policy(), "");
  EXPECT_EQ(Run(request).total_matches(), 2);
}

TEST_F(RulesTest, StaleVersionsAreRejectedAndZeroMeansNext) {
  v1::Profile p = BaseProfile("v");
  p.set_version(10);
  Put(p);
  p.set_version(10);
  EXPECT_EQ(engine_->Upsert(p).status().code(),
            absl::StatusCode::kFailedPrecondition);
  p.set_version(9);
  EXPECT_EQ(engine_->Upsert(p).status().code(),
            absl::StatusCode::kFailedPrecondition);
  p.set_version(0);
  auto result = engine_->Upsert(p);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->version(), 11);
  EXPECT_FALSE(result->created());
}

TEST_F(RulesTest, NextVersionPastTheLargestIsRefusedNotWrapped) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  v1::Profile p = BaseProfile("v");
  p.set_version(kMax);
  Put(p);
  p.set_version(0);
  p.set_max_travel_km(5);
  const auto result = engine_->Upsert(p);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition)
      << result.status();
  EXPECT_NE(result.status().message().find("version"), std::string::npos);
  // Nothing changed: the stored profile keeps its version and content.
  const auto stored = engine_->GetProfile("v");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->profile().version(), kMax);
  EXPECT_EQ(stored->profile().max_travel_km(), 20);
  p.set_version(kMax);
  EXPECT_EQ(engine_->Upsert(p).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RulesTest, InvalidProfilesNameTheFieldAndStoreNothing) {
  struct Case {
    std::function<void(v1::Profile&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::Profile& p) { p.set_id("has space"); }, "id"},
      {[](v1::Profile& p) { p.mutable_location()->set_lat(99); }, "location.lat"},
      {[](v1::Profile& p) { p.mutable_location()->set_lon(NAN); }, "location.lon"},
      {[](v1::Profile& p) { p.set_local_authority("E99"); }, "local_authority"},
      {[](v1::Profile& p) { p.set_max_travel_km(0); }, "max_travel_km"},
      {[](v1::Profile& p) { p.set_max_travel_km(201); }, "max_travel_km"},
      {[](v1::Profile& p) { p.add_skills("juggling"); }, "skills[0]"},
      {[](v1::Profile& p) { p.add_training()->set_code("x"); }, "training[0].code"},
      {[](v1::Profile& p) {
         auto* t = p.add_training();
         t->set_code("first_aid");
         t->set_expires_on("2025-02-30");
       }, "training[0].expires_on"},
      {[](v1::Profile& p) { p.mutable_attributes()->add_languages("xx"); },
       "attributes.languages[1]"},
      {[](v1::Profile& p) {
         AddInterval(p.mutable_availability(), v1::MONDAY, "10:00", "09:00");
       }, "availability[0].end"},
      {[](v1::Profile& p) {
         AddInterval(p.mutable_availability(), v1::MONDAY, "10:15", "11:00");
       }, "availability[0].start"},
      {[](v1::Profile& p) { p.set_version(-1); }, "version"},
      {[](v1::Profile& p) {
         p.GetReflection()->MutableUnknownFields(&p)->AddVarint(99, 1);
       }, "unknown field"},
      // Unknown fields deep inside are named by their whole path.
      {[](v1::Profile& p) {
         AddInterval(p.mutable_availability(), v1::MONDAY, "09:00", "10:00");
         v1::TimeInterval* second = p.mutable_availability()->Add();
         second->GetReflection()->MutableUnknownFields(second)->AddVarint(77, 1);
       }, "availability[1]: unknown field number 77"},
      {[](v1::Profile& p) {
         auto* at = p.mutable_location();
         at->GetReflection()->MutableUnknownFields(at)->AddVarint(78, 1);
       }, "location: unknown field number 78"},
  };
  for (const Case& c : cases) {
    v1::Profile p = BaseProfile("bad");
    c.mutate(p);
    absl::Status status = engine_->Upsert(p).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(c.field), std::string::npos)
        << status.message() << " should name " << c.field;
  }
  EXPECT_EQ(engine_->size(), 0);
  EXPECT_EQ(engine_->GetProfile("bad").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RulesTest, DeleteRemovesEverywhere) {
  Put(BaseProfile("gone"));
  ASSERT_TRUE(engine_->DeleteProfile("gone").ok());
  EXPECT_EQ(engine_->GetProfile("gone").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Run(BaseRequest()).total_matches(), 0);
  EXPECT_EQ(engine_->DeleteProfile("gone").code(), absl::StatusCode::kNotFound);
}

TEST(PersistenceTest, AcknowledgedWritesSurviveReopen) {
  testing::TempDir dir;
  {
    auto engine = testing::OpenEngine(dir.path(), /*sync=*/true);
    v1::Profile kept = BaseProfile("kept");
    kept.set_version(5);
    ASSERT_TRUE(engine->Upsert(kept).ok());
    ASSERT_TRUE(engine->Upsert(BaseProfile("deleted")).ok());
    ASSERT_TRUE(engine->DeleteProfile("deleted").ok());
    v1::Policy policy;
    policy.set_local_authority("E06000057");
    policy.set_min_register_level(2);
    ASSERT_TRUE(engine->SetPolicy(policy, testing::SomeNow()).ok());
  }
  auto engine = testing::OpenEngine(dir.path(), true);
  EXPECT_EQ(engine->size(), 1);
  EXPECT_EQ(engine->GetProfile("kept")->profile().version(), 5);
  EXPECT_EQ(engine->GetProfile("deleted").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(engine->GetPolicy("E06000057")->min_register_level(), 2);
  v1::Profile stale = BaseProfile("kept");
  stale.set_version(5);
  EXPECT_EQ(engine->Upsert(stale).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pamatch
