// The load generator's cross-phase ratios over several rounds
// (bench/loadgen/report.h): each round's from its own phases, the run's the
// median of the rounds'.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// `phase` with the server's counters over its window: `cpu_s` of CPU and
// the given context switches; this process used `self_s`.
PhaseResult WithServer(PhaseResult phase, const std::string& name, double cpu_s,
                       int64_t voluntary, int64_t involuntary, double self_s) {
  phase.spec.name = name;
  phase.cpu.window_s = 1;
  phase.cpu.self_s = self_s;
  phase.cpu.server_watched = true;
  ProcessSample used;
  used.cpu_s = cpu_s;
  used.voluntary_switches = voluntary;
  used.involuntary_switches = involuntary;
  phase.cpu.server = used;
  return phase;
}

TEST(LoadgenReportTest, ServerAndClientCpuPerSuccessfulCall) {
  const int search_op = SomeSearchOp();
  // 100 searches succeeded and 25 failed: the failures are not divided by.
  PhaseResult search = WithServer(Phase(PhaseWorkload::kSearch, search_op, 100),
                                  "search", 0.5, 30, 20, 0.1);
  search.ops[search_op].errors["UNAVAILABLE"] = 25;
  const ServerCpuPerCall per_call = ServerCpuPerCallOf(search);
  EXPECT_TRUE(per_call.watched);
  EXPECT_EQ(per_call.ok_calls, 100);
  EXPECT_NEAR(*per_call.server_us, 5000, 1e-6);      // 0.5 s / 100
  EXPECT_DOUBLE_EQ(*per_call.server_switches, 0.5);  // 50 / 100
  EXPECT_NEAR(*per_call.client_us, 1000, 1e-6);      // 0.1 s / 100
  EXPECT_TRUE(per_call.unavailable.empty());
  EXPECT_EQ(ServerCpuSentence(search),
            "5000.0 us per successful call, 0.50 context switches per call "
            "(over 100 calls: 0.500 s, 0.50 of a CPU; 30 voluntary + 20 "
            "involuntary switches); client (this process) 1000.0 us per "
            "call");

  // Not watched: nothing of the server's, the client's still.
  PhaseResult plain = Phase(PhaseWorkload::kSearch, search_op, 100);
  plain.cpu.self_s = 0.2;
  const ServerCpuPerCall unwatched = ServerCpuPerCallOf(plain);
  EXPECT_FALSE(unwatched.watched);
  EXPECT_FALSE(unwatched.server_us.has_value());
  EXPECT_NEAR(*unwatched.client_us, 2000, 1e-6);
  EXPECT_EQ(ServerCpuSentence(plain), "");
  RunReport unwatched_report;
  unwatched_report.phases.push_back(plain);
  EXPECT_EQ(TextReport(unwatched_report).find("server cpu"), std::string::npos);

  // No successful call: the server's CPU but no figure per call.
  PhaseResult none = WithServer(Phase(PhaseWorkload::kSearch, search_op, 0),
                                "search", 0.25, 3, 1, 0.1);
  EXPECT_FALSE(ServerCpuPerCallOf(none).server_us.has_value());
  EXPECT_FALSE(ServerCpuPerCallOf(none).client_us.has_value());
  EXPECT_NE(ServerCpuSentence(none).find("no successful call"),
            std::string::npos);
}

TEST(LoadgenReportTest, ServerCpuRatiosAgainstHealthCheck) {
  const int search_op = SomeSearchOp();
  RunReport report;
  // Health: 100 us per call; search 500 us (5x); mixed 300 us (3x).
  report.phases.push_back(
      WithServer(Phase(PhaseWorkload::kHealth, HealthOp(), 1000), "health", 0.1,
                 10, 0, 0.05));
  report.phases.push_back(
      WithServer(Phase(PhaseWorkload::kSearch, search_op, 100), "search", 0.05,
                 10, 0, 0.01));
  report.phases.push_back(
      WithServer(Phase(PhaseWorkload::kMixed, search_op, 200), "mixed", 0.06,
                 10, 0, 0.01));
  const Ratios ratios = ComputeRatios(report);
  EXPECT_NEAR(*ratios.search_server_cpu_over_health_server_cpu, 5, 1e-9);
  ASSERT_EQ(ratios.server_cpu_over_health.size(), 2u);
  EXPECT_EQ(ratios.server_cpu_over_health[0].first, "search");
  EXPECT_NEAR(ratios.server_cpu_over_health[0].second, 5, 1e-9);
  EXPECT_EQ(ratios.server_cpu_over_health[1].first, "mixed");
  EXPECT_NEAR(ratios.server_cpu_over_health[1].second, 3, 1e-9);

  const std::string text = TextReport(report);
  EXPECT_NE(text.find("server cpu per search / per health call: 5.000 "
                      "(target <= 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("search: 5.00x Health/Check's server CPU per call"),
            std::string::npos);
  EXPECT_NE(text.find("mixed: 3.00x Health/Check's server CPU per call"),
            std::string::npos);
  EXPECT_NE(text.find("  server cpu: 100.0 us per successful call"),
            std::string::npos);
  const std::string json = JsonReport(report);
  EXPECT_NE(json.find("\"search_server_cpu_over_health_server_cpu\":5,"
                      "\"server_cpu_over_health\":{\"search\":5,"
                      "\"mixed\":3}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"server_us_per_ok_call\":500,"), std::string::npos);
  EXPECT_NE(json.find("\"server_unavailable\":null"), std::string::npos);

  // Three rounds: each phase's ratio is the median of the rounds'. Round 2
  // and 3 searches cost 2x and 4x (0.02 s, 0.04 s per 100 calls).
  report.rounds = 3;
  for (int r = 2; r <= 3; ++r) {
    report.phases.push_back(
        WithServer(Phase(PhaseWorkload::kHealth, HealthOp(), 1000),
                   absl::StrCat("health.", r), 0.1, 10, 0, 0.05));
    report.phases.push_back(WithServer(
        Phase(PhaseWorkload::kSearch, search_op, 100),
        absl::StrCat("search.", r), r == 2 ? 0.02 : 0.04, 10, 0, 0.01));
    report.phases.push_back(
        WithServer(Phase(PhaseWorkload::kMixed, search_op, 200),
                   absl::StrCat("mixed.", r), 0.06, 10, 0, 0.01));
  }
  const Ratios median = ComputeRatios(report);
  EXPECT_NEAR(*median.search_server_cpu_over_health_server_cpu, 4, 1e-9);
  ASSERT_EQ(median.server_cpu_over_health.size(), 2u);
  EXPECT_EQ(median.server_cpu_over_health[0].first, "search");
  EXPECT_NEAR(median.server_cpu_over_health[0].second, 4, 1e-9);
  EXPECT_NEAR(median.server_cpu_over_health[1].second, 3, 1e-9);
}

TEST(LoadgenReportTest, UnavailableServerCpuIsSaidNotGuessed) {
  const int search_op = SomeSearchOp();
  RunReport report;
  report.phases.push_back(
      WithServer(Phase(PhaseWorkload::kHealth, HealthOp(), 1000), "health", 0.1,
                 10, 0, 0.05));
  PhaseResult search = Phase(PhaseWorkload::kSearch, search_op, 100);
  search.spec.name = "search";
  search.cpu.server_watched = true;
  search.cpu.server_error = "cannot read /proc/4242/stat: No such file";
  report.phases.push_back(search);
  EXPECT_FALSE(ServerCpuPerCallOf(search).server_us.has_value());
  const Ratios ratios = ComputeRatios(report);
  EXPECT_FALSE(ratios.search_server_cpu_over_health_server_cpu.has_value());
  EXPECT_TRUE(ratios.server_cpu_over_health.empty());
  const std::string text = TextReport(report);
  EXPECT_NE(text.find("  server cpu: unavailable (cannot read "
                      "/proc/4242/stat: No such file)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("server cpu per call / Health/Check's: unavailable"),
            std::string::npos)
      << text;
  const std::string json = JsonReport(report);
  EXPECT_NE(json.find("\"server_us_per_ok_call\":null"), std::string::npos);
  EXPECT_NE(json.find("\"server_unavailable\":\"cannot read "
                      "/proc/4242/stat: No such file\"}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace pamatch::loadgen
