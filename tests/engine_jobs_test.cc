// Jobs, MatchJobs and alerts in the engine (issue 20), case by case: each
// test states one rule of MATCHING.md "Jobs" or "Alerts" on hand-made data.
// The random, both-directions checks are in jobs_differential_test.cc.
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::kNewcastleLat;
using ::pamatch::testing::kNewcastleLon;
using ::pamatch::testing::TaxonomyPath;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

absl::Time Noon(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 12, 0, 0),
                         absl::UTCTimeZone());
}

// An engine whose alerts day is 2026-06-15 (no background daily pass).
std::unique_ptr<Engine> OpenAt(const std::string& dir) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = TaxonomyPath();
  options.sync_writes = false;
  options.daily_pass_poll = absl::ZeroDuration();
  options.clock = [] { return Noon(2026, 6, 15); };
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return nullptr;
  EXPECT_TRUE((*engine)->AdvanceAlertsDay(Noon(2026, 6, 15)).ok());
  return *std::move(engine);
}

v1::Job BaseJob(const std::string& id) {
  v1::Job job;
  job.set_id(id);
  job.set_version(1);
  v1::SearchRequest* r = job.mutable_request();
  r->mutable_location()->set_lat(kNewcastleLat + 0.01);
  r->mutable_location()->set_lon(kNewcastleLon);
  r->set_local_authority("E08000021");
  r->add_nice_to_have_skills("shopping");
  return job;
}

v1::MatchJobsRequest JobsOf(const std::string& pa) {
  v1::MatchJobsRequest request;
  request.set_profile_id(pa);
  request.set_as_of("2026-06-15");
  request.set_page_size(100);
  return request;
}

std::vector<std::string> Ids(const v1::MatchJobsResponse& response) {
  std::vector<std::string> ids;
  for (const auto& result : response.results()) ids.push_back(result.job_id());
  return ids;
}

// Every event after `after`, for a Watch of local authority E08000021.
std::vector<v1::WatchEvent> EventsAfter(Engine& engine, int64_t after) {
  v1::WatchRequest request;
  request.mutable_local_authorities()->add_codes("E08000021");
  request.set_after_sequence(after);
  auto cursor = engine.StartWatch(request);
  EXPECT_TRUE(cursor.ok()) << cursor.status();
  if (!cursor.ok()) return {};
  auto events = engine.ReadEvents(&*cursor, 1000);
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *events : std::vector<v1::WatchEvent>{};
}

TEST(EngineJobsTest, JobIsStoredVersionedAndRead) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  auto created = engine->UpsertJob(BaseJob("job-1"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created());
  EXPECT_EQ(created->version(), 1);
  EXPECT_GT(created->position(), 0);
  auto stale = engine->UpsertJob(BaseJob("job-1"));
  EXPECT_TRUE(absl::IsFailedPrecondition(stale.status())) << stale.status();
  v1::Job next = BaseJob("job-1");
  next.set_version(0);
  auto bumped = engine->UpsertJob(next);
  ASSERT_TRUE(bumped.ok());
  EXPECT_EQ(bumped->version(), 2);
  EXPECT_FALSE(bumped->created());
  auto got = engine->GetJob("job-1", Noon(2026, 6, 15));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->job().version(), 2);
  EXPECT_TRUE(got->open());
  EXPECT_EQ(engine->Stats().jobs(), 1);
  ASSERT_TRUE(engine->DeleteJob("job-1").ok());
  EXPECT_TRUE(absl::IsNotFound(engine->GetJob("job-1", Noon(2026, 6, 15)).status()));
  EXPECT_TRUE(absl::IsNotFound(engine->DeleteJob("job-1")));
}

TEST(EngineJobsTest, JobIsValidatedAsASearch) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  v1::Job job = BaseJob("job-1");
  job.mutable_request()->add_must_have_skills("juggling");
  auto bad = engine->UpsertJob(job);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(bad.status().message(), HasSubstr("job.request.must_have_skills"));
  job = BaseJob("job-1");
  job.mutable_request()->set_as_of("2026-01-01");
  bad = engine->UpsertJob(job);
  EXPECT_THAT(bad.status().message(), HasSubstr("job.request.as_of"));
  job = BaseJob("job-1");
  job.set_closes_on("2026-02-30");
  bad = engine->UpsertJob(job);
  EXPECT_THAT(bad.status().message(), HasSubstr("job.closes_on"));
  job = BaseJob("bad id!");
  bad = engine->UpsertJob(job);
  EXPECT_THAT(bad.status().message(), HasSubstr("job.id"));
  EXPECT_EQ(engine->Stats().jobs(), 0);
}

TEST(EngineJobsTest, MatchJobsAgreesWithTheForwardSearch) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  v1::Profile pa = BaseProfile("pa-1");
  pa.add_skills("shopping");
  ASSERT_TRUE(engine->Upsert(pa).ok());
  ASSERT_TRUE(engine->UpsertJob(BaseJob("near")).ok());
  v1::Job far = BaseJob("far");
  far.mutable_request()->mutable_location()->set_lat(kNewcastleLat + 0.5);
  ASSERT_TRUE(engine->UpsertJob(far).ok());  // ~55 km: beyond the PA's 20
  v1::Job skilled = BaseJob("skilled");
  skilled.mutable_request()->add_must_have_skills("hoist_use");
  ASSERT_TRUE(engine->UpsertJob(skilled).ok());
  v1::Job filled = BaseJob("filled");
  filled.set_status(v1::FILLED);
  ASSERT_TRUE(engine->UpsertJob(filled).ok());
  v1::Job closed = BaseJob("closed");
  closed.set_closes_on("2026-06-14");
  ASSERT_TRUE(engine->UpsertJob(closed).ok());
  v1::Job closing = BaseJob("closing-today");
  closing.set_closes_on("2026-06-15");
  ASSERT_TRUE(engine->UpsertJob(closing).ok());

  auto jobs = engine->MatchJobs(JobsOf("pa-1"), Noon(2026, 6, 15));
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_THAT(Ids(*jobs), ::testing::UnorderedElementsAre("near", "closing-today"));
  EXPECT_EQ(jobs->total_matches(), 2);
  // The score is the forward search's score.
  v1::SearchRequest forward = BaseJob("near").request();
  forward.set_as_of("2026-06-15");
  auto search = engine->Search(forward, Noon(2026, 6, 15));
  ASSERT_TRUE(search.ok());
  ASSERT_EQ(search->results_size(), 1);
  EXPECT_EQ(search->results(0).score(), jobs->results(0).score());
  EXPECT_EQ(search->results(0).distance_km(), jobs->results(0).distance_km());
  auto reference = engine->ReferenceMatchJobs(JobsOf("pa-1"), Noon(2026, 6, 15));
  ASSERT_TRUE(reference.ok());
  EXPECT_EQ(reference->DebugString(), jobs->DebugString());
}

TEST(EngineJobsTest, PausedPaStillMatchesJobs) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  v1::Profile pa = BaseProfile("pa-1");
  pa.set_status(v1::PAUSED);
  ASSERT_TRUE(engine->Upsert(pa).ok());
  ASSERT_TRUE(engine->UpsertJob(BaseJob("job-1")).ok());
  auto jobs = engine->MatchJobs(JobsOf("pa-1"), Noon(2026, 6, 15));
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->total_matches(), 1);
  // And the job's post told the PA's watchers, though searches never
  // return the PA.
  auto events = EventsAfter(*engine, 0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::WatchEvent::MATCH_STARTED);
  EXPECT_EQ(events[0].profile_id(), "pa-1");
  EXPECT_EQ(events[0].cause(), "job_upsert");
}

TEST(EngineJobsTest, WritesCauseStartedAndEndedEvents) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  ASSERT_TRUE(engine->UpsertJob(BaseJob("job-1")).ok());
  EXPECT_EQ(engine->LastEventSequence(), 0);
  // A PA joins: the match starts; the event names the write's position.
  auto joined = engine->Upsert(BaseProfile("pa-1"));
  ASSERT_TRUE(joined.ok());
  auto events = EventsAfter(*engine, 0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].position(), joined->position());
  EXPECT_EQ(events[0].kind(), v1::WatchEvent::MATCH_STARTED);
  EXPECT_EQ(events[0].job_id(), "job-1");
  EXPECT_EQ(events[0].profile_id(), "pa-1");
  EXPECT_EQ(events[0].cause(), "profile_upsert");
  EXPECT_GT(events[0].score(), 0);
  // An update that keeps the match: no event.
  v1::Profile same = BaseProfile("pa-1");
  same.set_version(2);
  same.mutable_attributes()->add_interests("music");
  ASSERT_TRUE(engine->Upsert(same).ok());
  EXPECT_EQ(engine->LastEventSequence(), 1);
  // A policy the PA fails: the match ends.
  v1::Policy policy;
  policy.set_local_authority("E08000021");
  policy.set_min_register_level(2);
  ASSERT_TRUE(engine->SetPolicy(policy, Noon(2026, 6, 15)).ok());
  events = EventsAfter(*engine, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), v1::WatchEvent::MATCH_ENDED);
  EXPECT_EQ(events[0].cause(), "policy");
  // Policy removed: it starts again; the PA deleted: it ends.
  ASSERT_TRUE(engine->DeletePolicy("E08000021").ok());
  ASSERT_TRUE(engine->DeleteProfile("pa-1").ok());
  events = EventsAfter(*engine, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind(), v1::WatchEvent::MATCH_STARTED);
  EXPECT_EQ(events[1].kind(), v1::WatchEvent::MATCH_ENDED);
  EXPECT_EQ(events[1].cause(), "profile_delete");
}

TEST(EngineJobsTest, DailyPassEndsMatchesTheCalendarEnds) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  v1::Profile pa = BaseProfile("pa-1");
  auto* training = pa.add_training();
  training->set_code("first_aid");
  training->set_expires_on("2026-06-16");
  ASSERT_TRUE(engine->Upsert(pa).ok());
  v1::Job job = BaseJob("needs-first-aid");
  job.mutable_request()->add_required_training("first_aid");
  ASSERT_TRUE(engine->UpsertJob(job).ok());
  v1::Job closing = BaseJob("closes-15th");
  closing.set_closes_on("2026-06-15");
  ASSERT_TRUE(engine->UpsertJob(closing).ok());
  EXPECT_EQ(engine->LastEventSequence(), 2);
  // The 16th: the training still counts (expires_on is its last day), the
  // job closing on the 15th is closed.
  ASSERT_TRUE(engine->AdvanceAlertsDay(Noon(2026, 6, 16)).ok());
  auto events = EventsAfter(*engine, 2);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].job_id(), "closes-15th");
  EXPECT_EQ(events[0].kind(), v1::WatchEvent::MATCH_ENDED);
  EXPECT_EQ(events[0].cause(), "calendar");
  EXPECT_EQ(events[0].day(), "2026-06-16");
  // The 17th: the training has expired.
  ASSERT_TRUE(engine->AdvanceAlertsDay(Noon(2026, 6, 17)).ok());
  events = EventsAfter(*engine, 3);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].job_id(), "needs-first-aid");
  EXPECT_EQ(engine->Stats().alerts_day(), "2026-06-17");
}

TEST(EngineJobsTest, JobsAndEventsSurviveARestart) {
  TempDir dir;
  {
    auto engine = OpenAt(dir.path());
    ASSERT_TRUE(engine->UpsertJob(BaseJob("job-1")).ok());
    ASSERT_TRUE(engine->Upsert(BaseProfile("pa-1")).ok());
  }
  auto engine = OpenAt(dir.path());
  EXPECT_EQ(engine->Stats().jobs(), 1);
  EXPECT_EQ(engine->LastEventSequence(), 1);
  ASSERT_TRUE(engine->Upsert(BaseProfile("pa-2")).ok());
  auto events = EventsAfter(*engine, 0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].sequence(), 2);
  EXPECT_EQ(events[1].profile_id(), "pa-2");
  EXPECT_GT(events[1].position(), events[0].position());
}

TEST(EngineJobsTest, WatchFiltersAndRefusesWhatItCannotServe) {
  TempDir dir;
  auto engine = OpenAt(dir.path());
  ASSERT_TRUE(engine->UpsertJob(BaseJob("job-1")).ok());
  ASSERT_TRUE(engine->UpsertJob(BaseJob("job-2")).ok());
  ASSERT_TRUE(engine->Upsert(BaseProfile("pa-1")).ok());
  v1::WatchRequest request;
  request.set_job_id("job-2");
  request.set_after_sequence(0);
  auto cursor = engine->StartWatch(request);
  ASSERT_TRUE(cursor.ok());
  auto events = engine->ReadEvents(&*cursor, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].job_id(), "job-2");
  EXPECT_EQ(cursor->after, 2);
  request.set_after_sequence(3);
  EXPECT_TRUE(absl::IsInvalidArgument(engine->StartWatch(request).status()));
  v1::WatchRequest none;
  EXPECT_THAT(engine->StartWatch(none).status().message(), HasSubstr("target"));
  v1::WatchRequest unknown;
  unknown.mutable_local_authorities()->add_codes("E99999999");
  EXPECT_THAT(engine->StartWatch(unknown).status().message(),
              HasSubstr("local_authorities.codes[0]"));
}

}  // namespace
}  // namespace pamatch
