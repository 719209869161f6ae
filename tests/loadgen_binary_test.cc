// The real pa-match-loadgen binary against a real pa-matchd (demo data,
// loopback): closed and open loop, writes, the health comparison, the
// JSON and HTML reports, and a wrong API key.
#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

extern char** environ;

namespace pamatch {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;

// Runs pa-match-loadgen with `args`; its exit status (-1 if it did not end
// within 60 s or did not exit normally). Output goes to files in `dir`.
int RunLoadgen(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), PA_MATCH_LOADGEN_PATH);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string out = dir + "/loadgen.out", err = dir + "/loadgen.err";
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, PA_MATCH_LOADGEN_PATH, &files, nullptr,
                                  argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (spawned != 0) return -1;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const Value& Field(const Struct& object, const std::string& name) {
  static const Value* const kMissing = new Value;
  auto it = object.fields().find(name);
  EXPECT_NE(it, object.fields().end()) << "no field " << name;
  return it == object.fields().end() ? *kMissing : it->second;
}
double Number(const Struct& object, const std::string& name) {
  return Field(object, name).number_value();
}
const Struct& Object(const Struct& object, const std::string& name) {
  return Field(object, name).struct_value();
}

class LoadgenBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(
        dir_.path(),
        std::vector<std::string>{
            "--listen=127.0.0.1:0", "--data_dir=" + dir_.path() + "/data",
            "--taxonomy=" + testing::TaxonomyPath(), "--demo_profiles=2000"});
    channel_ = daemon_->WaitServing();
    ASSERT_NE(channel_, nullptr);
    // "... listening on 127.0.0.1:PORT (health ..."
    const std::string log = daemon_->err();
    const size_t at = log.find("listening on ") + 13;
    address_ = log.substr(at, log.find(' ', at) - at);
    key_ = std::string(
        absl::StripAsciiWhitespace(ReadAll(dir_.path() + "/data/admin.key")));
  }

  // Common flags: the server, the key file the daemon wrote, and reports.
  std::vector<std::string> Args(std::vector<std::string> more) const {
    std::vector<std::string> args = {
        "--server=" + address_,
        "--api_key_file=" + dir_.path() + "/data/admin.key",
        "--json_out=" + json_path(), "--html_out=" + html_path(),
        "--warmup_s=0.5"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  std::string json_path() const { return dir_.path() + "/report.json"; }
  std::string html_path() const { return dir_.path() + "/report.html"; }

  Struct Report() const {
    Struct report;
    const std::string json = ReadAll(json_path());
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok())
        << json;
    return report;
  }

  std::string Log() const {
    return ReadAll(dir_.path() + "/loadgen.out") +
           ReadAll(dir_.path() + "/loadgen.err");
  }

  // The phase's totals are plausible: calls made, none failed, ordered
  // percentiles.
  static void ExpectSaneTotals(const Struct& summary, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_GT(Number(summary, "calls"), 0);
    EXPECT_EQ(Number(summary, "failed"), 0);
    EXPECT_EQ(Number(summary, "ok"), Number(summary, "calls"));
    EXPECT_GT(Number(summary, "qps"), 0);
    EXPECT_GT(Number(summary, "p50_ms"), 0);
    EXPECT_LE(Number(summary, "p50_ms"), Number(summary, "p90_ms"));
    EXPECT_LE(Number(summary, "p90_ms"), Number(summary, "p99_ms"));
    EXPECT_LE(Number(summary, "p99_ms"), Number(summary, "p999_ms"));
    EXPECT_LE(Number(summary, "p999_ms"), Number(summary, "max_ms"));
    EXPECT_TRUE(Object(summary, "errors").fields().empty());
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string address_;
  std::string key_;
};

TEST_F(LoadgenBinaryTest, ClosedLoopComparesSearchWithHealthCheck) {
  ASSERT_EQ(
      RunLoadgen(dir_.path(),
                 Args({"--phases=health,search", "--mode=closed",
                       "--concurrency=8", "--channels=2", "--duration_s=2",
                       "--server_pid=" + std::to_string(daemon_->pid())})),
      0)
      << Log();
  const Struct report = Report();
  const auto& phases = Field(report, "phases").list_value().values();
  ASSERT_EQ(phases.size(), 2);
  const Struct& health = phases[0].struct_value();
  const Struct& search = phases[1].struct_value();
  EXPECT_EQ(Field(health, "workload").string_value(), "health");
  EXPECT_EQ(Field(search, "workload").string_value(), "search");
  EXPECT_EQ(Number(search, "concurrency"), 8);
  EXPECT_EQ(Number(search, "channels"), 2);
  ExpectSaneTotals(Object(health, "totals"), "health");
  ExpectSaneTotals(Object(search, "totals"), "search");
  // Every query kind of the standard mix ran; nothing but health in the
  // health phase.
  for (const char* kind :
       {"dense_city", "broad", "rural", "narrow", "short_notice"}) {
    ExpectSaneTotals(Object(Object(search, "ops"), kind), kind);
  }
  EXPECT_EQ(Object(health, "ops").fields().size(), 1);
  ExpectSaneTotals(Object(Object(health, "ops"), "health"), "health op");
  // A second-by-second series, warm-up first.
  const auto& series = Field(search, "series").list_value().values();
  ASSERT_GE(series.size(), 2);
  EXPECT_TRUE(Field(series[0].struct_value(), "warmup").bool_value());
  EXPECT_FALSE(Field(series[1].struct_value(), "warmup").bool_value());
  // Measured from the end of the warm-up: at least the 2 s asked for, and
  // at most that plus one call deadline (10 s) for the calls still in
  // flight at the end (a loaded machine can stall a call for a second).
  EXPECT_GE(Number(search, "measured_s"), 2.0);
  EXPECT_LT(Number(search, "measured_s"), 12.0);

  const double ratio =
      Number(Object(report, "ratios"), "search_qps_over_health_qps");
  EXPECT_NEAR(ratio,
              Number(Object(search, "searches"), "qps") /
                  Number(Object(health, "totals"), "qps"),
              1e-3 * ratio);
  EXPECT_EQ(Number(report, "failed_calls"), 0);

  // CPU per call of each phase, over its measured window: the loadgen,
  // the daemon and the kernel all ran on this machine, so it was busy, at
  // most on all its CPUs, and this process's share is part of it.
  for (const Struct* phase : {&health, &search}) {
    const Struct& cpu = Object(*phase, "cpu");
    const double calls = Number(Object(*phase, "totals"), "calls");
    EXPECT_DOUBLE_EQ(Number(cpu, "window_s"), 2.0);
    EXPECT_GE(Number(cpu, "cpus"), 1);
    const double busy = Number(cpu, "machine_busy_s");
    EXPECT_GT(busy, 0.1);
    EXPECT_LE(busy, Number(cpu, "cpus") * 2.0 * 1.05 + 0.05);
    EXPECT_GT(Number(cpu, "self_s"), 0);
    EXPECT_LT(Number(cpu, "self_s"), busy + 0.1);
    EXPECT_NEAR(Number(cpu, "machine_us_per_call"), busy * 1e6 / calls,
                1e-3 * busy * 1e6 / calls);
    EXPECT_NEAR(Number(cpu, "self_us_per_call"),
                Number(cpu, "self_s") * 1e6 / calls,
                1e-3 * Number(cpu, "self_s") * 1e6 / calls + 1e-3);
  }
  EXPECT_NEAR(Number(Object(report, "ratios"), "search_cpu_over_health_cpu"),
              Number(Object(search, "cpu"), "machine_us_per_call") /
                  Number(Object(health, "cpu"), "machine_us_per_call"),
              1e-3);

  // The server's own CPU (--server_pid: its /proc counters) per successful
  // call: the daemon served every call, so it used CPU, within what the
  // machine was busy with; its context switches and this process's CPU
  // per successful call are there too.
  for (const Struct* phase : {&health, &search}) {
    SCOPED_TRACE(Field(*phase, "name").string_value());
    const Struct& cpu = Object(*phase, "cpu");
    const double ok = Number(Object(*phase, "totals"), "ok");
    EXPECT_TRUE(Field(cpu, "server_watched").bool_value());
    EXPECT_EQ(Field(cpu, "server_unavailable").kind_case(), Value::kNullValue);
    EXPECT_EQ(Number(cpu, "ok_calls"), ok);
    const double server_s = Number(cpu, "server_cpu_s");
    EXPECT_GT(server_s, 0);
    EXPECT_LT(server_s, Number(cpu, "machine_busy_s") + 0.1);
    EXPECT_GT(Number(cpu, "server_us_per_ok_call"), 0);
    EXPECT_NEAR(Number(cpu, "server_us_per_ok_call"), server_s * 1e6 / ok,
                1e-3 * server_s * 1e6 / ok);
    EXPECT_GT(Number(cpu, "server_voluntary_switches") +
                  Number(cpu, "server_involuntary_switches"),
              0);
    EXPECT_NEAR(Number(cpu, "server_switches_per_ok_call"),
                (Number(cpu, "server_voluntary_switches") +
                 Number(cpu, "server_involuntary_switches")) /
                    ok,
                1e-3);
    EXPECT_GT(Number(cpu, "client_us_per_ok_call"), 0);
  }
  const double server_ratio = Number(
      Object(report, "ratios"), "search_server_cpu_over_health_server_cpu");
  EXPECT_GT(server_ratio, 0);
  EXPECT_NEAR(server_ratio,
              Number(Object(search, "cpu"), "server_us_per_ok_call") /
                  Number(Object(health, "cpu"), "server_us_per_ok_call"),
              1e-3 * server_ratio);
  EXPECT_NEAR(Number(Object(Object(report, "ratios"), "server_cpu_over_health"),
                     "search"),
              server_ratio, 1e-3 * server_ratio);

  const std::string html = ReadAll(html_path());
  EXPECT_TRUE(absl::StrContains(html, "<svg")) << html.substr(0, 500);
  EXPECT_TRUE(absl::StrContains(html, "<polyline"));
  EXPECT_TRUE(absl::StrContains(html, "Health/Check throughput"));
  // Self-contained: no scripts, no fetched assets.
  EXPECT_FALSE(absl::StrContains(html, "<script"));
  EXPECT_FALSE(absl::StrContains(html, "src="));
  EXPECT_FALSE(absl::StrContains(html, "href="));
  EXPECT_TRUE(absl::StrContains(html, "Machine CPU per search"));
  EXPECT_TRUE(absl::StrContains(html, "us per call"));
  // The text report on stdout carries the same ratios and CPU lines.
  const std::string text = ReadAll(dir_.path() + "/loadgen.out");
  EXPECT_TRUE(absl::StrContains(text, "search qps / health qps"));
  EXPECT_TRUE(
      absl::StrContains(text, "machine cpu per search / per health call"));
  EXPECT_TRUE(absl::StrContains(text, "  cpu: ")) << text;
  EXPECT_TRUE(absl::StrContains(html, "Server CPU per search"));
  EXPECT_TRUE(absl::StrContains(html, "Server CPU: "));
  EXPECT_TRUE(absl::StrContains(text,
                                "server cpu per search / per health "
                                "call: "))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "search: "));
  EXPECT_TRUE(absl::StrContains(text, "x Health/Check's server CPU per call"))
      << text;
  // Each phase's server line, with a figure per call above zero.
  size_t at = 0;
  for (int phase = 0; phase < 2; ++phase) {
    at = text.find("  server cpu: ", at);
    ASSERT_NE(at, std::string::npos) << text;
    at += 14;
    const double us = std::strtod(text.c_str() + at, nullptr);
    EXPECT_GT(us, 0) << text.substr(at, 80);
    EXPECT_TRUE(absl::StartsWith(text.substr(text.find(' ', at)),
                                 " us per successful call"))
        << text.substr(at, 80);
  }
}

TEST_F(LoadgenBinaryTest, UnreadableServerProcessIsReportedUnavailable) {
  // No such process: the run completes, its phases say why the server's
  // figures are missing, and nothing is made up.
  ASSERT_EQ(
      RunLoadgen(dir_.path(),
                 Args({"--phases=health,search", "--concurrency=4",
                       "--channels=1", "--duration_s=0.5", "--warmup_s=0.2",
                       "--server_proc=" + dir_.path() + "/no-such-proc"})),
      0)
      << Log();
  const std::string err = ReadAll(dir_.path() + "/loadgen.err");
  EXPECT_TRUE(absl::StrContains(
      err, "warning: the server's CPU will be unavailable: cannot read "))
      << err;
  const std::string text = ReadAll(dir_.path() + "/loadgen.out");
  EXPECT_TRUE(
      absl::StrContains(text, "  server cpu: unavailable (cannot read " +
                                  dir_.path() + "/no-such-proc/stat"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "server cpu per call / Health/Check's: unavailable"))
      << text;
  const Struct report = Report();
  const Struct& cpu = Object(
      Field(report, "phases").list_value().values(1).struct_value(), "cpu");
  EXPECT_TRUE(Field(cpu, "server_watched").bool_value());
  EXPECT_EQ(Field(cpu, "server_us_per_ok_call").kind_case(), Value::kNullValue);
  EXPECT_TRUE(absl::StrContains(Field(cpu, "server_unavailable").string_value(),
                                "no-such-proc"));
  EXPECT_EQ(Field(Object(report, "ratios"),
                  "search_server_cpu_over_health_server_cpu")
                .kind_case(),
            Value::kNullValue);
  // Both flags at once is a usage error.
  EXPECT_EQ(RunLoadgen(dir_.path(),
                       Args({"--server_pid=1", "--server_proc=/proc/1"})),
            2);
}

TEST_F(LoadgenBinaryTest, RoundsRepeatThePhasesAndReportTheMedianRatio) {
  ASSERT_EQ(RunLoadgen(dir_.path(),
                       Args({"--phases=health,search", "--rounds=3",
                             "--concurrency=4", "--channels=1",
                             "--duration_s=0.5", "--warmup_s=0.2"})),
            0)
      << Log();
  const Struct report = Report();
  EXPECT_EQ(Number(report, "rounds"), 3);
  const auto& phases = Field(report, "phases").list_value().values();
  ASSERT_EQ(phases.size(), 6);
  const std::vector<std::string> names = {"health.1", "search.1", "health.2",
                                          "search.2", "health.3", "search.3"};
  for (int i = 0; i < phases.size(); ++i) {
    EXPECT_EQ(Field(phases[i].struct_value(), "name").string_value(), names[i]);
  }
  // Each round's ratio is of its own phases; the run's is their median.
  const auto& rounds = Field(report, "ratios_by_round").list_value().values();
  ASSERT_EQ(rounds.size(), 3);
  std::vector<double> per_round;
  for (int r = 0; r < rounds.size(); ++r) {
    const Struct& health = phases[2 * r].struct_value();
    const Struct& search = phases[2 * r + 1].struct_value();
    const double expected = Number(Object(search, "searches"), "qps") /
                            Number(Object(health, "totals"), "qps");
    const double got =
        Number(rounds[r].struct_value(), "search_qps_over_health_qps");
    EXPECT_NEAR(got, expected, 1e-3 * expected) << "round " << r + 1;
    per_round.push_back(got);
  }
  std::sort(per_round.begin(), per_round.end());
  EXPECT_DOUBLE_EQ(
      Number(Object(report, "ratios"), "search_qps_over_health_qps"),
      per_round[1]);
  EXPECT_NE(Log().find("[median of 3 rounds: "), std::string::npos) << Log();
}

TEST_F(LoadgenBinaryTest, OpenLoopWithWritesUpsertsAndDeletes) {
  ASSERT_EQ(
      RunLoadgen(dir_.path(),
                 Args({"--phases=health,mixed", "--mode=open", "--rate=300",
                       "--channels=2", "--duration_s=2", "--write_fraction=0.3",
                       "--delete_fraction=0.3", "--id_prefix=lgtest-"})),
      0)
      << Log();
  const Struct report = Report();
  const auto& phases = Field(report, "phases").list_value().values();
  ASSERT_EQ(phases.size(), 2);
  const Struct& mixed = phases[1].struct_value();
  EXPECT_EQ(Field(mixed, "mode").string_value(), "open");
  ExpectSaneTotals(Object(mixed, "totals"), "mixed");
  ExpectSaneTotals(Object(Object(mixed, "ops"), "upsert"), "upsert");
  ExpectSaneTotals(Object(Object(mixed, "ops"), "delete"), "delete");
  // An open loop sends at the rate asked for, whatever the latency: 600
  // calls are due in the measured 2 s.
  const double calls = Number(Object(mixed, "totals"), "calls");
  EXPECT_GE(calls, 590);
  EXPECT_LE(calls, 610);
  EXPECT_GE(Number(Object(mixed, "send_lag"), "max_ms"), 0);
  // Both phases ran at the rate asked for, so their throughputs compare
  // nothing; their CPU per call does.
  const Struct& ratios = Object(report, "ratios");
  EXPECT_EQ(Field(ratios, "search_qps_over_health_qps").kind_case(),
            Value::kNullValue);
  EXPECT_GT(Number(ratios, "search_cpu_over_health_cpu"), 0);

  // The writes reached the server: a live id is there, a deleted one gone.
  const Struct& writes = Object(report, "writes");
  EXPECT_GT(Number(writes, "upserts_ok"), 0);
  EXPECT_GT(Number(writes, "deletes_ok"), 0);
  const std::string live = Field(writes, "sample_live_id").string_value();
  const std::string deleted = Field(writes, "sample_deleted_id").string_value();
  ASSERT_TRUE(absl::StartsWith(live, "lgtest-")) << live;
  ASSERT_TRUE(absl::StartsWith(deleted, "lgtest-")) << deleted;
  auto stub = v1::Matcher::NewStub(channel_);
  v1::GetProfileRequest get;
  v1::GetProfileResponse got;
  get.set_id(live);
  grpc::Status status = stub->GetProfile(ContextWithKey(key_).get(), get, &got);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.profile().id(), live);
  get.set_id(deleted);
  status = stub->GetProfile(ContextWithKey(key_).get(), get, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << deleted;
  EXPECT_TRUE(absl::StrContains(ReadAll(html_path()), "<svg"));
}

TEST_F(LoadgenBinaryTest, JobPhasesSendMatchJobsJobWritesAndCountWatchEvents) {
  ASSERT_EQ(RunLoadgen(dir_.path(),
                       Args({"--phases=match_jobs,jobs,writes,watch",
                             "--preload_jobs=300", "--concurrency=4",
                             "--channels=2", "--duration_s=1.5",
                             "--job_write_fraction=0.2", "--delete_fraction=0.2",
                             "--watchers=12", "--id_prefix=lgjt-",
                             "--job_id_prefix=lgjj-"})),
            0)
      << Log();
  const Struct report = Report();
  const auto& phases = Field(report, "phases").list_value().values();
  ASSERT_EQ(phases.size(), 4);
  const Struct& match_jobs = phases[0].struct_value();
  const Struct& jobs = phases[1].struct_value();
  const Struct& writes = phases[2].struct_value();
  const Struct& watch = phases[3].struct_value();
  EXPECT_EQ(Field(match_jobs, "workload").string_value(), "match_jobs");
  ExpectSaneTotals(Object(match_jobs, "primary"), "match_jobs");
  ExpectSaneTotals(Object(Object(match_jobs, "ops"), "match_jobs"),
                   "match_jobs op");
  ExpectSaneTotals(Object(jobs, "totals"), "jobs");
  ExpectSaneTotals(Object(Object(jobs, "ops"), "job_upsert"), "job_upsert");
  ExpectSaneTotals(Object(writes, "primary"), "writes");
  ExpectSaneTotals(Object(watch, "primary"), "watch");
  // Only the watch phase has streams; theirs ended by our cancel alone,
  // in sequence, and the writes made them events.
  EXPECT_EQ(Field(writes, "watch").kind_case(), Value::kNullValue);
  const Struct& stream = Object(watch, "watch");
  EXPECT_EQ(Number(stream, "streams"), 12);
  EXPECT_TRUE(Object(stream, "errors").fields().empty());
  EXPECT_EQ(Number(stream, "out_of_order"), 0);
  EXPECT_GT(Number(stream, "events"), 0);
  EXPECT_EQ(Number(stream, "events"),
            Number(stream, "match_started") + Number(stream, "match_ended"));
  EXPECT_LE(Number(stream, "delay_p50_ms"), Number(stream, "delay_p99_ms"));
  const Struct& ratios = Object(report, "ratios");
  EXPECT_GT(Number(ratios, "watch_writes_qps_over_writes_qps"), 0);
  EXPECT_EQ(Field(ratios, "match_jobs_qps_over_search_qps").kind_case(),
            Value::kNullValue);  // no search phase
  const Struct& tally = Object(report, "writes");
  EXPECT_GT(Number(tally, "job_upserts_ok"), 0);
  EXPECT_GT(Number(tally, "upserts_ok"), 0);
  // The preloaded jobs and the run's own live ones are on the server.
  auto stub = v1::Matcher::NewStub(channel_);
  for (const char* id : {"job-000000", "job-000299"}) {
    v1::GetJobRequest get;
    v1::GetJobResponse got;
    get.set_id(id);
    const grpc::Status status =
        stub->GetJob(ContextWithKey(key_).get(), get, &got);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
  }
  v1::GetStatsResponse stats;
  ASSERT_TRUE(stub->GetStats(ContextWithKey(key_).get(), v1::GetStatsRequest(),
                             &stats)
                  .ok());
  EXPECT_EQ(stats.jobs(), 300 + Number(tally, "live_job_ids"));
  const std::string text = ReadAll(dir_.path() + "/loadgen.out");
  EXPECT_TRUE(absl::StrContains(text, "12 Watch streams:")) << text;
  EXPECT_TRUE(absl::StrContains(ReadAll(html_path()), "match_jobs"));
}

TEST_F(LoadgenBinaryTest, WrongApiKeyIsReportedAsUnauthenticated) {
  std::vector<std::string> args = Args(
      {"--phases=search", "--duration_s=1", "--concurrency=4", "--channels=1"});
  args.push_back("--api_key=pam_not_a_real_key");
  // Exit status 3: the run finished, but calls failed.
  ASSERT_EQ(RunLoadgen(dir_.path(), args), 3) << Log();
  const Struct report = Report();
  const Struct& totals = Object(
      Field(report, "phases").list_value().values(0).struct_value(), "totals");
  EXPECT_GT(Number(totals, "calls"), 0);
  EXPECT_EQ(Number(totals, "ok"), 0);
  EXPECT_EQ(Number(totals, "qps"), 0);
  EXPECT_EQ(Number(Object(totals, "errors"), "UNAUTHENTICATED"),
            Number(totals, "calls"));
  EXPECT_EQ(Object(totals, "errors").fields().size(), 1);
  EXPECT_EQ(Number(report, "failed_calls"), Number(totals, "calls"));
  EXPECT_TRUE(absl::StrContains(ReadAll(dir_.path() + "/loadgen.out"),
                                "UNAUTHENTICATED"));
}

TEST_F(LoadgenBinaryTest, UnreachableServerFailsWithoutAReport) {
  std::vector<std::string> args = Args({"--duration_s=1"});
  args[0] = "--server=127.0.0.1:1";  // nothing listens on port 1
  EXPECT_EQ(RunLoadgen(dir_.path(), args), 1) << Log();
  EXPECT_TRUE(absl::StrContains(Log(), "cannot connect")) << Log();
  EXPECT_TRUE(ReadAll(json_path()).empty());  // no report of nothing
}

}  // namespace
}  // namespace pamatch
