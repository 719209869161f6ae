// The load generator's cross-phase ratios over several rounds
// (bench/loadgen/report.h): each round's from its own phases, the run's the
// median of the rounds'.
#include <vector>

#include "bench/loadgen/driver.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/workload.h"
#include "gtest/gtest.h"

namespace pamatch::loadgen {
namespace {

// A closed-loop phase of `calls` successful calls of `op` in one second.
PhaseResult Phase(PhaseWorkload workload, int op, int calls) {
  PhaseResult phase;
  phase.spec.workload = workload;
  phase.spec.mode = LoopMode::kClosed;
  phase.measured_s = 1;
  phase.ops.resize(OpCount());
  for (int i = 0; i < calls; ++i) phase.ops[op].latency.Record(1'000'000);
  return phase;
}

int SomeSearchOp() {
  for (int op = 0; op < OpCount(); ++op) {
    if (IsSearchOp(op)) return op;
  }
  return -1;
}

TEST(LoadgenReportTest, RoundsEachHaveTheirRatioAndTheRunTheMedian) {
  const int search_op = SomeSearchOp();
  ASSERT_GE(search_op, 0);
  RunReport report;
  report.rounds = 3;
  // Search / Health: 30/100, 10/100, 20/100; the median, 0.2, is neither
  // the first round's nor the last's.
  for (int searches : {30, 10, 20}) {
    report.phases.push_back(Phase(PhaseWorkload::kHealth, HealthOp(), 100));
    report.phases.push_back(Phase(PhaseWorkload::kSearch, search_op, searches));
  }
  const std::vector<Ratios> rounds = RoundRatios(report);
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_DOUBLE_EQ(*rounds[0].search_qps_over_health_qps, 0.3);
  EXPECT_DOUBLE_EQ(*rounds[1].search_qps_over_health_qps, 0.1);
  EXPECT_DOUBLE_EQ(*rounds[2].search_qps_over_health_qps, 0.2);
  EXPECT_DOUBLE_EQ(*ComputeRatios(report).search_qps_over_health_qps, 0.2);
  // No mixed phase: that ratio is absent, in every round and in the run.
  EXPECT_FALSE(ComputeRatios(report).mixed_search_p99_over_search_p99);

  // An even number of rounds: the mean of the middle two.
  report.rounds = 2;
  report.phases.resize(4);  // 0.3 and 0.1
  EXPECT_DOUBLE_EQ(*ComputeRatios(report).search_qps_over_health_qps, 0.2);

  // One round: its own ratio, as before rounds existed.
  report.rounds = 1;
  report.phases.resize(2);
  EXPECT_DOUBLE_EQ(*ComputeRatios(report).search_qps_over_health_qps, 0.3);
}

TEST(LoadgenReportTest, JobPhasesHaveTheirRatiosAndWatchFigures) {
  const int search_op = SomeSearchOp();
  RunReport report;
  report.phases.push_back(Phase(PhaseWorkload::kSearch, search_op, 400));
  // MatchJobs phases count MatchJobs only: their job writes are not the
  // figure.
  PhaseResult jobs = Phase(PhaseWorkload::kMatchJobs, MatchJobsOp(), 100);
  for (int i = 0; i < 50; ++i) jobs.ops[JobUpsertOp()].latency.Record(1000);
  report.phases.push_back(jobs);
  report.phases.push_back(Phase(PhaseWorkload::kWrites, UpsertOp(), 200));
  PhaseResult watch = Phase(PhaseWorkload::kWatch, UpsertOp(), 150);
  WatchStats stats;
  stats.streams = 4;
  stats.events = 30;
  stats.measured_events = 20;
  stats.started = 18;
  stats.ended = 12;
  stats.delay.Record(2'000'000);
  watch.watch = stats;
  report.phases.push_back(watch);

  const Ratios ratios = ComputeRatios(report);
  EXPECT_DOUBLE_EQ(*ratios.match_jobs_qps_over_search_qps, 100.0 / 400);
  EXPECT_DOUBLE_EQ(*ratios.watch_writes_qps_over_writes_qps, 150.0 / 200);
  EXPECT_FALSE(ratios.search_qps_over_health_qps.has_value());
  EXPECT_EQ(PrimaryOps(jobs).ok(), 100);
  EXPECT_EQ(PrimaryLabel(PhaseWorkload::kWatch), "profile writes");

  const std::string text = TextReport(report);
  EXPECT_NE(text.find("match_jobs qps / search qps: 0.250"), std::string::npos)
      << text;
  EXPECT_NE(text.find("profile writes/s with watchers / without: 0.750"),
            std::string::npos);
  EXPECT_NE(text.find("4 Watch streams: 30 events received (18 MATCH_STARTED, "
                      "12 MATCH_ENDED"),
            std::string::npos)
      << text;
  const std::string json = JsonReport(report);
  EXPECT_NE(json.find("\"match_jobs_qps_over_search_qps\":0.25"),
            std::string::npos);
  EXPECT_NE(json.find("\"watch\":{\"streams\":4,\"events\":30,"
                      "\"measured_events\":20"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace pamatch::loadgen
