// Market::Prepare (engine/market.h): a profile write's pairs are found on
// the writer's thread, and the commit thread uses them only if nothing
// they depend on moved in between: the job index (a job write), the
// alerts day, or the stored profile the write replaces. Each case here
// prepares a write, moves one of those, and holds the events the commit
// thread stages to what the data then implies, with the counters saying
// which path found them. Real Store in a temp dir, real indexes.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/commit_queue.h"
#include "engine/dates.h"
#include "engine/job.h"
#include "engine/live_index.h"
#include "engine/market.h"
#include "engine/policies.h"
#include "engine/storage.h"
#include "engine/taxonomy.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::kNewcastleLat;
using ::pamatch::testing::kNewcastleLon;
using ::pamatch::testing::TaxonomyPath;
using ::pamatch::testing::TempDir;

const absl::Time kNoon = absl::FromCivil(
    absl::CivilSecond(2026, 6, 15, 12, 0, 0), absl::UTCTimeZone());

class AlertsPrepareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.sync = false;
    options.create_if_missing = true;
    auto store = Store::Open(dir_.path() + "/db", options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    live_ = std::make_unique<LiveIndex>(taxonomy_);
    policies_ = std::make_unique<PolicyStore>(taxonomy_, store_.get());
    market_ = std::make_unique<Market>(taxonomy_, store_.get(), live_.get(),
                                       policies_.get(), MarketOptions{});
    ASSERT_TRUE(market_->Load(kNoon).ok());
  }

  // Posts an open job near the PAs of BaseProfile.
  void PostJob(const std::string& id) {
    v1::Job job;
    job.set_id(id);
    job.set_version(1);
    v1::SearchRequest* r = job.mutable_request();
    r->mutable_location()->set_lat(kNewcastleLat + 0.01);
    r->mutable_location()->set_lon(kNewcastleLon);
    r->set_local_authority("E08000021");
    absl::StatusOr<CompiledJob> compiled =
        CompileJob(taxonomy_, job, nullptr, market_->day());
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    std::vector<JobWrite> writes(1);
    writes[0].compiled = *std::move(compiled);
    const auto results = market_->CommitJobs(std::move(writes));
    ASSERT_TRUE(results[0].status.ok()) << results[0].status;
  }

  CompiledProfile Compiled(const v1::Profile& profile) {
    absl::StatusOr<CompiledProfile> compiled =
        CompileProfile(taxonomy_, profile);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    return compiled.ok() ? *std::move(compiled) : CompiledProfile{};
  }

  // Stores `profile` in the profile index, as a committed round would.
  void Keep(const CompiledProfile& profile) {
    WriterLock lock(&live_->mu());
    live_->mutable_index().Put(std::make_shared<const CompiledProfile>(profile));
  }

  // What the commit thread stages for one write from `before` (as stored
  // now) to `after`, given `prepared`; the batch is then dropped.
  std::vector<v1::WatchEvent> Staged(const CompiledProfile* after,
                                     const CommitHookPrepared* prepared) {
    ProfileIndex::ProfilePtr before;
    {
      ReaderLock lock(&live_->mu());
      before = live_->index().Share(after->id);
    }
    Store::Extras extras;
    std::vector<int64_t> positions(1);
    market_->BeforeWrite({{before.get(), after, prepared}}, &extras,
                         &positions);
    market_->AfterWrite(false);
    std::vector<v1::WatchEvent> events;
    for (const auto& [sequence, value] : extras.events) {
      events.emplace_back();
      EXPECT_TRUE(events.back().ParseFromString(value));
    }
    return events;
  }

  // A profile round as the commit queue runs it: the hook before the
  // batch, the index, the hook after (the batch itself is left out).
  void CommitProfile(const CompiledProfile* after, const std::string& id) {
    ProfileIndex::ProfilePtr before;
    {
      ReaderLock lock(&live_->mu());
      before = live_->index().Share(id);
    }
    Store::Extras extras;
    std::vector<int64_t> positions(1);
    market_->BeforeWrite({{before.get(), after, nullptr}}, &extras,
                         &positions);
    {
      WriterLock lock(&live_->mu());
      if (after != nullptr) {
        live_->mutable_index().Put(
            std::make_shared<const CompiledProfile>(*after));
      } else {
        live_->mutable_index().Erase(id);
      }
    }
    market_->AfterWrite(true);
  }

  // A job write of `job`, prepared now and committed by Commit().
  std::vector<JobWrite> PreparedJobWrite(const v1::Job& job) {
    absl::StatusOr<CompiledJob> compiled =
        CompileJob(taxonomy_, job, nullptr, market_->day());
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    std::vector<JobWrite> writes(1);
    writes[0].compiled = *std::move(compiled);
    market_->PrepareJobs(&writes);
    EXPECT_NE(writes[0].prepared, nullptr);
    return writes;
  }

  // Commits `writes`; the events they caused, as "+pa" / "-pa".
  std::vector<std::string> Commit(std::vector<JobWrite> writes) {
    const int64_t last = market_->EventRange().second;
    for (const auto& result : market_->CommitJobs(std::move(writes))) {
      EXPECT_TRUE(result.status.ok()) << result.status;
    }
    v1::WatchRequest request;
    request.mutable_local_authorities()->add_codes("E08000021");
    request.set_after_sequence(last);
    auto cursor = market_->StartWatch(request);
    EXPECT_TRUE(cursor.ok()) << cursor.status();
    auto events = market_->ReadEvents(&*cursor, 1000);
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<std::string> out;
    for (const v1::WatchEvent& event : *events) {
      out.push_back(absl::StrCat(
          event.kind() == v1::WatchEvent::MATCH_STARTED ? "+" : "-",
          event.profile_id()));
    }
    return out;
  }

  static v1::Job NearJob(const std::string& id) {
    v1::Job job;
    job.set_id(id);
    job.set_version(1);
    v1::SearchRequest* r = job.mutable_request();
    r->mutable_location()->set_lat(kNewcastleLat + 0.01);
    r->mutable_location()->set_lon(kNewcastleLon);
    r->set_local_authority("E08000021");
    return job;
  }

  static std::vector<std::string> Jobs(const std::vector<v1::WatchEvent>& e) {
    std::vector<std::string> out;
    for (const v1::WatchEvent& event : e) {
      out.push_back(absl::StrCat(
          event.kind() == v1::WatchEvent::MATCH_STARTED ? "+" : "-",
          event.job_id()));
    }
    return out;
  }

  TempDir dir_;
  const Taxonomy taxonomy_ = Taxonomy::Load(TaxonomyPath()).value();
  std::unique_ptr<pamatch::Store> store_;
  std::unique_ptr<LiveIndex> live_;
  std::unique_ptr<PolicyStore> policies_;
  std::unique_ptr<Market> market_;
};

TEST_F(AlertsPrepareTest, PreparedPairsAreUsedWhenNothingMoved) {
  PostJob("job-a");
  const CompiledProfile pa = Compiled(BaseProfile("pa-1"));
  auto prepared = market_->Prepare(&pa, pa.id);
  ASSERT_NE(prepared, nullptr);
  EXPECT_EQ(Jobs(Staged(&pa, prepared.get())),
            (std::vector<std::string>{"+job-a"}));
  EXPECT_EQ(market_->diff_counters().prepared_used, 1);
  EXPECT_EQ(market_->diff_counters().found_on_commit, 0);
}

TEST_F(AlertsPrepareTest, AJobWrittenMeanwhileIsNotMissed) {
  PostJob("job-a");
  const CompiledProfile pa = Compiled(BaseProfile("pa-1"));
  auto prepared = market_->Prepare(&pa, pa.id);
  ASSERT_NE(prepared, nullptr);
  PostJob("job-b");  // after the writer's diff, before the commit
  EXPECT_EQ(Jobs(Staged(&pa, prepared.get())),
            (std::vector<std::string>{"+job-a", "+job-b"}));
  EXPECT_EQ(market_->diff_counters().prepared_used, 0);
  EXPECT_EQ(market_->diff_counters().found_on_commit, 1);
}

TEST_F(AlertsPrepareTest, AnotherWriteOfTheProfileMeanwhileIsNotMissed) {
  PostJob("job-a");
  // Prepared as a creation; meanwhile the PA is stored, matching job-a.
  const CompiledProfile pa = Compiled(BaseProfile("pa-1"));
  auto prepared = market_->Prepare(&pa, pa.id);
  ASSERT_NE(prepared, nullptr);
  Keep(pa);
  // The same profile again: nothing turns (the prepared diff said +job-a).
  EXPECT_TRUE(Staged(&pa, prepared.get()).empty());
  EXPECT_EQ(market_->diff_counters().found_on_commit, 1);
  // Prepared against that stored PA (a move out of reach: -job-a), then
  // another write moves the PA out of reach first: nothing is left to end.
  v1::Profile far = BaseProfile("pa-1");
  far.mutable_location()->set_lat(kNewcastleLat + 3);
  const CompiledProfile moved = Compiled(far);
  prepared = market_->Prepare(&moved, moved.id);
  ASSERT_NE(prepared, nullptr);
  Keep(moved);
  EXPECT_TRUE(Staged(&moved, prepared.get()).empty());
  EXPECT_EQ(market_->diff_counters().found_on_commit, 2);
  EXPECT_EQ(market_->diff_counters().prepared_used, 0);
}

TEST_F(AlertsPrepareTest, ANewAlertsDayMeanwhileIsNotMissed) {
  // A job open until the alerts day only: the next day it has closed.
  v1::Job job;
  job.set_id("job-closing");
  job.set_version(1);
  job.mutable_request()->mutable_location()->set_lat(kNewcastleLat);
  job.mutable_request()->mutable_location()->set_lon(kNewcastleLon);
  job.mutable_request()->set_local_authority("E08000021");
  job.set_closes_on(FormatDate(market_->day()));
  absl::StatusOr<CompiledJob> compiled =
      CompileJob(taxonomy_, job, nullptr, market_->day());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  std::vector<JobWrite> writes(1);
  writes[0].compiled = *std::move(compiled);
  ASSERT_TRUE(market_->CommitJobs(std::move(writes))[0].status.ok());
  const CompiledProfile pa = Compiled(BaseProfile("pa-1"));
  auto prepared = market_->Prepare(&pa, pa.id);
  ASSERT_NE(prepared, nullptr);
  ASSERT_TRUE(market_->AdvanceDay(market_->day() + 1).ok());
  EXPECT_TRUE(Staged(&pa, prepared.get()).empty());
  EXPECT_EQ(market_->diff_counters().found_on_commit, 1);
}

TEST_F(AlertsPrepareTest, AJobWritesPreparedPairsStandForPasNotWrittenSince) {
  const CompiledProfile one = Compiled(BaseProfile("pa-1"));
  const CompiledProfile two = Compiled(BaseProfile("pa-2"));
  CommitProfile(&one, one.id);
  CommitProfile(&two, two.id);
  std::vector<JobWrite> writes = PreparedJobWrite(NearJob("job-a"));
  EXPECT_EQ(Commit(std::move(writes)),
            (std::vector<std::string>{"+pa-1", "+pa-2"}));
  EXPECT_EQ(market_->diff_counters().jobs_prepared_used, 1);
  EXPECT_EQ(market_->diff_counters().pas_judged_again, 0);
}

TEST_F(AlertsPrepareTest, PasWrittenAfterAJobWriteWasPreparedAreJudgedAgain) {
  const CompiledProfile one = Compiled(BaseProfile("pa-1"));
  const CompiledProfile two = Compiled(BaseProfile("pa-2"));
  CommitProfile(&one, one.id);
  CommitProfile(&two, two.id);
  std::vector<JobWrite> writes = PreparedJobWrite(NearJob("job-a"));
  // Meanwhile: pa-1 moves out of reach, pa-2 is deleted, pa-3 joins.
  v1::Profile far = BaseProfile("pa-1");
  far.mutable_location()->set_lat(kNewcastleLat + 3);
  const CompiledProfile moved = Compiled(far);
  CommitProfile(&moved, moved.id);
  CommitProfile(nullptr, "pa-2");
  const CompiledProfile three = Compiled(BaseProfile("pa-3"));
  CommitProfile(&three, three.id);
  EXPECT_EQ(Commit(std::move(writes)), (std::vector<std::string>{"+pa-3"}));
  EXPECT_EQ(market_->diff_counters().jobs_prepared_used, 1);
  EXPECT_EQ(market_->diff_counters().pas_judged_again, 3);
  // Deleting the job: prepared (it ends pa-3), then pa-1 comes back
  // within reach meanwhile, so it ends pa-1 too.
  std::vector<JobWrite> remove(1);
  remove[0].id = "job-a";
  market_->PrepareJobs(&remove);
  ASSERT_NE(remove[0].prepared, nullptr);
  CommitProfile(&one, one.id);
  EXPECT_EQ(Commit(std::move(remove)),
            (std::vector<std::string>{"-pa-1", "-pa-3"}));
  EXPECT_EQ(market_->diff_counters().jobs_prepared_used, 2);
}

TEST_F(AlertsPrepareTest, APolicyOrAJobVersionMeanwhileMakesTheCommitFindThem) {
  const CompiledProfile one = Compiled(BaseProfile("pa-1"));
  CommitProfile(&one, one.id);
  std::vector<JobWrite> writes = PreparedJobWrite(NearJob("job-a"));
  // A policy no PA of BaseProfile meets, set after the job was prepared.
  v1::Policy policy;
  policy.set_local_authority("E08000021");
  policy.set_min_register_level(4);
  ASSERT_TRUE(market_->CommitPolicy(policy, false).ok());
  EXPECT_TRUE(Commit(std::move(writes)).empty());
  EXPECT_EQ(market_->diff_counters().jobs_found_on_commit, 1);
  ASSERT_TRUE(market_->CommitPolicy(policy, true).ok());  // removed
  // Two writes of one job prepared against the same stored job: the
  // first lands, so the second's "before" is not the one it was found
  // against.
  v1::Job job = NearJob("job-b");
  std::vector<JobWrite> first = PreparedJobWrite(job);
  job.set_version(2);
  job.mutable_request()->mutable_location()->set_lat(kNewcastleLat + 3);
  std::vector<JobWrite> second = PreparedJobWrite(job);
  EXPECT_EQ(Commit(std::move(first)), (std::vector<std::string>{"+pa-1"}));
  EXPECT_EQ(Commit(std::move(second)), (std::vector<std::string>{"-pa-1"}));
  EXPECT_EQ(market_->diff_counters().jobs_found_on_commit, 2);
}

// EncodeEvents writes the wire format by hand: byte for byte what the
// generated code writes, for every field's edge (zeros left out, long
// strings, sub-second times, sequences past one varint byte).
TEST(EncodeEventsTest, WritesExactlyWhatProtobufWrites) {
  const std::string long_id(200, 'x');
  const std::vector<PairChange> changes = {
      {true, "job-1", "pa-1", "E08000021", 0.8125},
      {false, "job-2", "pa-1", "", 0},
      {true, long_id, long_id, long_id, 1e-300},
      {true, "j", "p", "E06000047", 0},
  };
  for (const absl::Time time :
       {kNoon, kNoon + absl::Nanoseconds(123456789), absl::UnixEpoch()}) {
    for (const int64_t position : {int64_t{0}, int64_t{1}, int64_t{1} << 40}) {
      for (int64_t first : {int64_t{0}, int64_t{126}, int64_t{1} << 35}) {
        std::vector<std::pair<int64_t, std::string>> encoded;
        int64_t sequence = first;
        EncodeEvents(changes, "profile_upsert", position, time, DayOf(kNoon),
                     &sequence, &encoded);
        ASSERT_EQ(encoded.size(), changes.size());
        EXPECT_EQ(sequence, first + static_cast<int64_t>(changes.size()));
        for (size_t k = 0; k < changes.size(); ++k) {
          v1::WatchEvent event;
          event.set_sequence(first + 1 + static_cast<int64_t>(k));
          event.set_kind(changes[k].started ? v1::WatchEvent::MATCH_STARTED
                                            : v1::WatchEvent::MATCH_ENDED);
          event.set_job_id(changes[k].job_id);
          event.set_profile_id(changes[k].profile_id);
          event.set_score(changes[k].score);
          event.set_position(position);
          event.set_cause("profile_upsert");
          event.set_local_authority(changes[k].local_authority);
          event.set_day(FormatDate(DayOf(kNoon)));
          event.mutable_time()->set_seconds(absl::ToUnixSeconds(time));
          event.mutable_time()->set_nanos(static_cast<int32_t>(
              absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(
                                                  absl::ToUnixSeconds(time)))));
          EXPECT_EQ(encoded[k].first, event.sequence());
          EXPECT_EQ(encoded[k].second, event.SerializeAsString())
              << "change " << k << " position " << position << " first "
              << first;
        }
      }
    }
  }
}

TEST_F(AlertsPrepareTest, NothingIsPreparedWithoutJobsOrAlerts) {
  const CompiledProfile pa = Compiled(BaseProfile("pa-1"));
  EXPECT_EQ(market_->Prepare(&pa, pa.id), nullptr);  // no job yet
  MarketOptions off;
  off.alerts = false;
  Market quiet(taxonomy_, store_.get(), live_.get(), policies_.get(), off);
  PostJob("job-a");
  EXPECT_EQ(quiet.Prepare(&pa, pa.id), nullptr);
}

}  // namespace
}  // namespace pamatch
