// The load generator's report: the numbers of every phase, as a text table
// (stdout), JSON (--json_out) and a self-contained HTML page (--html_out,
// html_report.h).
//
// Every figure is over the measured calls of a phase (warm-up excluded):
//   calls   completed calls, ok or failed
//   qps     successful calls per second of measurement (driver.h)
//   p50..max latency of successful calls, milliseconds
//   errors  failed calls by gRPC status code name
//   cpu     CPU microseconds per measured call, the whole machine's and
//           this process's, from the warm-up end to the phase end (cpu.h)
//   server cpu  given the server's process (--server_pid): its own CPU
//           and context switches over the same window, per successful
//           measured call, beside this process's CPU per successful call
// Pure functions of their arguments; thread-compatible.
#ifndef PA_MATCH_BENCH_LOADGEN_REPORT_H_
#define PA_MATCH_BENCH_LOADGEN_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/loadgen/driver.h"
#include "bench/loadgen/recorder.h"
#include "bench/loadgen/workload.h"

namespace pamatch::loadgen {

struct RunReport {
  std::string server;
  std::string started_at;  // RFC 3339, UTC
  std::string command_line;
  // `rounds` repetitions of the phase list, in order (phases.size() is a
  // multiple of rounds).
  std::vector<PhaseResult> phases;
  int rounds = 1;
  Workload::WriteTally writes;
};

// The figures of one group of calls.
struct Summary {
  int64_t calls = 0;
  int64_t ok = 0;
  int64_t failed = 0;
  double qps = 0;
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0,
         max_ms = 0;
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> error_examples;
};

Summary Summarize(const OpStats& stats, double measured_s);

// The merged stats of a phase's operations: every one, searches only, or
// the operations the phase is about (IsPrimaryOp: Health/Check, searches,
// MatchJobs or profile writes).
OpStats AllOps(const PhaseResult& phase);
OpStats SearchOps(const PhaseResult& phase);
OpStats PrimaryOps(const PhaseResult& phase);
// What PrimaryOps holds, for labels: "health", "searches", "match_jobs",
// "profile writes".
std::string PrimaryLabel(PhaseWorkload workload);
// A watch phase's stream figures as one sentence (text and HTML reports).
std::string WatchSentence(const WatchStats& watch, double measured_s);

// CPU microseconds per measured call of `phase` (cpu.h): the machine's
// (absent if /proc/stat was unreadable) and this process's.
struct CpuPerCall {
  std::optional<double> machine_us;
  double self_us = 0;
};
CpuPerCall CpuPerCallOf(const PhaseResult& phase);
// The phase's CPU figures as one sentence (text and HTML reports).
std::string CpuSentence(const PhaseResult& phase);

// Per successful measured call of `phase` (every operation's): the
// server's CPU microseconds and context switches (voluntary plus
// involuntary) from its /proc counters, and this process's (the client's)
// CPU microseconds. Any thread.
struct ServerCpuPerCall {
  bool watched = false;  // the run was given the server's process
  int64_t ok_calls = 0;
  // Absent when not watched, when the server's counters were unavailable
  // (`unavailable` says why) or when no call succeeded.
  std::optional<double> server_us;
  std::optional<double> server_switches;
  std::optional<double> client_us;  // absent when no call succeeded
  std::string unavailable;
};
ServerCpuPerCall ServerCpuPerCallOf(const PhaseResult& phase);
// The phase's server and client CPU per call as one sentence (text and
// HTML reports); empty when the server's process was not given. Any
// thread.
std::string ServerCpuSentence(const PhaseResult& phase);

// Cross-phase ratios of one round (or the medians over rounds, see
// ComputeRatios), present when the round had the phases they compare.
struct Ratios {
  // Search throughput of the round's first search (else mixed) phase over
  // that of its first health phase: the fraction of the transport's no-op
  // rate.
  // Closed loops only (an open loop's throughput is the rate asked for).
  std::optional<double> search_qps_over_health_qps;
  // Machine CPU per call of that search phase over that of the health
  // phase: what a search costs in no-op calls. Compare phases run at the
  // same offered rate (open loop) for a like-for-like figure (cpu.h).
  std::optional<double> search_cpu_over_health_cpu;
  // Server CPU per successful call (--server_pid) of that search phase
  // over that of the health phase: the server's own cost of a search in
  // Health/Check calls (the target: at most 2 on average).
  std::optional<double> search_server_cpu_over_health_server_cpu;
  // The same for every phase of the round but health ones, in phase
  // order, by phase name without the round suffix (".2").
  std::vector<std::pair<std::string, double>> server_cpu_over_health;
  // p99 of searches in the first mixed phase over the first search phase.
  std::optional<double> mixed_search_p99_over_search_p99;
  // MatchJobs throughput of the first match_jobs phase over the search
  // throughput of the first search phase (closed loops): what a PA's jobs
  // cost beside an employer's search.
  std::optional<double> match_jobs_qps_over_search_qps;
  // Profile writes per second of the first watch phase over those of the
  // first writes phase (closed loops): what open Watch streams cost the
  // writes.
  std::optional<double> watch_writes_qps_over_writes_qps;
};
// Each round's ratios (one entry when the run had one round).
std::vector<Ratios> RoundRatios(const RunReport& report);
// With one round, that round's ratios; with several, the median of each
// ratio over the rounds that have it, so one round caught in a noisy spell
// of a shared machine does not make the figure.
Ratios MedianRatios(const std::vector<Ratios>& rounds);
// The run's ratios: MedianRatios(RoundRatios(report)).
Ratios ComputeRatios(const RunReport& report);

// Failed measured calls over all phases.
int64_t TotalFailures(const RunReport& report);

std::string TextReport(const RunReport& report);
std::string JsonReport(const RunReport& report);

// "%.3f" milliseconds from nanoseconds, as every output writes them.
double Ms(uint64_t ns);

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_REPORT_H_
