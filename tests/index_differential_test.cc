// The index against the reference scan on random data: for every request,
// Engine::Search (inverted index) and Engine::ReferenceSearch (scan) must
// agree on total_matches, ids, scores, distances, order and page tokens, on
// every page visited, before and after churn (upserts, deletes,
// re-upserts).
//
// Seeds. A seed picks the profiles, the requests and the churn. Every run
// checks the seeds of kFixedSeeds (the same cases every time, so CI always
// covers them) and one random seed, a new one each run. Each seed is its own
// test (ctest names end in /seed_1, /seed_42, ... and /random), prints its
// seed first ("seed N") and names it with any failure. To replay a seed, set
// PA_MATCH_TEST_SEED: the random case then uses it instead of a random one:
//   PA_MATCH_TEST_SEED=N build/tests/index_differential_test
//       --gtest_filter='*/random'
// or PA_MATCH_TEST_SEED=N ctest --test-dir build -R 'UnderChurn/random'.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

// Per seed. Four seeds (three fixed, one random) of 10,000 profiles and
// 600 requests each compare more requests in all than the single random
// seed of 20,000 and 2,000 this test used to run, on four data sets, in
// less CPU time; a score-bound margin broken on purpose fails seed 1 every
// run, as it failed the old test in every run tried.
constexpr int kProfiles = 10000;
constexpr int kRequests = 600;
constexpr int kChurnRounds = 4;
constexpr uint64_t kFixedSeeds[] = {1, 42, 20261125};

const char* const kSkills[] = {"personal_care", "meal_preparation", "shopping",
                               "domestic_cleaning", "hoist_use", "peg_feeding",
                               "bsl_signing", "night_care", "driving"};
const char* const kTraining[] = {"pa_induction", "first_aid",
                                 "safeguarding_adults", "food_hygiene",
                                 "moving_and_assisting"};
const char* const kLanguages[] = {"en", "pl", "ur", "ar"};
const char* const kInterests[] = {"music", "walking", "football", "cooking",
                                  "reading"};

// The random case's seed: PA_MATCH_TEST_SEED if set, else a new one.
uint64_t RandomSeed() {
  if (const char* env = std::getenv("PA_MATCH_TEST_SEED")) {
    return std::strtoull(env, nullptr, 10);
  }
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

class RandomRequests {
 public:
  explicit RandomRequests(uint64_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  double Real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }
  template <size_t N>
  const char* Pick(const char* const (&items)[N]) {
    return items[Uniform(0, N - 1)];
  }

  v1::SearchRequest Next() {
    v1::SearchRequest r;
    if (Chance(0.9)) {  // around the North East
      r.mutable_location()->set_lat(Real(54.4, 55.6));
      r.mutable_location()->set_lon(Real(-2.4, -1.0));
    } else {  // anywhere in the UK box, often far from every PA
      r.mutable_location()->set_lat(Real(49.9, 60.9));
      r.mutable_location()->set_lon(Real(-8.6, 1.7));
    }
    if (Chance(0.2)) r.set_local_authority(Chance(0.5) ? "E08000021" : "E06000057");
    if (Chance(0.8)) r.set_max_distance_km(Real(0.5, 60));
    for (int i = Uniform(0, 2); i > 0; --i) r.add_must_have_skills(Pick(kSkills));
    for (int i = Uniform(0, 3); i > 0; --i) r.add_nice_to_have_skills(Pick(kSkills));
    if (Chance(0.3)) r.add_required_training(Pick(kTraining));
    if (Chance(0.3)) r.add_preferred_training(Pick(kTraining));
    if (Chance(0.4)) r.set_min_dbs_level(static_cast<v1::DbsLevel>(Uniform(1, 5)));
    if (Chance(0.3)) r.set_dbs_max_age_months(Uniform(1, 60));
    if (Chance(0.3)) r.set_min_register_level(Uniform(0, 4));
    r.set_requires_driver(Chance(0.1));
    r.set_requires_car(Chance(0.1));
    r.set_has_pets(Chance(0.1));
    r.set_requires_non_smoker(Chance(0.1));
    r.set_short_notice(Chance(0.1));
    if (Chance(0.1)) r.add_required_languages(Pick(kLanguages));
    if (Chance(0.3)) r.add_preferred_languages(Pick(kLanguages));
    if (Chance(0.3)) r.add_preferred_genders(static_cast<v1::Gender>(Uniform(1, 4)));
    if (Chance(0.2)) r.add_preferred_age_bands(static_cast<v1::AgeBand>(Uniform(1, 6)));
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
      interval->set_start(absl::StrFormat("%02d:%02d", start / 2, start % 2 * 30));
      interval->set_end(absl::StrFormat("%02d:%02d", end / 2, end % 2 * 30));
    }
    if (r.schedule_size() > 0 && Chance(0.4)) {
      r.set_min_schedule_coverage(Uniform(0, 4) / 4.0);
    }
    if (Chance(0.2)) r.set_max_hourly_rate_pence(Uniform(1000, 1800));
    if (Chance(0.2)) r.add_exclude_ids(absl::StrFormat("pa-%06d", Uniform(0, kProfiles - 1)));
    r.set_as_of(absl::StrFormat("%04d-%02d-%02d", Uniform(2025, 2027), Uniform(1, 12),
                                Uniform(1, 28)));
    r.set_page_size(Uniform(1, 40));
    if (Chance(0.2)) r.mutable_weights()->set_distance(Real(0, 2));
    if (Chance(0.1)) r.mutable_weights()->set_trust(0);
    return r;
  }

 private:
  std::mt19937_64 rng_;
};

// The two responses, field by field, with a readable failure.
void ExpectSameResponse(const v1::SearchResponse& index,
                        const v1::SearchResponse& reference,
                        const std::string& where) {
  ASSERT_EQ(index.total_matches(), reference.total_matches()) << where;
  ASSERT_EQ(index.results_size(), reference.results_size()) << where;
  for (int i = 0; i < index.results_size(); ++i) {
    const auto& a = index.results(i);
    const auto& b = reference.results(i);
    ASSERT_EQ(a.id(), b.id()) << where << " position " << i;
    ASSERT_EQ(a.score(), b.score()) << where << " position " << i;
    ASSERT_EQ(a.distance_km(), b.distance_km()) << where << " position " << i;
  }
  ASSERT_EQ(index.next_page_token(), reference.next_page_token()) << where;
  ASSERT_EQ(index.applied_policy(), reference.applied_policy()) << where;
}

void Churn(Engine& engine, RandomRequests& random, uint64_t seed, int round,
           absl::Time now) {
  std::vector<v1::Profile> changed;
  for (int i = 0; i < 400; ++i) {
    const int index = random.Uniform(0, kProfiles - 1);
    // A different data set's profile under the same id: new skills,
    // location, checks, everything.
    v1::Profile p =
        demo::GenerateDemoProfile(seed + round + 1, index, now, "pa-");
    p.set_version(0);
    changed.push_back(p);
  }
  for (const auto& result : engine.BulkUpsert(changed)) ASSERT_TRUE(result.ok());
  for (int i = 0; i < 200; ++i) {
    const std::string id = absl::StrFormat("pa-%06d", random.Uniform(0, kProfiles - 1));
    const absl::Status status = engine.DeleteProfile(id);
    ASSERT_TRUE(status.ok() || absl::IsNotFound(status)) << status;
  }
  std::vector<v1::Profile> back;  // some deleted ids return
  for (int i = 0; i < 100; ++i) {
    v1::Profile p = demo::GenerateDemoProfile(
        seed, random.Uniform(0, kProfiles - 1), now, "pa-");
    p.set_version(0);
    back.push_back(p);
  }
  for (const auto& result : engine.BulkUpsert(back)) ASSERT_TRUE(result.ok());
}

// The parameter: a fixed seed, or nullopt for the random case.
class IndexDifferentialTest
    : public ::testing::TestWithParam<std::optional<uint64_t>> {};

TEST_P(IndexDifferentialTest, IndexAgreesWithReferenceScanUnderChurn) {
  const uint64_t seed = GetParam().has_value() ? *GetParam() : RandomSeed();
  // First, so that even a crash leaves the seed in the log.
  std::printf(
      "seed %llu (replay: PA_MATCH_TEST_SEED=%llu, "
      "--gtest_filter='*/random')\n",
      static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(absl::StrCat("seed ", seed,
                            " (replay with PA_MATCH_TEST_SEED=", seed, ")"));
  testing::TempDir dir;
  auto engine = testing::OpenEngine(dir.path(), /*sync=*/false);
  ASSERT_NE(engine, nullptr);
  const absl::Time now = testing::SomeNow();
  for (int start = 0; start < kProfiles; start += 5000) {
    std::vector<v1::Profile> batch;
    for (int i = start; i < std::min(kProfiles, start + 5000); ++i) {
      batch.push_back(demo::GenerateDemoProfile(seed, i, now, "pa-"));
    }
    for (const auto& result : engine->BulkUpsert(batch)) ASSERT_TRUE(result.ok());
  }
  v1::Policy policy;
  policy.set_local_authority("E06000057");
  policy.set_min_dbs_level(v1::DBS_STANDARD);
  policy.add_required_training("first_aid");
  ASSERT_TRUE(engine->SetPolicy(policy, now).ok());

  RandomRequests random(seed);
  // Audiences (a caller limited to some authorities): their own generator,
  // so that the requests of a seed stay what they were before audiences.
  RandomRequests audiences(seed ^ 0xa0d1e1ce);
  static constexpr const char* kAuthorities[] = {
      "E06000047", "E06000005", "E08000037", "E06000001", "E06000002",
      "E08000021", "E08000022", "E06000057", "E06000003", "E08000023",
      "E06000004", "E08000024"};
  int64_t compared_pages = 0, matches = 0, audience_matches = 0;
  const int per_round = kRequests / kChurnRounds;
  for (int round = 0; round < kChurnRounds; ++round) {
    if (round == kChurnRounds / 2) {
      // Halfway, restart: the index is rebuilt by BulkLoad (documents in
      // geographic order), then churned further by single upserts.
      engine.reset();
      engine = testing::OpenEngine(dir.path(), /*sync=*/false);
      ASSERT_NE(engine, nullptr);
    }
    for (int n = 0; n < per_round; ++n) {
      v1::SearchRequest request = random.Next();
      const int pages = random.Chance(0.25) ? 3 : 1;
      std::vector<std::string> audience;
      if (audiences.Chance(0.3)) {
        for (int i = audiences.Uniform(1, 3); i > 0; --i) {
          audience.push_back(audiences.Pick(kAuthorities));
        }
        std::sort(audience.begin(), audience.end());
      }
      for (int page = 0; page < pages; ++page) {
        auto index = engine->Search(request, now, audience);
        auto reference = engine->ReferenceSearch(request, now, audience);
        ASSERT_TRUE(index.ok()) << index.status();
        ASSERT_TRUE(reference.ok()) << reference.status();
        ExpectSameResponse(*index, *reference,
                           absl::StrCat("round ", round, " request ", n, " page ",
                                        page, ": ", request.ShortDebugString()));
        ++compared_pages;
        matches += index->total_matches();
        if (!audience.empty()) {
          audience_matches += index->total_matches();
          for (const auto& result : index->results()) {
            auto stored = engine->GetProfile(result.id());
            ASSERT_TRUE(stored.ok()) << stored.status();
            EXPECT_TRUE(std::binary_search(audience.begin(), audience.end(),
                                           stored->profile().local_authority()))
                << result.id() << " of "
                << stored->profile().local_authority() << " seen by "
                << absl::StrJoin(audience, ",");
          }
        }
        if (index->next_page_token().empty()) break;
        request.set_page_token(index->next_page_token());
      }
    }
    Churn(*engine, random, seed, round, now);
  }
  EXPECT_GT(matches, 0) << "the random requests should match something";
  EXPECT_GT(audience_matches, 0) << "limited searches should match something";
  std::printf("seed %llu: %lld pages compared, %lld matches in all\n",
              static_cast<unsigned long long>(seed),
              static_cast<long long>(compared_pages), static_cast<long long>(matches));
}

// The fixed seeds, then the random case; the names (seed_N, random) are
// what ctest lists, so they must not depend on the random seed.
std::vector<std::optional<uint64_t>> Seeds() {
  std::vector<std::optional<uint64_t>> seeds(std::begin(kFixedSeeds),
                                             std::end(kFixedSeeds));
  seeds.push_back(std::nullopt);
  return seeds;
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, IndexDifferentialTest, ::testing::ValuesIn(Seeds()),
    [](const ::testing::TestParamInfo<std::optional<uint64_t>>& info) {
      return info.param.has_value() ? absl::StrCat("seed_", *info.param)
                                    : std::string("random");
    });

}  // namespace
}  // namespace pamatch
