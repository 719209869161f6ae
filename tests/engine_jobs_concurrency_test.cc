// Jobs and alerts under concurrency, run under ThreadSanitizer in CI
// (label "tsan"): job writers, profile writers, MatchJobs readers and a
// Watch-like reader with a listener, all on one Engine at once. Each job
// writer owns a patch of map with one PA in it, so after each of its
// acknowledged writes it can check MatchJobs and the events exactly.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

constexpr int kWriters = 3;
constexpr int kOpsPerWriter = 60;

absl::Time Noon() {
  return absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                         absl::UTCTimeZone());
}

double PatchLat(int writer) { return 55.0 + 0.1 * writer; }

v1::Profile PatchPa(int writer, int64_t version) {
  v1::Profile p = testing::BaseProfile(absl::StrCat("pa-", writer));
  p.set_version(version);
  p.mutable_location()->set_lat(PatchLat(writer));
  p.mutable_location()->set_lon(-1.6);
  p.set_max_travel_km(2);
  // Odd versions hold the skill the patch's job requires.
  if (version % 2 == 1) p.add_skills("shopping");
  return p;
}

v1::Job PatchJob(int writer, int64_t version, bool open) {
  v1::Job job;
  job.set_id(absl::StrCat("job-", writer));
  job.set_version(version);
  job.set_status(open ? v1::OPEN : v1::FILLED);
  v1::SearchRequest* r = job.mutable_request();
  r->mutable_location()->set_lat(PatchLat(writer));
  r->mutable_location()->set_lon(-1.6);
  r->set_max_distance_km(2);
  r->set_local_authority("E06000057");
  r->add_must_have_skills("shopping");
  return job;
}

TEST(EngineJobsConcurrencyTest, WritersReadersAndWatchers) {
  testing::TempDir dir;
  EngineOptions options;
  options.data_dir = dir.path() + "/db";
  options.taxonomy_path = testing::TaxonomyPath();
  options.sync_writes = false;
  options.daily_pass_poll = absl::ZeroDuration();
  options.clock = [] { return Noon(); };
  auto opened = Engine::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Engine& engine = **opened;

  std::atomic<int64_t> notified{0};
  const int64_t listener = engine.AddEventListener(
      [&notified](int64_t last) { notified.store(last); });
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      int64_t pa_version = 0, job_version = 0;
      for (int op = 0; op < kOpsPerWriter; ++op) {
        const bool job_open = op % 3 != 2;
        const bool job_write = op % 2 == 0;
        if (job_write) {
          if (!engine.UpsertJob(PatchJob(w, ++job_version, job_open)).ok()) {
            ++failures;
          }
        } else if (!engine.Upsert(PatchPa(w, ++pa_version)).ok()) {
          ++failures;
        }
        if (pa_version == 0 || job_version == 0) continue;
        // This patch's own last writes decide the match, whatever the
        // other writers do elsewhere.
        v1::MatchJobsRequest request;
        request.set_profile_id(absl::StrCat("pa-", w));
        request.set_as_of("2026-06-15");
        auto jobs = engine.MatchJobs(request, Noon());
        if (!jobs.ok()) {
          ++failures;
          continue;
        }
        auto job = engine.GetJob(absl::StrCat("job-", w), Noon());
        const bool expect = pa_version % 2 == 1 && job.ok() &&
                            job->job().status() == v1::OPEN;
        if ((jobs->total_matches() == 1) != expect) ++failures;
      }
    });
  }
  // A reader following every event, as Watch does, checking that the
  // sequence is dense and each pair alternates STARTED / ENDED.
  threads.emplace_back([&] {
    v1::WatchRequest request;
    request.mutable_local_authorities()->add_codes("E06000057");
    request.set_after_sequence(0);
    auto cursor = engine.StartWatch(request);
    if (!cursor.ok()) {
      ++failures;
      return;
    }
    std::vector<int> open_pairs(kWriters, 0);
    while (true) {
      const bool last_round = done.load();
      auto events = engine.ReadEvents(&*cursor, 100);
      if (!events.ok()) {
        ++failures;
        return;
      }
      for (const v1::WatchEvent& event : *events) {
        const int w = event.job_id().back() - '0';
        open_pairs[w] += event.kind() == v1::WatchEvent::MATCH_STARTED ? 1 : -1;
        if (open_pairs[w] < 0 || open_pairs[w] > 1) ++failures;
      }
      if (last_round && events->empty()) break;
      if (events->empty()) std::this_thread::yield();
    }
  });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done.store(true);
  threads.back().join();
  engine.RemoveEventListener(listener);
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(notified.load(), engine.LastEventSequence());
  EXPECT_GT(engine.LastEventSequence(), 0);
}

}  // namespace
}  // namespace pamatch
