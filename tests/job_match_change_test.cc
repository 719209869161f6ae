// ForEachMatchChange (engine/job_matching.h), the one-scan diff a profile
// write's alert events are found with (Market::Prepare and BeforeWrite,
// through ProfileMatchChanges), against the plain way: the difference of
// two ForEachJobMatch calls. On generated
// jobs (bench/job_mix.h; some closed, some needing a language, so judged
// through the code columns, some compiled on another day, so moved to the
// day judged) and generated PAs edited in several ways (moved and
// re-skilled, new hours only, a language learnt, created, deleted), both
// must give the same ended pairs and the same started pairs with the same
// scores and distances.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "bench/job_mix.h"
#include "demo/demo_data.h"
#include "engine/dates.h"
#include "engine/job.h"
#include "engine/job_index.h"
#include "engine/job_matching.h"
#include "engine/profile.h"
#include "engine/taxonomy.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

v1::Profile WithLanguage(v1::Profile p, const std::string& code) {
  for (const std::string& held : p.attributes().languages()) {
    if (held == code) return p;
  }
  p.mutable_attributes()->add_languages(code);
  return p;
}

TEST(JobMatchChangeTest, OneScanFindsWhatTwoScansFind) {
  const Taxonomy taxonomy = Taxonomy::Load(testing::TaxonomyPath()).value();
  const absl::Time now = absl::FromCivil(
      absl::CivilSecond(2026, 6, 15, 12, 0, 0), absl::UTCTimeZone());
  const DayNumber day = DayOf(now);
  JobIndex jobs(taxonomy);
  for (int i = 0; i < 3000; ++i) {
    v1::Job job =
        bench::StandardJob(demo::DemoScenario::kNorthEast, 7, i, now, "j-");
    if (i % 10 == 0) job.set_status(v1::FILLED);
    if (i % 7 == 0) job.mutable_request()->add_required_languages("pl");
    absl::StatusOr<CompiledJob> compiled =
        CompileJob(taxonomy, job, nullptr, i % 5 == 0 ? day - 1 : day);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    jobs.Put(std::make_shared<const CompiledJob>(*std::move(compiled)));
  }

  int edits = 0, started_total = 0, ended_total = 0;
  for (int i = 0; i < 400; ++i) {
    const v1::Profile stored = demo::GenerateDemoProfile(7, i, now, "p-");
    v1::Profile edited;
    switch (i % 3) {
      case 0:  // another PA's everything under the same id: moved too
        edited = demo::GenerateDemoProfile(8, i, now, "p-");
        break;
      case 1:  // new hours only
        edited = stored;
        *edited.mutable_availability() =
            demo::GenerateDemoProfile(9, i, now, "p-").availability();
        break;
      default:  // a language learnt (the jobs needing one)
        edited = WithLanguage(stored, "pl");
        break;
    }
    const absl::StatusOr<CompiledProfile> a = CompileProfile(taxonomy, stored);
    const absl::StatusOr<CompiledProfile> b = CompileProfile(taxonomy, edited);
    ASSERT_TRUE(a.ok() && b.ok());
    const CompiledProfile* before = i % 13 == 0 ? nullptr : &*a;  // created
    const CompiledProfile* after = i % 17 == 0 ? nullptr : &*b;   // deleted
    if (before == nullptr && after == nullptr) continue;
    SCOPED_TRACE(::testing::Message() << "edit " << i);
    ++edits;

    // Two scans, as Market::DiffProfile.
    std::set<std::string> was, ended;
    std::map<std::string, std::pair<double, double>> now_matches, started;
    if (before != nullptr) {
      ForEachJobMatch(jobs, *before, day,
                      [&](const CompiledJob& job, const PairMatch&) {
                        was.insert(job.id);
                      });
    }
    if (after != nullptr) {
      ForEachJobMatch(jobs, *after, day,
                      [&](const CompiledJob& job, const PairMatch& match) {
                        now_matches[job.id] = {match.score, match.distance_km};
                      });
    }
    for (const std::string& id : was) {
      if (now_matches.erase(id) == 0) ended.insert(id);
    }
    started = std::move(now_matches);

    // One scan.
    std::set<std::string> one_ended;
    std::map<std::string, std::pair<double, double>> one_started;
    ForEachMatchChange(
        jobs, before, after, day,
        [&](const CompiledJob& job, bool is_start, const PairMatch* match) {
          if (is_start) {
            ASSERT_NE(match, nullptr);
            EXPECT_TRUE(one_started
                            .emplace(job.id, std::make_pair(match->score,
                                                            match->distance_km))
                            .second)
                << job.id << " started twice";
          } else {
            EXPECT_EQ(match, nullptr);
            EXPECT_TRUE(one_ended.insert(job.id).second)
                << job.id << " ended twice";
          }
        });
    EXPECT_EQ(one_ended, ended);
    EXPECT_EQ(one_started, started);
    started_total += static_cast<int>(started.size());
    ended_total += static_cast<int>(ended.size());
  }
  // The data exercise both kinds of turn.
  EXPECT_GT(edits, 350);
  EXPECT_GT(started_total, 200);
  EXPECT_GT(ended_total, 200);
}

}  // namespace
}  // namespace pamatch
