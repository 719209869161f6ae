// The load generator's operation choice (bench/loadgen/workload.h): query
// weights, the write fraction, and the bookkeeping that keeps writes to one
// id from racing.
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

}  // namespace
}  // namespace pamatch::loadgen
