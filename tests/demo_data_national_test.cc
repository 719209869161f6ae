// Tests of the demo-data generator's national scenario (demo/demo_data.h,
// demo/gb_places.h): determinism, agreement of the compiled places table
// with taxonomy/gb_places.csv and taxonomy/great_britain.json, validity of
// every profile against the engine's own checks, and population shares.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "demo/demo_data.h"
#include "demo/gb_places.h"
#include "engine/profile.h"
#include "engine/taxonomy.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "pamatch/internal/internal.pb.h"

namespace pamatch::demo {
namespace {

using google::protobuf::util::MessageDifferencer;

absl::Time TestNow() {
  return absl::FromCivil(absl::CivilDay(2025, 6, 1), absl::UTCTimeZone());
}

std::string SourcePath(const std::string& relative) {
  return std::string(PA_MATCH_SOURCE_DIR) + "/" + relative;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<v1::Profile> National(int count, uint64_t seed = 42) {
  DemoOptions o;
  o.seed = seed;
  o.count = count;
  o.now = TestNow();
  o.scenario = DemoScenario::kNational;
  return GenerateDemoProfiles(o);
}

// The 20,000-profile national sample shared by the validity and share tests.
const std::vector<v1::Profile>& Sample() {
  static const auto* sample = new std::vector<v1::Profile>(National(20000));
  return *sample;
}

// One data row of taxonomy/gb_places.csv, parsed independently of the build.
struct CsvRow {
  std::string place, code, name;
  double lat = 0, lon = 0;
  int64_t population = 0;
  bool rural = false;
  int64_t sigma_km = 0;
};

std::vector<CsvRow> ReadCsv() {
  std::vector<CsvRow> rows;
  std::istringstream in(ReadFile(SourcePath("taxonomy/gb_places.csv")));
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      EXPECT_EQ(line,
                "place,la_code,la_name,lat,lon,population,rural,sigma_km");
      header = false;
      continue;
    }
    // The name is the only field that may be quoted (it may hold commas).
    std::vector<std::string> f;
    const size_t q1 = line.find('"');
    if (q1 != std::string::npos) {
      const size_t q2 = line.find('"', q1 + 1);
      const std::string name = line.substr(q1 + 1, q2 - q1 - 1);
      f = absl::StrSplit(line.substr(0, q1) + "@" + line.substr(q2 + 1), ',');
      for (std::string& s : f) {
        if (s == "@") s = name;
      }
    } else {
      f = absl::StrSplit(line, ',');
    }
    EXPECT_EQ(f.size(), 8u) << line;
    if (f.size() != 8) continue;
    CsvRow r;
    r.place = f[0];
    r.code = f[1];
    r.name = f[2];
    EXPECT_TRUE(absl::SimpleAtod(f[3], &r.lat)) << line;
    EXPECT_TRUE(absl::SimpleAtod(f[4], &r.lon)) << line;
    EXPECT_TRUE(absl::SimpleAtoi(f[5], &r.population)) << line;
    r.rural = f[6] == "1";
    if (!f[7].empty()) {
      EXPECT_TRUE(absl::SimpleAtoi(f[7], &r.sigma_km)) << line;
    }
    rows.push_back(r);
  }
  return rows;
}

internal::Taxonomy ParseTaxonomy(const std::string& relative) {
  internal::Taxonomy t;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ReadFile(SourcePath(relative)), &t)
                  .ok())
      << relative;
  return t;
}

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  const double r = std::numbers::pi / 180.0;
  double a = std::pow(std::sin((lat2 - lat1) * r / 2), 2) +
             std::cos(lat1 * r) * std::cos(lat2 * r) *
                 std::pow(std::sin((lon2 - lon1) * r / 2), 2);
  return 2 * 6371.0088 * std::asin(std::sqrt(a));
}

TEST(DemoDataNational, SameSeedGivesIdenticalProfilesIndependentOfCount) {
  auto a = National(300);
  auto b = National(300);
  auto small = National(10);
  ASSERT_EQ(a.size(), 300u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(a[i], b[i])) << i;
  }
  for (size_t i = 0; i < small.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(small[i], a[i])) << i;
  }
  for (int64_t i : {299, 7, 0}) {
    EXPECT_TRUE(MessageDifferencer::Equals(
        GenerateScenarioProfile(DemoScenario::kNational, 42, i, TestNow(),
                                "pa-"),
        a[i]));
  }
  auto other = National(100, 43);
  int differ = 0;
  for (size_t i = 0; i < other.size(); ++i) {
    differ += MessageDifferencer::Equals(a[i], other[i]) ? 0 : 1;
  }
  EXPECT_EQ(differ, 100);
}

// Pins the national output like DemoData.GoldenFingerprint pins the North
// East one; an intended change to the generator or the table updates it.
TEST(DemoDataNational, GoldenFingerprint) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (const v1::Profile& p : National(1000)) {
    for (unsigned char c : p.SerializeAsString()) {
      h = (h ^ c) * 1099511628211ULL;
    }
  }
  EXPECT_EQ(h, 7935243450998656414ULL);
}

// Only the location section depends on the scenario, so a national data set
// has the same skills, checks, availability... as the North East one.
TEST(DemoDataNational, OnlyTheLocationDiffersFromNorthEast) {
  int moved = 0;
  for (int64_t i = 0; i < 300; ++i) {
    v1::Profile national = GenerateScenarioProfile(DemoScenario::kNational, 42,
                                                   i, TestNow(), "pa-");
    v1::Profile north_east = GenerateDemoProfile(42, i, TestNow(), "pa-");
    moved += national.local_authority() != north_east.local_authority();
    for (v1::Profile* p : {&national, &north_east}) {
      p->clear_local_authority();
      p->clear_location();
      p->clear_max_travel_km();
    }
    EXPECT_TRUE(MessageDifferencer::Equals(national, north_east)) << i;
  }
  EXPECT_GT(moved, 250);  // ~4% of Great Britain lives in the North East
}

TEST(DemoDataNational, ScenarioNamesRoundTrip) {
  DemoScenario s = DemoScenario::kNorthEast;
  EXPECT_TRUE(ParseDemoScenario("national", &s));
  EXPECT_EQ(s, DemoScenario::kNational);
  EXPECT_TRUE(ParseDemoScenario("north_east", &s));
  EXPECT_EQ(s, DemoScenario::kNorthEast);
  EXPECT_FALSE(ParseDemoScenario("scotland", &s));
  EXPECT_EQ(DemoScenarioName(DemoScenario::kNational), "national");
}

TEST(DemoDataNational, CompiledTableMatchesTheCsv) {
  const std::vector<CsvRow> rows = ReadCsv();
  const auto places = GbPlaces();
  ASSERT_EQ(places.size(), rows.size());
  ASSERT_GE(rows.size(), 150u);
  int64_t total = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rows[i].place);
    EXPECT_EQ(places[i].place, rows[i].place);
    EXPECT_EQ(places[i].la_code, rows[i].code);
    EXPECT_EQ(places[i].lat_micro, std::llround(rows[i].lat * 1e6));
    EXPECT_EQ(places[i].lon_micro, std::llround(rows[i].lon * 1e6));
    EXPECT_EQ(places[i].population, rows[i].population);
    EXPECT_EQ(places[i].rural, rows[i].rural);
    if (rows[i].sigma_km > 0) {
      EXPECT_EQ(places[i].sigma_m, rows[i].sigma_km * 1000);
    } else {
      double sigma = std::clamp(350 * std::sqrt(rows[i].population / 1000.0),
                                2000.0, 15000.0);
      if (rows[i].rural) sigma *= 2;
      EXPECT_NEAR(places[i].sigma_m, sigma, 3);  // integer sqrt, x2
    }
    EXPECT_NEAR(places[i].m_per_deg_lon,
                111195 * std::cos(rows[i].lat * std::numbers::pi / 180), 1);
    total += rows[i].population;
    EXPECT_EQ(places[i].cumulative_population, total);
  }
  EXPECT_EQ(GbTotalPopulation(), total);
}

// great_britain.json is generated from the CSV (scripts/gb_taxonomy.py): one
// authority per row with the row's point as centre, and otherwise exactly
// the North East vocabulary.
TEST(DemoDataNational, TaxonomyFileMatchesTheCsvAndTheNorthEastVocabulary) {
  const std::vector<CsvRow> rows = ReadCsv();
  const internal::Taxonomy gb = ParseTaxonomy("taxonomy/great_britain.json");
  const internal::Taxonomy ne = ParseTaxonomy("taxonomy/north_east.json");
  ASSERT_EQ(gb.local_authorities_size(), static_cast<int>(rows.size()));
  std::set<std::string> prefixes;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& la = gb.local_authorities(static_cast<int>(i));
    EXPECT_EQ(la.code(), rows[i].code);
    EXPECT_EQ(la.name(), rows[i].name);
    EXPECT_DOUBLE_EQ(la.lat(), rows[i].lat);
    EXPECT_DOUBLE_EQ(la.lon(), rows[i].lon);
    prefixes.insert(rows[i].code.substr(0, 3));
  }
  EXPECT_EQ(prefixes,
            (std::set<std::string>{"E06", "E07", "E08", "E09", "W06", "S12"}));
  internal::Taxonomy gb_rest = gb, ne_rest = ne;
  gb_rest.clear_local_authorities();
  ne_rest.clear_local_authorities();
  EXPECT_TRUE(MessageDifferencer::Equals(gb_rest, ne_rest));
  // The 12 North East authorities keep their codes, names and centres.
  std::map<std::string, const internal::Taxonomy::LocalAuthority*> by_code;
  for (const auto& la : gb.local_authorities()) by_code[la.code()] = &la;
  for (const auto& la : ne.local_authorities()) {
    ASSERT_TRUE(by_code.count(la.code())) << la.code();
    EXPECT_TRUE(MessageDifferencer::Equals(*by_code[la.code()], la))
        << la.code();
  }
}

TEST(DemoDataNational, GreatBritainTaxonomyLoadsAndEveryProfileCompiles) {
  auto taxonomy = Taxonomy::Load(SourcePath("taxonomy/great_britain.json"));
  ASSERT_TRUE(taxonomy.ok()) << taxonomy.status();
  EXPECT_EQ(taxonomy->local_authorities().size(), GbPlaces().size());
  std::set<std::string> seen;
  for (const v1::Profile& p : Sample()) {
    auto compiled = CompileProfile(*taxonomy, p);
    EXPECT_TRUE(compiled.ok()) << p.id() << ": " << compiled.status();
    seen.insert(p.local_authority());
  }
  EXPECT_GT(seen.size(), 250u);  // nearly every authority gets PAs
  // And the North East taxonomy refuses most of them: the scenarios need
  // their own taxonomy files.
  auto north_east = Taxonomy::Load(SourcePath("taxonomy/north_east.json"));
  ASSERT_TRUE(north_east.ok());
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    refused += CompileProfile(*north_east, Sample()[i]).ok() ? 0 : 1;
  }
  EXPECT_GT(refused, 150);
}

// Over 20,000 profiles each region's share is its share of the table's
// population, within about 4 standard errors.
TEST(DemoDataNational, RegionSharesFollowThePopulationTable) {
  const std::vector<CsvRow> rows = ReadCsv();
  const internal::Taxonomy ne = ParseTaxonomy("taxonomy/north_east.json");
  std::set<std::string> north_east;
  for (const auto& la : ne.local_authorities()) north_east.insert(la.code());
  auto region = [&](const std::string& code) -> std::string {
    if (north_east.count(code)) return "north_east";
    if (code.rfind("E09", 0) == 0) return "london";
    if (code.rfind("W06", 0) == 0) return "wales";
    if (code.rfind("S12", 0) == 0) return "scotland";
    if (code == "E08000025") return "birmingham";
    return "other";
  };
  std::map<std::string, double> expected, seen;
  double total = 0;
  for (const CsvRow& r : rows) {
    expected[region(r.code)] += static_cast<double>(r.population);
    total += static_cast<double>(r.population);
  }
  for (const v1::Profile& p : Sample()) seen[region(p.local_authority())] += 1;
  const double n = static_cast<double>(Sample().size());
  EXPECT_NEAR(expected["london"] / total, 0.148, 0.005);  // the table's
  for (const auto& [name, pop] : expected) {
    const double share = pop / total;
    const double tolerance = 4 * std::sqrt(share * (1 - share) / n) + 0.001;
    EXPECT_NEAR(seen[name] / n, share, tolerance) << name;
  }
}

TEST(DemoDataNational, LocationsSpreadAroundTheirPlace) {
  std::map<std::string, const GbPlace*> by_code;
  for (const GbPlace& g : GbPlaces()) by_code[g.la_code] = &g;
  std::map<std::string, std::pair<double, int>> dist;  // sum, count
  for (const v1::Profile& p : Sample()) {
    const GbPlace& g = *by_code.at(p.local_authority());
    const double d = HaversineKm(g.lat_micro / 1e6, g.lon_micro / 1e6,
                                 p.location().lat(), p.location().lon());
    // 6 sigma per axis is the cap (sigma <= 30 km), less where clamped.
    EXPECT_LT(d, 6 * std::sqrt(2.0) * g.sigma_m / 1000 + 1) << p.id();
    dist[p.local_authority()].first += d;
    ++dist[p.local_authority()].second;
  }
  // Mean distance of a 2-D gaussian is 1.25 sigma; check the places with
  // enough PAs to measure (the sea redraws pull coastal NE ones in a bit).
  int checked = 0;
  for (const auto& [code, sum] : dist) {
    if (sum.second < 100) continue;
    const double sigma_km = by_code.at(code)->sigma_m / 1000.0;
    const double mean = sum.first / sum.second;
    EXPECT_GT(mean, 0.95 * sigma_km) << code;
    EXPECT_LT(mean, 1.5 * sigma_km) << code;
    ++checked;
  }
  EXPECT_GT(checked, 15);
}

}  // namespace
}  // namespace pamatch::demo
