// pa-match-loadgen: drives a running pa-matchd with many concurrent gRPC
// calls and reports throughput and latency (docs/LOADGEN.md).
//
//   pa-match-loadgen [--server HOST:PORT] [--api_key_file data/admin.key]
//       [--tls_ca F [--tls_cert F --tls_key F] [--tls_server_name N]]
//       [--phases health,search,mixed,match_jobs,jobs,writes,watch]
//       [--rounds 1] [--mode closed|open]
//       [--concurrency 32] [--channels 4] [--rate 1000]
//       [--warmup_s 2] [--duration_s 10] [--write_fraction 0.05]
//       [--pa_count N] [--job_write_fraction 0.05] [--watchers 8]
//       [--preload_jobs N] [--server_pid PID | --server_proc DIR]
//       [--json_out F] [--html_out F]
//
// Exit status: 0 all measured calls succeeded, 3 some failed (the report
// says which codes), 1 could not run (server unreachable, no key, bad file),
// 2 bad flags.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/job_mix.h"
#include "bench/loadgen/cpu.h"
#include "bench/loadgen/driver.h"
#include "bench/loadgen/html_report.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/workload.h"
#include "common/program_help.h"
#include "common/tls_channel.h"
#include "demo/demo_data.h"
#include "pamatch/v1/matcher.grpc.pb.h"

ABSL_FLAG(std::string, server, "",
          "pa-matchd address (else env PA_MATCH_SERVER, else "
          "127.0.0.1:50051)");
ABSL_FLAG(std::string, tls_ca, "", pamatch::kTlsCaHelp);
ABSL_FLAG(std::string, tls_cert, "", pamatch::kTlsCertHelp);
ABSL_FLAG(std::string, tls_key, "", pamatch::kTlsKeyHelp);
ABSL_FLAG(std::string, tls_server_name, "", pamatch::kTlsServerNameHelp);
ABSL_FLAG(std::string, api_key, "",
          "API key (else env PA_MATCH_KEY, else the contents of "
          "--api_key_file)");
ABSL_FLAG(std::string, api_key_file, "data/admin.key",
          "file holding the API key: pa-matchd writes its first admin key "
          "to <data_dir>/admin.key (the CLI's default too)");
ABSL_FLAG(std::string, phases, "search",
          "comma-separated phases run one after the other, each with its "
          "own warm-up: health (grpc.health.v1.Health/Check, the no-op "
          "baseline), search (the query mix), mixed (query mix plus "
          "--write_fraction writes), match_jobs (MatchJobs for stored PAs), "
          "jobs (MatchJobs plus --job_write_fraction job writes), writes "
          "(profile writes only), watch (profile writes with --watchers "
          "Watch streams open)");
ABSL_FLAG(int, rounds, 1,
          "run the whole phase list this many times; the ratios are then the "
          "medians of the rounds' (each round's are reported too)");
ABSL_FLAG(std::string, mode, "closed",
          "closed (--concurrency calls always in flight) or open (--rate "
          "calls/s, latency from the intended send time)");
ABSL_FLAG(int, concurrency, 32, "closed loop: calls in flight");
ABSL_FLAG(int, channels, 4,
          "gRPC channels (separate TCP connections) the calls are spread "
          "over");
ABSL_FLAG(double, rate, 1000, "open loop: calls started per second");
ABSL_FLAG(int, max_in_flight, 10000,
          "open loop: the schedule waits while this many calls are in "
          "flight (the wait counts in the latency)");
ABSL_FLAG(double, warmup_s, 2, "seconds of each phase not measured");
ABSL_FLAG(double, duration_s, 10, "measured seconds of each phase");
ABSL_FLAG(int, timeout_ms, 10000, "deadline of each call");
ABSL_FLAG(std::string, mix, "",
          "query kind weights, e.g. dense_city=2,narrow=1 (unlisted: 0); "
          "default: every kind of bench/query_mix.h equally");
ABSL_FLAG(double, write_fraction, 0.05,
          "mixed phases: fraction of calls that are writes");
ABSL_FLAG(double, delete_fraction, 0.2,
          "fraction of writes that delete an id this run created");
ABSL_FLAG(std::string, id_prefix, "lg-",
          "ids of the profiles the run writes: prefix + 6-digit index");
ABSL_FLAG(uint64_t, seed, 7, "seed of the written profiles and the op mix");
ABSL_FLAG(std::string, pa_prefix, "pa-",
          "MatchJobs phases: the stored PAs asked about are this prefix + a "
          "6-digit index below --pa_count");
ABSL_FLAG(int64_t, pa_count, 0,
          "MatchJobs phases: how many stored PAs (indexes 0..N-1); 0 = the "
          "server's profile count (GetStats, needs an admin key)");
ABSL_FLAG(double, job_write_fraction, 0.05,
          "jobs phases: fraction of calls that are job writes (upserts of "
          "the standard job mix, --delete_fraction of them deletes)");
ABSL_FLAG(std::string, job_id_prefix, "lgj-",
          "ids of the jobs the run writes: prefix + 6-digit index");
ABSL_FLAG(std::string, job_scenario, "north_east",
          "where generated jobs are: north_east (valid with either "
          "taxonomy) or national (needs taxonomy/great_britain.json)");
ABSL_FLAG(int, watchers, 8,
          "watch phases: Watch streams open through the phase, each on one "
          "local authority of --watch_authorities in turn");
ABSL_FLAG(std::string, watch_authorities, "",
          "comma-separated local authority codes the Watch streams follow; "
          "default: the 12 North East ones (where written profiles live)");
ABSL_FLAG(int, preload_jobs, 0,
          "before the phases, upsert this many jobs of the standard job mix "
          "(ids job-000000.., --job_scenario, --seed 42, version 0 = stored "
          "+ 1) through BulkUpsertJobs, so MatchJobs has jobs to find");
ABSL_FLAG(int, server_pid, 0,
          "pa-matchd's process id on this machine, e.g. $(pgrep -n "
          "pa-matchd): each phase then reports the server's own CPU and "
          "context switches per successful call (/proc/PID/stat, "
          "/proc/PID/status) and their ratio to the health phase's; 0 = "
          "not reported");
ABSL_FLAG(std::string, server_proc, "",
          "as --server_pid, but the /proc/PID directory itself (any "
          "directory holding such stat and status files)");
ABSL_FLAG(std::string, json_out, "", "write the report as JSON here");
ABSL_FLAG(std::string, html_out, "", "write the HTML report here");
ABSL_FLAG(bool, progress, true, "print a progress line each second (stderr)");

namespace pamatch::loadgen {
namespace {

std::string Resolve(const std::string& flag, const char* env,
                    const std::string& fallback) {
  if (!flag.empty()) return flag;
  if (const char* value = std::getenv(env); value != nullptr && *value) {
    return value;
  }
  return fallback;
}

bool ReadFile(const std::string& path, std::string* content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *content = buffer.str();
  return !in.bad();
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  return out.good();
}

// Waits until `channel` is connected. Gives up at the first failed attempt
// (the server is expected to be up already) or after 10 s.
bool Connect(grpc::Channel& channel) {
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const grpc_connectivity_state state = channel.GetState(true);
    if (state == GRPC_CHANNEL_READY) return true;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
        state == GRPC_CHANNEL_SHUTDOWN ||
        !channel.WaitForStateChange(state, deadline)) {
      return false;
    }
  }
}

int Usage(const std::string& message) {
  absl::FPrintF(stderr, "pa-match-loadgen: %s (try --help)\n", message);
  return 2;
}

void PrintProgress(const PhaseSpec& spec, const SecondSample& s,
                   int64_t in_flight) {
  const double width_s = s.end_s - s.start_s;
  absl::FPrintF(stderr,
                "[%s] %5.1fs %8.0f calls/s  p50 %8.3f ms  p99 %8.3f ms  "
                "errors %d  in flight %d%s\n",
                spec.name, s.end_s, width_s > 0 ? s.calls / width_s : 0,
                Ms(s.p50_ns), Ms(s.p99_ns), s.errors, in_flight,
                s.warmup ? "  (warm-up)" : "");
}

int Run(const std::string& command_line) {
  const std::string server = Resolve(absl::GetFlag(FLAGS_server),
                                     "PA_MATCH_SERVER", "127.0.0.1:50051");
  std::string key = Resolve(absl::GetFlag(FLAGS_api_key), "PA_MATCH_KEY", "");
  if (key.empty()) {
    const std::string path = absl::GetFlag(FLAGS_api_key_file);
    if (!ReadFile(path, &key)) {
      absl::FPrintF(stderr,
                    "pa-match-loadgen: no --api_key, no PA_MATCH_KEY and "
                    "cannot read %s\n",
                    path);
      return 1;
    }
    key = std::string(absl::StripAsciiWhitespace(key));
  }

  PhaseSpec base;
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "closed" && mode != "open")
    return Usage("--mode: closed or open");
  base.mode = mode == "closed" ? LoopMode::kClosed : LoopMode::kOpen;
  base.concurrency = absl::GetFlag(FLAGS_concurrency);
  base.rate_per_s = absl::GetFlag(FLAGS_rate);
  base.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  base.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_s));
  base.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_s));
  base.call_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  const int channel_count = absl::GetFlag(FLAGS_channels);
  if (base.concurrency < 1) return Usage("--concurrency: must be >= 1");
  if (channel_count < 1) return Usage("--channels: must be >= 1");
  if (!(base.rate_per_s > 0)) return Usage("--rate: must be > 0");
  if (base.max_in_flight < 1) return Usage("--max_in_flight: must be >= 1");
  if (base.warmup < absl::ZeroDuration())
    return Usage("--warmup_s: must be >= 0");
  if (base.duration <= absl::ZeroDuration()) {
    return Usage("--duration_s: must be > 0");
  }
  if (base.call_timeout <= absl::ZeroDuration()) {
    return Usage("--timeout_ms: must be > 0");
  }

  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  base.server_proc = absl::GetFlag(FLAGS_server_proc);
  if (server_pid < 0) return Usage("--server_pid: must be > 0");
  if (server_pid > 0 && !base.server_proc.empty()) {
    return Usage("--server_pid and --server_proc: give one");
  }
  if (server_pid > 0) {
    base.server_proc = absl::StrFormat("/proc/%d", server_pid);
  }
  if (!base.server_proc.empty()) {
    // Not fatal: the phases then say the server's figures are unavailable.
    if (absl::StatusOr<ProcessSample> sample = SampleProcess(base.server_proc);
        !sample.ok()) {
      absl::FPrintF(stderr,
                    "pa-match-loadgen: warning: the server's CPU will be "
                    "unavailable: %s\n",
                    sample.status().message());
    }
  }

  base.watchers = absl::GetFlag(FLAGS_watchers);
  if (base.watchers < 0) return Usage("--watchers: must be >= 0");
  if (const std::string text = absl::GetFlag(FLAGS_watch_authorities);
      text.empty()) {
    base.watch_authorities = NorthEastAuthorities();
  } else {
    absl::StatusOr<std::vector<std::string>> codes = ParseAuthorities(text);
    if (!codes.ok()) return Usage(std::string(codes.status().message()));
    base.watch_authorities = *std::move(codes);
  }
  std::vector<PhaseSpec> phases;
  bool match_jobs = false;
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_phases), ',', absl::SkipEmpty())) {
    PhaseSpec spec = base;
    spec.name = std::string(name);
    const std::optional<PhaseWorkload> workload = ParsePhaseWorkload(name);
    if (!workload.has_value()) {
      return Usage(absl::StrFormat(
          "--phases: unknown phase \"%s\" (health, search, mixed, "
          "match_jobs, jobs, writes, watch)",
          name));
    }
    spec.workload = *workload;
    match_jobs |= SendsMatchJobs(*workload);
    phases.push_back(spec);
  }
  if (phases.empty()) return Usage("--phases: none given");
  const int rounds = absl::GetFlag(FLAGS_rounds);
  if (rounds < 1) return Usage("--rounds: must be >= 1");
  if (rounds > 1) {
    const std::vector<PhaseSpec> one_round = std::move(phases);
    phases.clear();
    for (int r = 1; r <= rounds; ++r) {
      for (PhaseSpec spec : one_round) {
        spec.name = absl::StrFormat("%s.%d", spec.name, r);
        phases.push_back(spec);
      }
    }
  }

  WorkloadOptions workload_options;
  absl::StatusOr<std::vector<double>> weights =
      ParseQueryWeights(absl::GetFlag(FLAGS_mix));
  if (!weights.ok()) return Usage(std::string(weights.status().message()));
  workload_options.query_weights = *weights;
  workload_options.write_fraction = absl::GetFlag(FLAGS_write_fraction);
  workload_options.delete_fraction = absl::GetFlag(FLAGS_delete_fraction);
  for (double fraction :
       {workload_options.write_fraction, workload_options.delete_fraction}) {
    if (!(fraction >= 0 && fraction <= 1)) {
      return Usage("--write_fraction and --delete_fraction: 0..1");
    }
  }
  workload_options.id_prefix = absl::GetFlag(FLAGS_id_prefix);
  workload_options.seed = absl::GetFlag(FLAGS_seed);
  workload_options.now = absl::Now();
  workload_options.pa_prefix = absl::GetFlag(FLAGS_pa_prefix);
  workload_options.pa_count = absl::GetFlag(FLAGS_pa_count);
  workload_options.job_write_fraction = absl::GetFlag(FLAGS_job_write_fraction);
  workload_options.job_id_prefix = absl::GetFlag(FLAGS_job_id_prefix);
  if (!(workload_options.job_write_fraction >= 0 &&
        workload_options.job_write_fraction <= 1)) {
    return Usage("--job_write_fraction: 0..1");
  }
  if (workload_options.pa_count < 0) return Usage("--pa_count: must be >= 0");
  if (!demo::ParseDemoScenario(absl::GetFlag(FLAGS_job_scenario),
                               &workload_options.job_scenario)) {
    return Usage("--job_scenario: north_east or national");
  }
  const int preload_jobs = absl::GetFlag(FLAGS_preload_jobs);
  if (preload_jobs < 0) return Usage("--preload_jobs: must be >= 0");

  ClientTlsOptions tls;
  tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  tls.key_file = absl::GetFlag(FLAGS_tls_key);
  tls.server_name = absl::GetFlag(FLAGS_tls_server_name);
  // Separate connections: gRPC would otherwise share one subchannel (one
  // TCP connection) between channels with equal arguments.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < channel_count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("pa_match.loadgen_channel", i);
    // No retry filter (transparent retries): it costs every call measured
    // a few percent of CPU (docs/LOADGEN.md), and a call that fails is
    // reported as an error, not retried.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> created =
        CreateClientChannel(server, tls, args);
    if (!created.ok()) {
      absl::FPrintF(stderr, "pa-match-loadgen: %s\n", created.status().message());
      return 1;
    }
    std::shared_ptr<grpc::Channel> channel = *std::move(created);
    if (!Connect(*channel)) {
      absl::FPrintF(stderr, "pa-match-loadgen: cannot connect to %s\n", server);
      return 1;
    }
    channels.push_back(std::move(channel));
  }

  v1::Matcher::Stub admin(channels.front());
  auto call_context = [&](grpc::ClientContext* context, int seconds) {
    context->AddMetadata("authorization", "Bearer " + key);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(seconds));
  };
  if (match_jobs && workload_options.pa_count == 0) {
    grpc::ClientContext context;
    call_context(&context, 10);
    v1::GetStatsResponse stats;
    const grpc::Status status =
        admin.GetStats(&context, v1::GetStatsRequest(), &stats);
    if (!status.ok() || stats.profiles() == 0) {
      absl::FPrintF(stderr,
                    "pa-match-loadgen: MatchJobs phases need --pa_count "
                    "(GetStats: %s, %d profiles)\n",
                    status.ok() ? "ok" : status.error_message(),
                    stats.profiles());
      return 1;
    }
    workload_options.pa_count = stats.profiles();
  }
  if (preload_jobs > 0) {
    grpc::ClientContext context;
    call_context(&context, 3600);
    v1::BulkUpsertJobsResponse response;
    const auto start = std::chrono::steady_clock::now();
    auto writer = admin.BulkUpsertJobs(&context, &response);
    v1::UpsertJobRequest request;
    for (int i = 0; i < preload_jobs; ++i) {
      *request.mutable_job() =
          bench::StandardJob(workload_options.job_scenario, 42, i,
                             workload_options.now, "job-");
      request.mutable_job()->set_version(0);
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    const double seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start)
                               .count();
    absl::FPrintF(stderr,
                  "pa-match-loadgen: preloaded jobs: %d accepted, %d "
                  "rejected in %.1f s (%s)\n",
                  response.accepted(), response.rejected(), seconds,
                  status.ok() ? "ok" : status.error_message());
    if (!status.ok() || response.accepted() != preload_jobs) {
      for (const auto& item : response.results()) {
        if (!item.error().empty()) {
          absl::FPrintF(stderr, "pa-match-loadgen: first rejected job: %s\n",
                        item.error());
          break;
        }
      }
      return 1;
    }
  }

  RunReport report;
  report.server = server;
  report.started_at =
      absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone());
  report.command_line = command_line;
  report.rounds = rounds;
  Workload workload(workload_options);
  LoadDriver driver(
      channels, key, &workload,
      absl::GetFlag(FLAGS_progress) ? ProgressFn(PrintProgress) : ProgressFn());
  for (const PhaseSpec& spec : phases)
    report.phases.push_back(driver.Run(spec));
  report.writes = workload.Tally();

  absl::PrintF("%s", TextReport(report));
  int status = TotalFailures(report) > 0 ? 3 : 0;
  if (const std::string path = absl::GetFlag(FLAGS_json_out);
      !path.empty() && !WriteFile(path, JsonReport(report))) {
    absl::FPrintF(stderr, "pa-match-loadgen: cannot write %s\n", path);
    status = 1;
  }
  if (const std::string path = absl::GetFlag(FLAGS_html_out);
      !path.empty() && !WriteFile(path, HtmlReport(report))) {
    absl::FPrintF(stderr, "pa-match-loadgen: cannot write %s\n", path);
    status = 1;
  }
  return status;
}

}  // namespace
}  // namespace pamatch::loadgen

int main(int argc, char** argv) {
  pamatch::SetUpProgramHelp(
      "load generator for pa-matchd (docs/LOADGEN.md).\n"
      "  pa-match-loadgen --phases health,search,mixed --concurrency 32 "
      "--channels 4 --duration_s 10 --json_out r.json --html_out r.html");
  std::vector<std::string> words(argv, argv + argc);
  absl::ParseCommandLine(argc, argv);
  // As in pa-matchd (service/server.cc): Debian's Abseil runs its debug
  // deadlock detector on every gRPC lock, a cost (~2% of this process
  // under load, perf) that would be charged to every call measured.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return pamatch::loadgen::Run(absl::StrJoin(words, " "));
}
