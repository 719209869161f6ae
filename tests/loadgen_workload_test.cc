// The load generator's operation choice (bench/loadgen/workload.h): query
// weights, the write fraction, and the bookkeeping that keeps writes to one
// id from racing.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/loadgen/workload.h"
#include "bench/query_mix.h"
#include "gtest/gtest.h"

namespace pamatch::loadgen {
namespace {

WorkloadOptions Options(std::vector<double> weights, double write_fraction,
                        double delete_fraction) {
  WorkloadOptions options;
  options.query_weights = std::move(weights);
  options.write_fraction = write_fraction;
  options.delete_fraction = delete_fraction;
  options.id_prefix = "t-";
  options.now =
      absl::FromCivil(absl::CivilDay(2026, 6, 15), absl::UTCTimeZone());
  return options;
}

TEST(LoadgenWorkloadTest, ParsesQueryWeights) {
  auto all = ParseQueryWeights("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, std::vector<double>(5, 1.0));
  auto some = ParseQueryWeights("narrow=3,broad");
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(*some, (std::vector<double>{0, 1, 0, 3, 0}));
  EXPECT_FALSE(ParseQueryWeights("nowhere=1").ok());
  EXPECT_FALSE(ParseQueryWeights("narrow=-1").ok());
  EXPECT_FALSE(ParseQueryWeights("narrow=x").ok());
  EXPECT_FALSE(ParseQueryWeights("narrow=0").ok());  // nothing left to send
}

TEST(LoadgenWorkloadTest, SearchPhasesFollowTheWeightsAndNeverWrite) {
  Workload workload(Options({0, 0, 0, 1, 3}, /*write_fraction=*/1, 0));
  int narrow = 0, short_notice = 0;
  std::set<uint64_t> variants;
  for (int i = 0; i < 4000; ++i) {
    PlannedOp op = workload.Next(PhaseWorkload::kSearch);
    ASSERT_TRUE(IsSearchOp(op.op)) << op.op;
    (OpNames()[op.op] == "narrow" ? narrow : short_notice)++;
    variants.insert(op.variant);
  }
  EXPECT_EQ(narrow + short_notice, 4000);
  EXPECT_NEAR(narrow, 1000, 150);
  EXPECT_EQ(variants.size(), 4000u);  // a new request each call
  EXPECT_EQ(workload.Next(PhaseWorkload::kHealth).op, HealthOp());
}

TEST(LoadgenWorkloadTest, WritesCheckIdsOutSoTheyNeverRace) {
  Workload workload(Options({1, 1, 1, 1, 1}, /*write_fraction=*/1,
                            /*delete_fraction=*/0.5));
  // Nothing created yet: every write is an upsert of a new id.
  PlannedOp first = workload.Next(PhaseWorkload::kMixed);
  PlannedOp second = workload.Next(PhaseWorkload::kMixed);
  ASSERT_EQ(first.op, UpsertOp());
  ASSERT_EQ(second.op, UpsertOp());
  EXPECT_NE(first.index, second.index);
  v1::UpsertProfileRequest request = workload.UpsertRequestFor(first);
  EXPECT_EQ(request.profile().id(), workload.IdOf(first.index));
  EXPECT_EQ(request.profile().version(), first.version);
  EXPECT_EQ(request.profile().id().rfind("t-", 0), 0u);

  workload.Finish(first, /*ok=*/true);
  workload.Finish(second, /*ok=*/false);  // never stored: not live
  EXPECT_EQ(workload.Tally().live_ids, 1);
  // The live id is checked out by the next write that picks it: while in
  // flight no other write gets it, and a re-upsert bumps its version.
  std::vector<PlannedOp> in_flight;
  for (int i = 0; i < 50; ++i) {
    in_flight.push_back(workload.Next(PhaseWorkload::kMixed));
  }
  int touching_first = 0;
  for (const PlannedOp& op : in_flight) {
    if (op.index != first.index) continue;
    ++touching_first;
    if (op.op == UpsertOp()) {
      EXPECT_EQ(op.version, first.version + 1);
    }
  }
  EXPECT_EQ(touching_first, 1);
  int created = 1;  // `first`
  auto finish = [&](const PlannedOp& op) {
    // New ids carry the run's base version; re-upserts a higher one.
    if (op.op == UpsertOp() && op.version == first.version) ++created;
    workload.Finish(op, true);
  };
  for (const PlannedOp& op : in_flight) finish(op);
  // One at a time, as a slow client would: deletes now find idle ids.
  for (int i = 0; i < 200; ++i) finish(workload.Next(PhaseWorkload::kMixed));
  Workload::WriteTally tally = workload.Tally();
  EXPECT_EQ(tally.upserts_ok + tally.deletes_ok, 251);
  EXPECT_GT(tally.deletes_ok, 0);
  EXPECT_EQ(tally.live_ids, created - tally.deletes_ok);
  EXPECT_FALSE(tally.sample_deleted_id.empty());
  EXPECT_FALSE(tally.sample_live_id.empty());
}

TEST(LoadgenWorkloadTest, ParsesPhaseNamesAndAuthorities) {
  for (const char* name :
       {"health", "search", "mixed", "match_jobs", "jobs", "writes", "watch"}) {
    const std::optional<PhaseWorkload> workload = ParsePhaseWorkload(name);
    ASSERT_TRUE(workload.has_value()) << name;
    EXPECT_EQ(PhaseWorkloadName(*workload), name);
  }
  EXPECT_FALSE(ParsePhaseWorkload("matchjobs").has_value());
  EXPECT_FALSE(ParsePhaseWorkload("").has_value());
  EXPECT_TRUE(SendsMatchJobs(PhaseWorkload::kMatchJobs));
  EXPECT_TRUE(SendsMatchJobs(PhaseWorkload::kJobs));
  EXPECT_FALSE(SendsMatchJobs(PhaseWorkload::kWatch));

  auto codes = ParseAuthorities("E08000021,E06000057,");
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ(*codes, (std::vector<std::string>{"E08000021", "E06000057"}));
  EXPECT_FALSE(ParseAuthorities("").ok());
  EXPECT_FALSE(ParseAuthorities("E0800002").ok());    // 7 digits
  EXPECT_FALSE(ParseAuthorities("e08000021").ok());   // not a capital
  EXPECT_FALSE(ParseAuthorities("E08000021,Newcastle").ok());
  EXPECT_EQ(NorthEastAuthorities().size(), 12u);
  for (const std::string& code : NorthEastAuthorities()) {
    EXPECT_TRUE(ParseAuthorities(code).ok()) << code;
  }
}

TEST(LoadgenWorkloadTest, OperationsHaveDistinctNamesAndKinds) {
  std::set<std::string> names(OpNames().begin(), OpNames().end());
  EXPECT_EQ(names.size(), OpNames().size());
  EXPECT_EQ(OpNames()[MatchJobsOp()], "match_jobs");
  EXPECT_EQ(OpNames()[JobUpsertOp()], "job_upsert");
  EXPECT_EQ(OpNames()[JobDeleteOp()], "job_delete");
  EXPECT_EQ(OpNames()[UpsertOp()], "upsert");
  EXPECT_EQ(OpNames()[HealthOp()], "health");
  for (int op = 0; op < OpCount(); ++op) {
    const int kinds = (IsSearchOp(op) ? 1 : 0) + (IsProfileWriteOp(op) ? 1 : 0) +
                      (IsJobWriteOp(op) ? 1 : 0) +
                      (op == MatchJobsOp() || op == HealthOp() ? 1 : 0);
    EXPECT_EQ(kinds, 1) << OpNames()[op];
  }
  EXPECT_TRUE(IsPrimaryOp(PhaseWorkload::kJobs, MatchJobsOp()));
  EXPECT_FALSE(IsPrimaryOp(PhaseWorkload::kJobs, JobUpsertOp()));
  EXPECT_TRUE(IsPrimaryOp(PhaseWorkload::kWatch, DeleteOp()));
  EXPECT_FALSE(IsPrimaryOp(PhaseWorkload::kSearch, MatchJobsOp()));
}

TEST(LoadgenWorkloadTest, MatchJobsPhasesAskAboutStoredPas) {
  WorkloadOptions options = Options({1, 1, 1, 1, 1}, 0, 0);
  options.pa_prefix = "pa-";
  options.pa_count = 50;
  Workload workload(options);
  std::set<int64_t> asked;
  for (int i = 0; i < 2000; ++i) {
    const PlannedOp op = workload.Next(PhaseWorkload::kMatchJobs);
    ASSERT_EQ(op.op, MatchJobsOp());
    ASSERT_GE(op.index, 0);
    ASSERT_LT(op.index, 50);
    asked.insert(op.index);
  }
  EXPECT_EQ(asked.size(), 50u);  // every PA, uniformly
  const v1::MatchJobsRequest request =
      workload.MatchJobsRequestFor(workload.Next(PhaseWorkload::kMatchJobs));
  EXPECT_EQ(request.profile_id().rfind("pa-", 0), 0u);
  EXPECT_EQ(request.profile_id().size(), 9u);  // pa- + 6 digits
  EXPECT_TRUE(request.as_of().empty());        // today: the alerts day
  EXPECT_EQ(request.page_size(), 20);
}

TEST(LoadgenWorkloadTest, JobsPhasesWriteJobsInTheirOwnPool) {
  WorkloadOptions options = Options({1, 1, 1, 1, 1}, 0, 0.5);
  options.pa_count = 10;
  options.job_write_fraction = 0.25;
  options.job_id_prefix = "tj-";
  Workload workload(options);
  int match_jobs = 0, job_writes = 0;
  std::set<int64_t> in_flight;
  std::vector<PlannedOp> writes;
  for (int i = 0; i < 4000; ++i) {
    const PlannedOp op = workload.Next(PhaseWorkload::kJobs);
    if (op.op == MatchJobsOp()) {
      ++match_jobs;
      continue;
    }
    ASSERT_TRUE(IsJobWriteOp(op.op)) << OpNames()[op.op];
    ++job_writes;
    // Never two writes of one job in flight.
    ASSERT_TRUE(in_flight.insert(op.index).second) << op.index;
    if (op.op == JobUpsertOp()) {
      const v1::UpsertJobRequest request = workload.JobUpsertRequestFor(op);
      EXPECT_EQ(request.job().id(), workload.JobIdOf(op.index));
      EXPECT_EQ(request.job().version(), op.version);
      EXPECT_EQ(request.job().status(), v1::OPEN);
      EXPECT_TRUE(request.job().request().has_location());
    }
    // Finished at once, as a fast server would.
    workload.Finish(op, true);
    in_flight.erase(op.index);
  }
  EXPECT_NEAR(job_writes, 1000, 150);
  EXPECT_EQ(match_jobs + job_writes, 4000);
  const Workload::WriteTally tally = workload.Tally();
  EXPECT_EQ(tally.job_upserts_ok + tally.job_deletes_ok, job_writes);
  EXPECT_GT(tally.job_deletes_ok, 0);
  EXPECT_EQ(tally.upserts_ok + tally.deletes_ok, 0);  // no profile writes
}

TEST(LoadgenWorkloadTest, WritesAndWatchPhasesOnlyWriteProfiles) {
  Workload workload(Options({1, 1, 1, 1, 1}, /*write_fraction=*/0, 0.2));
  for (PhaseWorkload phase : {PhaseWorkload::kWrites, PhaseWorkload::kWatch}) {
    for (int i = 0; i < 500; ++i) {
      const PlannedOp op = workload.Next(phase);
      ASSERT_TRUE(IsProfileWriteOp(op.op)) << OpNames()[op.op];
      workload.Finish(op, true);
    }
  }
  const Workload::WriteTally tally = workload.Tally();
  EXPECT_EQ(tally.upserts_ok + tally.deletes_ok, 1000);
  EXPECT_GT(tally.deletes_ok, 0);
  EXPECT_EQ(tally.job_upserts_ok, 0);
}

}  // namespace
}  // namespace pamatch::loadgen
