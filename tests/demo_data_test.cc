// Tests of the demo-data generator (demo/demo_data.h): determinism,
// validity against matcher.proto and the taxonomy file, and the documented
// distributions (docs/DEMO-DATA.md).
#include "demo/demo_data.h"

#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "pamatch/internal/internal.pb.h"

namespace pamatch::demo {
namespace {

using google::protobuf::util::MessageDifferencer;

// The reference instant of most tests: 2025-06-01 00:00 UTC.
absl::Time TestNow() {
  return absl::FromCivil(absl::CivilDay(2025, 6, 1), absl::UTCTimeZone());
}

// Generates `count` profiles with seed 42 relative to TestNow().
std::vector<v1::Profile> Generate(int count, uint64_t seed = 42) {
  DemoOptions o;
  o.seed = seed;
  o.count = count;
  o.now = TestNow();
  return GenerateDemoProfiles(o);
}

// The 20,000-profile sample shared by the validity and distribution tests.
const std::vector<v1::Profile>& Sample() {
  static const auto* sample = new std::vector<v1::Profile>(Generate(20000));
  return *sample;
}

// taxonomy/north_east.json parsed with protobuf's JSON parser.
internal::Taxonomy LoadTaxonomy() {
  std::ifstream in(std::string(PA_MATCH_SOURCE_DIR) +
                   "/taxonomy/north_east.json");
  std::stringstream text;
  text << in.rdbuf();
  internal::Taxonomy t;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &t).ok());
  EXPECT_GT(t.skills_size(), 0);
  return t;
}

// Strict "YYYY-MM-DD": parses and formats back to the same text.
bool ParseDate(const std::string& s, absl::CivilDay* day) {
  return s.size() == 10 && absl::ParseCivilTime(s, day) &&
         absl::FormatCivilTime(*day) == s;
}

// "HH:MM" with minutes 00/30, 00:00..24:00, as a half-hour slot; -1 if bad.
int Slot(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if ((m != 0 && m != 30) || h > 24 || (h == 24 && m != 0)) return -1;
  return h * 2 + m / 30;
}

// Great-circle distance in km (R = 6371.0088 km), as the matcher uses.
double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  const double r = std::numbers::pi / 180.0;
  double a = std::pow(std::sin((lat2 - lat1) * r / 2), 2) +
             std::cos(lat1 * r) * std::cos(lat2 * r) *
                 std::pow(std::sin((lon2 - lon1) * r / 2), 2);
  return 2 * 6371.0088 * std::asin(std::sqrt(a));
}

TEST(DemoData, SameSeedGivesIdenticalProfiles) {
  auto a = Generate(500);
  auto b = Generate(500);
  ASSERT_EQ(a.size(), 500u);
  ASSERT_EQ(b.size(), 500u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(a[i], b[i])) << i;
  }
}

TEST(DemoData, DifferentSeedGivesDifferentProfiles) {
  auto a = Generate(200, 42);
  auto b = Generate(200, 43);
  int differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id(), b[i].id());
    if (!MessageDifferencer::Equals(a[i], b[i])) ++differ;
  }
  EXPECT_EQ(differ, 200);
}

TEST(DemoData, ProfileIsIndependentOfCountAndOrder) {
  auto small = Generate(10);
  auto big = Generate(1000);
  for (size_t i = 0; i < small.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(small[i], big[i])) << i;
  }
  for (int64_t i : {999, 500, 0, 7}) {
    EXPECT_TRUE(MessageDifferencer::Equals(
        GenerateDemoProfile(42, i, TestNow(), "pa-"), big[i]))
        << i;
  }
}

// Pins the output bit for bit: a different value on another platform means
// the generator is not portable; an intended change to the generator must
// update the constant (and say so in docs/DEMO-DATA.md's change notes).
TEST(DemoData, GoldenFingerprint) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (const v1::Profile& p : Generate(1000)) {
    for (unsigned char c : p.SerializeAsString()) {
      h = (h ^ c) * 1099511628211ULL;
    }
  }
  EXPECT_EQ(h, 4648891807086296360ULL);
}

TEST(DemoData, IdsArePrefixedZeroPaddedAndUnique) {
  EXPECT_EQ(GenerateDemoProfile(1, 42, TestNow(), "pa-").id(), "pa-000042");
  EXPECT_EQ(GenerateDemoProfile(1, 1234567, TestNow(), "x:").id(), "x:1234567");
  EXPECT_TRUE(Generate(0).empty());
  DemoOptions negative;
  negative.count = -5;
  EXPECT_TRUE(GenerateDemoProfiles(negative).empty());
  std::set<std::string> ids;
  for (const v1::Profile& p : Sample()) ids.insert(p.id());
  EXPECT_EQ(ids.size(), Sample().size());
}

TEST(DemoData, EveryCodeIsInTheTaxonomy) {
  const internal::Taxonomy t = LoadTaxonomy();
  std::set<std::string> las, skills, training, quals, interests, languages;
  for (const auto& la : t.local_authorities()) las.insert(la.code());
  skills.insert(t.skills().begin(), t.skills().end());
  training.insert(t.training().begin(), t.training().end());
  for (const auto& q : t.qualifications()) quals.insert(q.code());
  interests.insert(t.interests().begin(), t.interests().end());
  languages.insert(t.languages().begin(), t.languages().end());
  std::set<std::string> seen_skills, seen_training;
  // Each set-valued list must be in the taxonomy and free of duplicates.
  auto check = [](const auto& list, const std::set<std::string>& valid,
                  const std::string& field, const std::string& id) {
    std::set<std::string> unique;
    for (const std::string& c : list) {
      EXPECT_TRUE(valid.count(c)) << id << " " << field << " " << c;
      EXPECT_TRUE(unique.insert(c).second) << id << " dup " << field << c;
    }
  };
  for (const v1::Profile& p : Sample()) {
    EXPECT_TRUE(las.count(p.local_authority())) << p.local_authority();
    check(p.skills(), skills, "skills", p.id());
    check(p.qualifications(), quals, "qualifications", p.id());
    check(p.attributes().interests(), interests, "interests", p.id());
    check(p.attributes().languages(), languages, "languages", p.id());
    std::vector<std::string> codes;
    for (const auto& r : p.training()) codes.push_back(r.code());
    check(codes, training, "training", p.id());
    seen_skills.insert(p.skills().begin(), p.skills().end());
    seen_training.insert(codes.begin(), codes.end());
  }
  // The generator covers the whole vocabulary, not a subset.
  EXPECT_EQ(seen_skills, skills);
  EXPECT_EQ(seen_training, training);
}

TEST(DemoData, NumericRangesAndDatesAreValid) {
  const absl::CivilDay today(2025, 6, 1);
  const int64_t now_s = absl::ToUnixSeconds(TestNow());
  for (const v1::Profile& p : Sample()) {
    SCOPED_TRACE(p.id());
    EXPECT_EQ(p.version(), 1);
    EXPECT_TRUE(p.status() == v1::ACTIVE || p.status() == v1::PAUSED);
    EXPECT_GE(p.location().lat(), 49.8);
    EXPECT_LE(p.location().lat(), 60.95);
    EXPECT_GE(p.location().lon(), -8.7);
    EXPECT_LE(p.location().lon(), 1.8);
    EXPECT_GT(p.max_travel_km(), 0);
    EXPECT_LE(p.max_travel_km(), 60);
    EXPECT_GE(p.skills_size(), 3);
    EXPECT_LE(p.skills_size(), 12);
    EXPECT_GE(p.training_size(), 1);
    EXPECT_LE(p.training_size(), 10);
    EXPECT_LE(p.qualifications_size(), 3);
    const v1::Checks& c = p.checks();
    EXPECT_GE(c.references_verified(), 0);
    EXPECT_LE(c.references_verified(), 4);
    EXPECT_TRUE(!c.has_car() || c.driving_licence());
    EXPECT_GE(c.dbs().level(), v1::DBS_NONE);
    EXPECT_LE(c.dbs().level(), v1::DBS_ENHANCED_BARRED_ADULTS);
    absl::CivilDay day;
    if (c.dbs().level() == v1::DBS_NONE) {
      EXPECT_EQ(c.dbs().issued_on(), "");
      EXPECT_FALSE(c.dbs().update_service());
    } else {
      ASSERT_TRUE(ParseDate(c.dbs().issued_on(), &day)) << c.dbs().issued_on();
      EXPECT_LE(day, today);
      EXPECT_GE(day, today - 1826);
    }
    for (const auto& r : p.training()) {
      if (r.expires_on().empty()) continue;
      ASSERT_TRUE(ParseDate(r.expires_on(), &day)) << r.expires_on();
      EXPECT_GE(day, today - 365);
      EXPECT_LE(day, today + 1095);
    }
    const v1::Attributes& a = p.attributes();
    EXPECT_NE(a.gender(), v1::GENDER_UNSPECIFIED);
    EXPECT_NE(a.age_band(), v1::AGE_BAND_UNSPECIFIED);
    ASSERT_GE(a.languages_size(), 1);
    EXPECT_LE(a.languages_size(), 2);
    EXPECT_EQ(a.languages(0), "en");
    EXPECT_GE(a.interests_size(), 1);
    EXPECT_LE(a.interests_size(), 6);
    const int64_t rate = p.min_hourly_rate_pence();
    EXPECT_TRUE(rate == 0 || (rate >= 1100 && rate <= 1800)) << rate;
    EXPECT_LE(p.last_active().seconds(), now_s);
    EXPECT_GE(p.last_active().seconds(), now_s - 180 * 86400);
    EXPECT_EQ(p.last_active().nanos(), 0);
    for (const std::string& s : p.skills()) {
      if (s == "driving") {
        EXPECT_TRUE(c.driving_licence());
      }
    }
  }
}

TEST(DemoData, AvailabilityIntervalsAreWellFormed) {
  for (const v1::Profile& p : Sample()) {
    SCOPED_TRACE(p.id());
    ASSERT_GE(p.availability_size(), 1);
    EXPECT_LE(p.availability_size(), 336);
    std::map<int, std::vector<std::pair<int, int>>> by_day;
    for (const v1::TimeInterval& t : p.availability()) {
      EXPECT_GE(t.day(), v1::MONDAY);
      EXPECT_LE(t.day(), v1::SUNDAY);
      const int start = Slot(t.start()), end = Slot(t.end());
      ASSERT_GE(start, 0) << t.start();
      ASSERT_GE(end, 0) << t.end();
      EXPECT_LE(start, 47);
      EXPECT_LT(start, end);
      EXPECT_LE(end, 48);
      by_day[t.day()].push_back({start, end});
    }
    for (auto& [day, spans] : by_day) {  // sorted, non-overlapping
      for (size_t i = 1; i < spans.size(); ++i) {
        EXPECT_LE(spans[i - 1].second, spans[i].first) << day;
      }
    }
  }
}

TEST(DemoData, JsonRoundTripPreservesProfiles) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  for (const v1::Profile& p : Generate(300)) {
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(p, &json, opts).ok());
    EXPECT_NE(json.find("\"local_authority\""), std::string::npos);
    v1::Profile back;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
    EXPECT_TRUE(MessageDifferencer::Equals(p, back)) << json;
  }
}

TEST(DemoData, DistributionsMatchTheDocumentation) {
  const auto& sample = Sample();
  const double n = static_cast<double>(sample.size());
  std::map<std::string, int> by_la, skills, training;
  std::map<int, int> dbs, gender;
  int identity = 0, licence = 0, car = 0, paused = 0, rate0 = 0, second = 0;
  int update = 0;
  int specialist = 0, records = 0, expired = 0, no_expiry = 0, skill_sum = 0;
  const std::set<std::string> kSpecialist = {"rqf_level4_health_social_care",
                                             "registered_nurse",
                                             "bsl_level3",
                                             "sports_coaching_level2",
                                             "counselling_certificate",
                                             "physiotherapy_assistant"};
  for (const v1::Profile& p : sample) {
    ++by_la[p.local_authority()];
    for (const auto& s : p.skills()) ++skills[s];
    skill_sum += p.skills_size();
    for (const auto& r : p.training()) {
      ++training[r.code()];
      ++records;
      if (r.expires_on().empty()) {
        ++no_expiry;
      } else if (r.expires_on() < "2025-06-01") {
        ++expired;
      }
    }
    ++dbs[p.checks().dbs().level()];
    ++gender[p.attributes().gender()];
    identity += p.checks().identity_verified();
    update += p.checks().dbs().update_service();
    licence += p.checks().driving_licence();
    car += p.checks().has_car();
    paused += p.status() == v1::PAUSED;
    rate0 += p.min_hourly_rate_pence() == 0;
    second += p.attributes().languages_size() > 1;
    bool spec = false;
    for (const auto& q : p.qualifications()) spec |= kSpecialist.count(q) > 0;
    specialist += spec;
  }
  const double pop =
      522 + 108 + 196 + 92 + 143 + 300 + 210 + 320 + 137 + 148 + 197 + 274;
  EXPECT_NEAR(by_la["E08000021"] / n, 300 / pop, 0.01);   // Newcastle
  EXPECT_NEAR(by_la["E06000047"] / n, 522 / pop, 0.015);  // County Durham
  EXPECT_NEAR(by_la["E06000001"] / n, 92 / pop, 0.007);   // Hartlepool
  EXPECT_NEAR(training["pa_induction"] / n, 0.70, 0.03);
  EXPECT_NEAR(training["first_aid"] / n, 0.60, 0.03);
  EXPECT_NEAR(training["safeguarding_adults"] / n, 0.55, 0.03);
  EXPECT_NEAR(expired / static_cast<double>(records), 0.10, 0.02);
  EXPECT_NEAR(no_expiry / static_cast<double>(records), 0.15, 0.02);
  EXPECT_NEAR(dbs[v1::DBS_ENHANCED] / n, 0.45, 0.02);
  EXPECT_NEAR(dbs[v1::DBS_NONE] / n, 0.10, 0.015);
  EXPECT_NEAR(gender[v1::GENDER_FEMALE] / n, 0.75, 0.02);
  EXPECT_NEAR(identity / n, 0.90, 0.015);
  EXPECT_NEAR(update / n, 0.40, 0.02);
  EXPECT_NEAR(licence / n, 0.65, 0.02);
  EXPECT_NEAR(car / n, 0.55, 0.02);
  EXPECT_NEAR(paused / n, 0.05, 0.01);
  EXPECT_NEAR(rate0 / n, 0.25, 0.02);
  EXPECT_NEAR(second / n, 0.12, 0.015);
  EXPECT_NEAR(specialist / n, 0.05, 0.015);
  EXPECT_GT(skills["personal_care"] / n, 0.6);
  EXPECT_GT(skills["meal_preparation"] / n, 0.5);
  EXPECT_LT(skills["peg_feeding"] / n, 0.05);
  EXPECT_LT(skills["bsl_signing"] / n, 0.05);
  EXPECT_LT(skills["stoma_care"] / n, 0.05);
  EXPECT_LT(skills["waking_nights"] / n, 0.05);
  EXPECT_GT(skill_sum / n, 5.0);
  EXPECT_LT(skill_sum / n, 9.0);
}

TEST(DemoData, LocationsClusterAroundTheirAuthority) {
  const internal::Taxonomy t = LoadTaxonomy();
  std::map<std::string, internal::Taxonomy::LocalAuthority> centre;
  for (const auto& la : t.local_authorities()) centre[la.code()] = la;
  std::map<std::string, std::pair<double, int>> dist;  // sum, count
  for (const v1::Profile& p : Sample()) {
    const auto& c = centre.at(p.local_authority());
    double d =
        HaversineKm(c.lat(), c.lon(), p.location().lat(), p.location().lon());
    EXPECT_LT(d, 130.0) << p.id();
    dist[p.local_authority()].first += d;
    ++dist[p.local_authority()].second;
  }
  ASSERT_EQ(dist.size(), 12u);
  for (const auto& [code, sum] : dist) {  // mean of |offset| ~ 1.25 sigma
    const double mean = sum.first / sum.second;
    const bool rural = code == "E06000047" || code == "E06000057";
    EXPECT_GT(mean, rural ? 12.0 : 4.0) << code;
    EXPECT_LT(mean, rural ? 30.0 : 12.0) << code;
  }
}

}  // namespace
}  // namespace pamatch::demo
