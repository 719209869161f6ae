#include "bench/loadgen/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "bench/quantile.h"

namespace pamatch::loadgen {
namespace {

const char* ModeName(LoopMode mode) {
  return mode == LoopMode::kClosed ? "closed" : "open";
}

const PhaseResult* FirstPhase(absl::Span<const PhaseResult> phases,
                              PhaseWorkload kind) {
  for (const PhaseResult& phase : phases) {
    if (phase.spec.workload == kind) return &phase;
  }
  return nullptr;
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A finite number for JSON (NaN and infinities are not JSON).
std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

std::string OptionalNumber(const std::optional<double>& value) {
  return value.has_value() ? JsonNumber(*value) : std::string("null");
}

std::string JsonSummary(const Summary& s) {
  std::vector<std::string> errors, examples;
  for (const auto& [code, count] : s.errors) {
    errors.push_back(absl::StrCat(JsonString(code), ":", count));
  }
  for (const auto& [code, message] : s.error_examples) {
    examples.push_back(
        absl::StrCat(JsonString(code), ":", JsonString(message)));
  }
  return absl::StrFormat(
      "{\"calls\":%d,\"ok\":%d,\"failed\":%d,\"qps\":%s,\"mean_ms\":%s,"
      "\"p50_ms\":%s,\"p90_ms\":%s,\"p99_ms\":%s,\"p999_ms\":%s,"
      "\"max_ms\":%s,\"errors\":{%s},\"error_examples\":{%s}}",
      s.calls, s.ok, s.failed, JsonNumber(s.qps), JsonNumber(s.mean_ms),
      JsonNumber(s.p50_ms), JsonNumber(s.p90_ms), JsonNumber(s.p99_ms),
      JsonNumber(s.p999_ms), JsonNumber(s.max_ms), absl::StrJoin(errors, ","),
      absl::StrJoin(examples, ","));
}

std::string JsonPhase(const PhaseResult& phase) {
  std::vector<std::string> ops;
  for (int op = 0; op < OpCount(); ++op) {
    const OpStats& stats = phase.ops[op];
    if (stats.ok() + stats.failed() == 0) continue;
    ops.push_back(
        absl::StrCat(JsonString(OpNames()[op]), ":",
                     JsonSummary(Summarize(stats, phase.measured_s))));
  }
  std::vector<std::string> series;
  for (const SecondSample& s : phase.series) {
    series.push_back(absl::StrFormat(
        "{\"start_s\":%s,\"end_s\":%s,\"warmup\":%s,\"calls\":%d,\"errors\":%d,"
        "\"p50_ms\":%s,\"p90_ms\":%s,\"p99_ms\":%s,\"max_ms\":%s}",
        JsonNumber(s.start_s), JsonNumber(s.end_s), s.warmup ? "true" : "false",
        s.calls, s.errors, JsonNumber(Ms(s.p50_ns)), JsonNumber(Ms(s.p90_ns)),
        JsonNumber(Ms(s.p99_ns)), JsonNumber(Ms(s.max_ns))));
  }
  const PhaseSpec& spec = phase.spec;
  const CpuPerCall per_call = CpuPerCallOf(phase);
  const ServerCpuPerCall server = ServerCpuPerCallOf(phase);
  const std::optional<ProcessSample>& used = phase.cpu.server;
  const std::string cpu = absl::StrFormat(
      "{\"window_s\":%s,\"cpus\":%d,\"machine_busy_s\":%s,\"self_s\":%s,"
      "\"machine_us_per_call\":%s,\"self_us_per_call\":%s,"
      "\"server_watched\":%s,\"server_cpu_s\":%s,"
      "\"server_voluntary_switches\":%s,"
      "\"server_involuntary_switches\":%s,\"ok_calls\":%d,"
      "\"server_us_per_ok_call\":%s,\"server_switches_per_ok_call\":%s,"
      "\"client_us_per_ok_call\":%s,\"server_unavailable\":%s}",
      JsonNumber(phase.cpu.window_s), phase.cpu.cpus,
      phase.cpu.machine_busy_s.has_value()
          ? JsonNumber(*phase.cpu.machine_busy_s)
          : "null",
      JsonNumber(phase.cpu.self_s),
      per_call.machine_us.has_value() ? JsonNumber(*per_call.machine_us)
                                      : "null",
      JsonNumber(per_call.self_us), server.watched ? "true" : "false",
      OptionalNumber(used.has_value() ? std::optional<double>(used->cpu_s)
                                      : std::nullopt),
      OptionalNumber(used.has_value()
                         ? std::optional<double>(
                               static_cast<double>(used->voluntary_switches))
                         : std::nullopt),
      OptionalNumber(used.has_value()
                         ? std::optional<double>(
                               static_cast<double>(used->involuntary_switches))
                         : std::nullopt),
      server.ok_calls, OptionalNumber(server.server_us),
      OptionalNumber(server.server_switches), OptionalNumber(server.client_us),
      server.unavailable.empty() ? std::string("null")
                                 : JsonString(server.unavailable));
  std::string send_lag = "null";
  if (spec.mode == LoopMode::kOpen) {
    send_lag =
        absl::StrFormat("{\"p50_ms\":%s,\"p99_ms\":%s,\"max_ms\":%s}",
                        JsonNumber(Ms(phase.send_lag.ValueAtQuantile(0.5))),
                        JsonNumber(Ms(phase.send_lag.ValueAtQuantile(0.99))),
                        JsonNumber(Ms(phase.send_lag.max_ns())));
  }
  std::string watch = "null";
  if (phase.watch.has_value()) {
    const WatchStats& w = *phase.watch;
    std::vector<std::string> errors;
    for (const auto& [code, count] : w.errors) {
      errors.push_back(absl::StrCat(JsonString(code), ":", count));
    }
    watch = absl::StrFormat(
        "{\"streams\":%d,\"events\":%d,\"measured_events\":%d,"
        "\"events_per_s\":%s,\"match_started\":%d,\"match_ended\":%d,"
        "\"heartbeats\":%d,\"out_of_order\":%d,\"delay_p50_ms\":%s,"
        "\"delay_p99_ms\":%s,\"delay_max_ms\":%s,\"errors\":{%s}}",
        w.streams, w.events, w.measured_events,
        JsonNumber(phase.measured_s > 0 ? w.measured_events / phase.measured_s
                                        : 0),
        w.started, w.ended, w.heartbeats, w.out_of_order,
        JsonNumber(Ms(w.delay.ValueAtQuantile(0.5))),
        JsonNumber(Ms(w.delay.ValueAtQuantile(0.99))),
        JsonNumber(Ms(w.delay.max_ns())), absl::StrJoin(errors, ","));
  }
  return absl::StrFormat(
      "{\"name\":%s,\"workload\":%s,\"mode\":%s,\"concurrency\":%d,"
      "\"rate_per_s\":%s,\"channels\":%d,\"warmup_s\":%s,\"duration_s\":%s,"
      "\"measured_s\":%s,\"totals\":%s,\"searches\":%s,\"primary\":%s,"
      "\"ops\":{%s},\"send_lag\":%s,\"cpu\":%s,\"watch\":%s,"
      "\"series\":[%s]}",
      JsonString(spec.name), JsonString(PhaseWorkloadName(spec.workload)),
      JsonString(ModeName(spec.mode)),
      spec.mode == LoopMode::kClosed ? spec.concurrency : 0,
      JsonNumber(spec.mode == LoopMode::kOpen ? spec.rate_per_s : 0),
      phase.channels, JsonNumber(absl::ToDoubleSeconds(spec.warmup)),
      JsonNumber(absl::ToDoubleSeconds(spec.duration)),
      JsonNumber(phase.measured_s),
      JsonSummary(Summarize(AllOps(phase), phase.measured_s)),
      JsonSummary(Summarize(SearchOps(phase), phase.measured_s)),
      JsonSummary(Summarize(PrimaryOps(phase), phase.measured_s)),
      absl::StrJoin(ops, ","), send_lag, cpu, watch,
      absl::StrJoin(series, ","));
}

std::string TextRow(absl::string_view name, const Summary& s) {
  std::vector<std::string> errors;
  for (const auto& [code, count] : s.errors) {
    errors.push_back(absl::StrCat(code, "=", count));
  }
  return absl::StrFormat(
      "  %-13s %9d %10.1f %8.3f %8.3f %8.3f %8.3f %9.3f  %s\n", name, s.calls,
      s.qps, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms,
      errors.empty() ? "-" : absl::StrJoin(errors, " "));
}

}  // namespace

double Ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

Summary Summarize(const OpStats& stats, double measured_s) {
  Summary s;
  s.ok = stats.ok();
  s.failed = stats.failed();
  s.calls = s.ok + s.failed;
  s.qps = measured_s > 0 ? s.ok / measured_s : 0;
  const LatencyHistogram& h = stats.latency;
  s.mean_ms = h.mean_ns() / 1e6;
  s.p50_ms = Ms(h.ValueAtQuantile(0.50));
  s.p90_ms = Ms(h.ValueAtQuantile(0.90));
  s.p99_ms = Ms(h.ValueAtQuantile(0.99));
  s.p999_ms = Ms(h.ValueAtQuantile(0.999));
  s.max_ms = Ms(h.max_ns());
  s.errors = stats.errors;
  s.error_examples = stats.error_examples;
  return s;
}

OpStats AllOps(const PhaseResult& phase) {
  OpStats all;
  for (const OpStats& stats : phase.ops) all.Merge(stats);
  return all;
}

OpStats SearchOps(const PhaseResult& phase) {
  OpStats searches;
  for (int op = 0; op < OpCount(); ++op) {
    if (IsSearchOp(op)) searches.Merge(phase.ops[op]);
  }
  return searches;
}

OpStats PrimaryOps(const PhaseResult& phase) {
  OpStats primary;
  for (int op = 0; op < OpCount(); ++op) {
    if (IsPrimaryOp(phase.spec.workload, op)) primary.Merge(phase.ops[op]);
  }
  return primary;
}

std::string PrimaryLabel(PhaseWorkload workload) {
  switch (workload) {
    case PhaseWorkload::kHealth:
      return "health";
    case PhaseWorkload::kSearch:
    case PhaseWorkload::kMixed:
      return "searches";
    case PhaseWorkload::kMatchJobs:
    case PhaseWorkload::kJobs:
      return "match_jobs";
    case PhaseWorkload::kWrites:
    case PhaseWorkload::kWatch:
      return "profile writes";
  }
  return "?";
}

std::string WatchSentence(const WatchStats& w, double measured_s) {
  std::string errors;
  for (const auto& [code, count] : w.errors) {
    absl::StrAppendFormat(&errors, " %s=%d", code, count);
  }
  return absl::StrFormat(
      "%d Watch streams: %d events received (%d MATCH_STARTED, %d "
      "MATCH_ENDED; %d heartbeats), %d in the measured window (%.1f/s), "
      "delivery delay p50 %.3f ms p99 %.3f ms max %.3f ms, %d out of "
      "order, streams failed:%s",
      w.streams, w.events, w.started, w.ended, w.heartbeats,
      w.measured_events, measured_s > 0 ? w.measured_events / measured_s : 0,
      Ms(w.delay.ValueAtQuantile(0.5)), Ms(w.delay.ValueAtQuantile(0.99)),
      Ms(w.delay.max_ns()), w.out_of_order, errors.empty() ? " none" : errors);
}

CpuPerCall CpuPerCallOf(const PhaseResult& phase) {
  CpuPerCall per_call;
  const OpStats all = AllOps(phase);
  const int64_t calls = all.ok() + all.failed();
  if (calls <= 0) return per_call;
  if (phase.cpu.machine_busy_s.has_value()) {
    per_call.machine_us = *phase.cpu.machine_busy_s * 1e6 / calls;
  }
  per_call.self_us = phase.cpu.self_s * 1e6 / calls;
  return per_call;
}

std::string CpuSentence(const PhaseResult& phase) {
  const CpuPerCall per_call = CpuPerCallOf(phase);
  if (!per_call.machine_us.has_value()) {
    return absl::StrFormat(
        "this process %.1f us per call (machine unknown: /proc/stat "
        "unreadable)",
        per_call.self_us);
  }
  return absl::StrFormat(
      "%.2f of %d CPUs busy on this machine, %.1f us per call (this process "
      "%.1f us)",
      *phase.cpu.machine_busy_s / std::max(1e-9, phase.cpu.window_s),
      phase.cpu.cpus, *per_call.machine_us, per_call.self_us);
}

ServerCpuPerCall ServerCpuPerCallOf(const PhaseResult& phase) {
  ServerCpuPerCall per_call;
  per_call.watched = phase.cpu.server_watched;
  per_call.ok_calls = AllOps(phase).ok();
  if (per_call.watched && !phase.cpu.server.has_value()) {
    per_call.unavailable = phase.cpu.server_error.empty()
                               ? std::string("server counters unreadable")
                               : phase.cpu.server_error;
  }
  if (per_call.ok_calls <= 0) return per_call;
  const double calls = static_cast<double>(per_call.ok_calls);
  per_call.client_us = phase.cpu.self_s * 1e6 / calls;
  if (phase.cpu.server.has_value()) {
    const ProcessSample& used = *phase.cpu.server;
    per_call.server_us = used.cpu_s * 1e6 / calls;
    per_call.server_switches = static_cast<double>(used.voluntary_switches +
                                                   used.involuntary_switches) /
                               calls;
  }
  return per_call;
}

std::string ServerCpuSentence(const PhaseResult& phase) {
  const ServerCpuPerCall per_call = ServerCpuPerCallOf(phase);
  if (!per_call.watched) return "";
  if (!per_call.unavailable.empty()) {
    return absl::StrCat("unavailable (", per_call.unavailable, ")");
  }
  const ProcessSample& used = *phase.cpu.server;
  const std::string window = absl::StrFormat(
      "%.3f s, %.2f of a CPU; %d voluntary + %d involuntary switches",
      used.cpu_s, used.cpu_s / std::max(1e-9, phase.cpu.window_s),
      used.voluntary_switches, used.involuntary_switches);
  if (!per_call.server_us.has_value()) {
    return absl::StrCat(window, "; no successful call to divide them by");
  }
  return absl::StrFormat(
      "%.1f us per successful call, %.2f context switches per call (over "
      "%d calls: %s); client (this process) %.1f us per call",
      *per_call.server_us, *per_call.server_switches, per_call.ok_calls, window,
      *per_call.client_us);
}

namespace {

// A phase's name without the round suffix RunReport's phases carry with
// several rounds ("search.2" -> "search").
std::string BaseName(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) return name;
  for (size_t i = dot + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return name;
  }
  return name.substr(0, dot);
}

// The ratios of one round's phases.
Ratios RatiosOf(absl::Span<const PhaseResult> phases) {
  Ratios ratios;
  const PhaseResult* health = FirstPhase(phases, PhaseWorkload::kHealth);
  const PhaseResult* search = FirstPhase(phases, PhaseWorkload::kSearch);
  const PhaseResult* mixed = FirstPhase(phases, PhaseWorkload::kMixed);
  const PhaseResult* searching = search != nullptr ? search : mixed;
  if (health != nullptr && searching != nullptr &&
      health->spec.mode == LoopMode::kClosed &&
      searching->spec.mode == LoopMode::kClosed) {
    const double health_qps =
        Summarize(AllOps(*health), health->measured_s).qps;
    const double search_qps =
        Summarize(SearchOps(*searching), searching->measured_s).qps;
    if (health_qps > 0)
      ratios.search_qps_over_health_qps = search_qps / health_qps;
  }
  if (health != nullptr && searching != nullptr) {
    const std::optional<double> health_cpu = CpuPerCallOf(*health).machine_us;
    const std::optional<double> search_cpu =
        CpuPerCallOf(*searching).machine_us;
    if (health_cpu.has_value() && search_cpu.has_value() && *health_cpu > 0) {
      ratios.search_cpu_over_health_cpu = *search_cpu / *health_cpu;
    }
  }
  if (health != nullptr) {
    const std::optional<double> health_server =
        ServerCpuPerCallOf(*health).server_us;
    if (health_server.has_value() && *health_server > 0) {
      for (const PhaseResult& phase : phases) {
        if (phase.spec.workload == PhaseWorkload::kHealth) continue;
        const std::optional<double> server =
            ServerCpuPerCallOf(phase).server_us;
        if (!server.has_value()) continue;
        ratios.server_cpu_over_health.emplace_back(BaseName(phase.spec.name),
                                                   *server / *health_server);
        if (&phase == searching) {
          ratios.search_server_cpu_over_health_server_cpu =
              *server / *health_server;
        }
      }
    }
  }
  if (search != nullptr && mixed != nullptr) {
    const double read_only = Summarize(SearchOps(*search), 1).p99_ms;
    const double with_writes = Summarize(SearchOps(*mixed), 1).p99_ms;
    if (read_only > 0) {
      ratios.mixed_search_p99_over_search_p99 = with_writes / read_only;
    }
  }
  // Closed-loop throughputs of the phases' primary operations.
  auto closed_qps = [](const PhaseResult* phase) -> std::optional<double> {
    if (phase == nullptr || phase->spec.mode != LoopMode::kClosed) {
      return std::nullopt;
    }
    return Summarize(PrimaryOps(*phase), phase->measured_s).qps;
  };
  const std::optional<double> search_qps = closed_qps(search);
  const std::optional<double> match_jobs_qps =
      closed_qps(FirstPhase(phases, PhaseWorkload::kMatchJobs));
  if (search_qps.has_value() && match_jobs_qps.has_value() &&
      *search_qps > 0) {
    ratios.match_jobs_qps_over_search_qps = *match_jobs_qps / *search_qps;
  }
  const std::optional<double> writes_qps =
      closed_qps(FirstPhase(phases, PhaseWorkload::kWrites));
  const std::optional<double> watch_qps =
      closed_qps(FirstPhase(phases, PhaseWorkload::kWatch));
  if (writes_qps.has_value() && watch_qps.has_value() && *writes_qps > 0) {
    ratios.watch_writes_qps_over_writes_qps = *watch_qps / *writes_qps;
  }
  return ratios;
}

}  // namespace

std::vector<Ratios> RoundRatios(const RunReport& report) {
  const size_t rounds = static_cast<size_t>(std::max(1, report.rounds));
  const size_t per_round = report.phases.size() / rounds;
  std::vector<Ratios> out;
  for (size_t r = 0; r < rounds; ++r) {
    out.push_back(RatiosOf(absl::MakeConstSpan(report.phases)
                               .subspan(r * per_round, per_round)));
  }
  return out;
}

Ratios MedianRatios(const std::vector<Ratios>& rounds) {
  if (rounds.size() == 1) return rounds.front();
  auto median_of = [&](std::optional<double> Ratios::*field) {
    std::vector<double> values;
    for (const Ratios& r : rounds) {
      if ((r.*field).has_value()) values.push_back(*(r.*field));
    }
    return bench::Median(std::move(values));
  };
  Ratios ratios;
  ratios.search_qps_over_health_qps =
      median_of(&Ratios::search_qps_over_health_qps);
  ratios.search_cpu_over_health_cpu =
      median_of(&Ratios::search_cpu_over_health_cpu);
  ratios.search_server_cpu_over_health_server_cpu =
      median_of(&Ratios::search_server_cpu_over_health_server_cpu);
  // Per phase name, in the order the names first appear.
  std::vector<std::string> names;
  std::map<std::string, std::vector<double>> values;
  for (const Ratios& r : rounds) {
    for (const auto& [name, value] : r.server_cpu_over_health) {
      if (values.find(name) == values.end()) names.push_back(name);
      values[name].push_back(value);
    }
  }
  for (const std::string& name : names) {
    const std::optional<double> median = bench::Median(std::move(values[name]));
    if (median.has_value()) {
      ratios.server_cpu_over_health.emplace_back(name, *median);
    }
  }
  ratios.mixed_search_p99_over_search_p99 =
      median_of(&Ratios::mixed_search_p99_over_search_p99);
  ratios.match_jobs_qps_over_search_qps =
      median_of(&Ratios::match_jobs_qps_over_search_qps);
  ratios.watch_writes_qps_over_writes_qps =
      median_of(&Ratios::watch_writes_qps_over_writes_qps);
  return ratios;
}

Ratios ComputeRatios(const RunReport& report) {
  return MedianRatios(RoundRatios(report));
}

int64_t TotalFailures(const RunReport& report) {
  int64_t failed = 0;
  for (const PhaseResult& phase : report.phases)
    failed += AllOps(phase).failed();
  return failed;
}

std::string TextReport(const RunReport& report) {
  std::string out = absl::StrFormat("pa-match-loadgen: %s, started %s\n",
                                    report.server, report.started_at);
  for (const PhaseResult& phase : report.phases) {
    const PhaseSpec& spec = phase.spec;
    absl::StrAppendFormat(
        &out,
        "\nphase %s (%s, %s loop, %s, %d channels, warm-up %gs, "
        "measured %.2fs)\n",
        spec.name, PhaseWorkloadName(spec.workload), ModeName(spec.mode),
        spec.mode == LoopMode::kClosed
            ? absl::StrFormat("%d concurrent", spec.concurrency)
            : absl::StrFormat("%g calls/s", spec.rate_per_s),
        phase.channels, absl::ToDoubleSeconds(spec.warmup), phase.measured_s);
    absl::StrAppendFormat(&out, "  %-13s %9s %10s %8s %8s %8s %8s %9s  %s\n",
                          "op", "calls", "qps", "p50_ms", "p90_ms", "p99_ms",
                          "p99.9_ms", "max_ms", "errors");
    for (int op = 0; op < OpCount(); ++op) {
      const OpStats& stats = phase.ops[op];
      if (stats.ok() + stats.failed() == 0) continue;
      out += TextRow(OpNames()[op], Summarize(stats, phase.measured_s));
    }
    if (spec.workload == PhaseWorkload::kSearch ||
        spec.workload == PhaseWorkload::kMixed) {
      out +=
          TextRow("(searches)", Summarize(SearchOps(phase), phase.measured_s));
    }
    out += TextRow("(all)", Summarize(AllOps(phase), phase.measured_s));
    if (phase.watch.has_value()) {
      absl::StrAppend(&out, "  watch: ",
                      WatchSentence(*phase.watch, phase.measured_s), "\n");
    }
    if (spec.mode == LoopMode::kOpen) {
      absl::StrAppendFormat(
          &out,
          "  send lag behind schedule: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
          Ms(phase.send_lag.ValueAtQuantile(0.5)),
          Ms(phase.send_lag.ValueAtQuantile(0.99)),
          Ms(phase.send_lag.max_ns()));
    }
    absl::StrAppend(&out, "  cpu: ", CpuSentence(phase), "\n");
    if (const std::string server = ServerCpuSentence(phase); !server.empty()) {
      absl::StrAppend(&out, "  server cpu: ", server, "\n");
    }
    for (const auto& [code, message] : AllOps(phase).error_examples) {
      absl::StrAppendFormat(&out, "  first %s: %s\n", code, message);
    }
  }
  const Workload::WriteTally& w = report.writes;
  if (w.upserts_ok + w.deletes_ok > 0) {
    absl::StrAppendFormat(&out,
                          "\nwrites: %d upserts ok, %d deletes ok, %d ids of "
                          "this run still live\n",
                          w.upserts_ok, w.deletes_ok, w.live_ids);
  }
  if (w.job_upserts_ok + w.job_deletes_ok > 0) {
    absl::StrAppendFormat(&out,
                          "job writes: %d upserts ok, %d deletes ok, %d job "
                          "ids of this run still live\n",
                          w.job_upserts_ok, w.job_deletes_ok, w.live_job_ids);
  }
  const std::vector<Ratios> rounds = RoundRatios(report);
  const Ratios ratios = MedianRatios(rounds);
  // With several rounds: the median, then every round's value.
  auto by_round = [&](std::optional<double> Ratios::*field) -> std::string {
    if (rounds.size() < 2) return "";
    std::vector<std::string> values;
    for (const Ratios& r : rounds) {
      values.push_back((r.*field).has_value()
                           ? absl::StrFormat("%.3f", *(r.*field))
                           : std::string("-"));
    }
    return absl::StrFormat(" [median of %d rounds: %s]", rounds.size(),
                           absl::StrJoin(values, ", "));
  };
  if (ratios.search_qps_over_health_qps.has_value()) {
    absl::StrAppendFormat(&out,
                          "search qps / health qps: %.3f (target >= 0.5)%s\n",
                          *ratios.search_qps_over_health_qps,
                          by_round(&Ratios::search_qps_over_health_qps));
  }
  if (ratios.search_cpu_over_health_cpu.has_value()) {
    absl::StrAppendFormat(&out,
                          "machine cpu per search / per health call: %.3f%s\n",
                          *ratios.search_cpu_over_health_cpu,
                          by_round(&Ratios::search_cpu_over_health_cpu));
  }
  if (ratios.search_server_cpu_over_health_server_cpu.has_value()) {
    absl::StrAppendFormat(
        &out, "server cpu per search / per health call: %.3f (target <= 2)%s\n",
        *ratios.search_server_cpu_over_health_server_cpu,
        by_round(&Ratios::search_server_cpu_over_health_server_cpu));
  }
  for (const auto& [name, ratio] : ratios.server_cpu_over_health) {
    absl::StrAppendFormat(
        &out, "%s: %.2fx Health/Check's server CPU per call%s\n", name, ratio,
        rounds.size() > 1 ? " (median of the rounds)" : "");
  }
  // Asked for (a health phase, another phase, the server's process) but
  // not computable: say so rather than leave the line out.
  const bool server_watched = std::any_of(
      report.phases.begin(), report.phases.end(),
      [](const PhaseResult& phase) { return phase.cpu.server_watched; });
  const bool beside_health =
      FirstPhase(report.phases, PhaseWorkload::kHealth) != nullptr &&
      std::any_of(report.phases.begin(), report.phases.end(),
                  [](const PhaseResult& phase) {
                    return phase.spec.workload != PhaseWorkload::kHealth;
                  });
  if (ratios.server_cpu_over_health.empty() && server_watched &&
      beside_health) {
    out +=
        "server cpu per call / Health/Check's: unavailable (see each "
        "phase's server cpu line)\n";
  }
  if (ratios.mixed_search_p99_over_search_p99.has_value()) {
    absl::StrAppendFormat(
        &out,
        "mixed search p99 / read-only search p99: %.3f (target <= 2)%s\n",
        *ratios.mixed_search_p99_over_search_p99,
        by_round(&Ratios::mixed_search_p99_over_search_p99));
  }
  if (ratios.match_jobs_qps_over_search_qps.has_value()) {
    absl::StrAppendFormat(&out, "match_jobs qps / search qps: %.3f%s\n",
                          *ratios.match_jobs_qps_over_search_qps,
                          by_round(&Ratios::match_jobs_qps_over_search_qps));
  }
  if (ratios.watch_writes_qps_over_writes_qps.has_value()) {
    absl::StrAppendFormat(
        &out, "profile writes/s with watchers / without: %.3f%s\n",
        *ratios.watch_writes_qps_over_writes_qps,
        by_round(&Ratios::watch_writes_qps_over_writes_qps));
  }
  return out;
}

std::string JsonReport(const RunReport& report) {
  std::vector<std::string> phases;
  for (const PhaseResult& phase : report.phases) {
    phases.push_back(JsonPhase(phase));
  }
  auto json_ratios = [](const Ratios& ratios) {
    auto number = [](const std::optional<double>& value) {
      return value.has_value() ? JsonNumber(*value) : std::string("null");
    };
    std::vector<std::string> per_phase;
    for (const auto& [name, ratio] : ratios.server_cpu_over_health) {
      per_phase.push_back(
          absl::StrCat(JsonString(name), ":", JsonNumber(ratio)));
    }
    return absl::StrFormat(
        "{\"search_qps_over_health_qps\":%s,"
        "\"search_cpu_over_health_cpu\":%s,"
        "\"search_server_cpu_over_health_server_cpu\":%s,"
        "\"server_cpu_over_health\":{%s},"
        "\"mixed_search_p99_over_search_p99\":%s,"
        "\"match_jobs_qps_over_search_qps\":%s,"
        "\"watch_writes_qps_over_writes_qps\":%s}",
        number(ratios.search_qps_over_health_qps),
        number(ratios.search_cpu_over_health_cpu),
        number(ratios.search_server_cpu_over_health_server_cpu),
        absl::StrJoin(per_phase, ","),
        number(ratios.mixed_search_p99_over_search_p99),
        number(ratios.match_jobs_qps_over_search_qps),
        number(ratios.watch_writes_qps_over_writes_qps));
  };
  const std::vector<Ratios> round_ratios = RoundRatios(report);
  std::vector<std::string> rounds;
  for (const Ratios& r : round_ratios) rounds.push_back(json_ratios(r));
  const Workload::WriteTally& w = report.writes;
  return absl::StrFormat(
      "{\"tool\":\"pa-match-loadgen\",\"server\":%s,\"started_at\":%s,"
      "\"command_line\":%s,\"rounds\":%d,\"phases\":[%s],"
      "\"writes\":{\"upserts_ok\":%d,\"deletes_ok\":%d,\"live_ids\":%d,"
      "\"sample_live_id\":%s,\"sample_deleted_id\":%s,"
      "\"job_upserts_ok\":%d,\"job_deletes_ok\":%d,\"live_job_ids\":%d},"
      "\"ratios\":%s,\"ratios_by_round\":[%s],\"failed_calls\":%d}\n",
      JsonString(report.server), JsonString(report.started_at),
      JsonString(report.command_line), report.rounds,
      absl::StrJoin(phases, ","), w.upserts_ok, w.deletes_ok, w.live_ids,
      JsonString(w.sample_live_id), JsonString(w.sample_deleted_id),
      w.job_upserts_ok, w.job_deletes_ok, w.live_job_ids, json_ratios(MedianRatios(round_ratios)), absl::StrJoin(rounds, ","),
      TotalFailures(report));
}

}  // namespace pamatch::loadgen
