#include "bench/loadgen/cpu.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pamatch::loadgen {
namespace {

double TicksPerSecond() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

// The whole of a file (a /proc file reports its size as 0, so read to the
// end); NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  return text.str();
}

}  // namespace

absl::Status ParseProcPidStat(absl::string_view stat, double ticks_per_s,
                              ProcessSample* sample) {
  if (ticks_per_s <= 0) {
    return absl::InvalidArgumentError("clock ticks per second unknown");
  }
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == absl::string_view::npos || close == absl::string_view::npos ||
      close < open) {
    return absl::InvalidArgumentError("stat: no command name in parentheses");
  }
  // Field 3 (state) onwards.
  const std::vector<absl::string_view> fields = absl::StrSplit(
      stat.substr(close + 1), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  // Field n is fields[n - 3]: utime 14, stime 15, starttime 22.
  if (fields.size() < 20) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stat: ", fields.size() + 2, " fields, expected at least 22"));
  }
  uint64_t utime = 0, stime = 0, start = 0;
  if (!absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime) ||
      !absl::SimpleAtoi(fields[19], &start)) {
    return absl::InvalidArgumentError(
        "stat: utime, stime or starttime is not a number");
  }
  sample->cpu_s = static_cast<double>(utime + stime) / ticks_per_s;
  sample->start_ticks = start;
  return absl::OkStatus();
}

absl::Status ParseProcPidStatus(absl::string_view status,
                                ProcessSample* sample) {
  bool voluntary = false, involuntary = false;
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    int64_t* target = nullptr;
    if (absl::ConsumePrefix(&line, "voluntary_ctxt_switches:")) {
      target = &sample->voluntary_switches;
      voluntary = true;
    } else if (absl::ConsumePrefix(&line, "nonvoluntary_ctxt_switches:")) {
      target = &sample->involuntary_switches;
      involuntary = true;
    } else {
      continue;
    }
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), target)) {
      return absl::InvalidArgumentError(
          "status: a context switch count is not a number");
    }
  }
  if (!voluntary || !involuntary) {
    return absl::InvalidArgumentError(
        "status: no voluntary_ctxt_switches and nonvoluntary_ctxt_switches");
  }
  return absl::OkStatus();
}

absl::StatusOr<ProcessSample> SampleProcess(const std::string& proc_dir) {
  ProcessSample sample;
  absl::StatusOr<std::string> stat = ReadWhole(proc_dir + "/stat");
  if (!stat.ok()) return stat.status();
  if (absl::Status parsed = ParseProcPidStat(*stat, TicksPerSecond(), &sample);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(proc_dir, "/", parsed.message()));
  }
  // /proc/PID/status counts the main thread's switches only: sum those
  // of every thread (task/TID/status) when there is a task directory.
  std::vector<std::string> status_paths;
  std::error_code error;
  for (std::filesystem::directory_iterator it(proc_dir + "/task", error), end;
       !error && it != end; it.increment(error)) {
    status_paths.push_back(it->path().string() + "/status");
  }
  const bool per_thread = !status_paths.empty();
  if (!per_thread) status_paths.push_back(proc_dir + "/status");
  int read = 0;
  for (const std::string& path : status_paths) {
    absl::StatusOr<std::string> status = ReadWhole(path);
    // A thread may end between the listing and the read.
    if (!status.ok() && per_thread) continue;
    if (!status.ok()) return status.status();
    ProcessSample thread;
    if (absl::Status parsed = ParseProcPidStatus(*status, &thread);
        !parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", parsed.message()));
    }
    sample.voluntary_switches += thread.voluntary_switches;
    sample.involuntary_switches += thread.involuntary_switches;
    ++read;
  }
  if (read == 0) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read the status of any thread in ", proc_dir, "/task"));
  }
  return sample;
}

std::optional<double> MachineBusySeconds(absl::string_view proc_stat,
                                         double ticks_per_s) {
  if (ticks_per_s <= 0) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (!absl::StartsWith(line, "cpu ")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    // "cpu" then user nice system idle iowait irq softirq (then steal,
    // time the hypervisor gave elsewhere, not counted as busy here).
    if (fields.size() < 8) return std::nullopt;
    double busy = 0;
    for (size_t i = 1; i <= 7; ++i) {
      uint64_t ticks = 0;
      if (!absl::SimpleAtoi(fields[i], &ticks)) return std::nullopt;
      if (i == 4 || i == 5) continue;  // idle, iowait
      busy += static_cast<double>(ticks);
    }
    return busy / ticks_per_s;
  }
  return std::nullopt;
}

CpuSample SampleCpu(const std::string& server_proc) {
  CpuSample sample;
  if (!server_proc.empty()) sample.server = SampleProcess(server_proc);
  std::ifstream file("/proc/stat");
  if (file) {
    std::stringstream text;
    text << file.rdbuf();
    sample.machine_busy_s = MachineBusySeconds(text.str(), TicksPerSecond());
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
    };
    sample.self_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  }
  return sample;
}

CpuUsage CpuBetween(const CpuSample& from, const CpuSample& to,
                    double window_s) {
  CpuUsage usage;
  usage.window_s = window_s;
  usage.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (from.machine_busy_s.has_value() && to.machine_busy_s.has_value()) {
    usage.machine_busy_s = *to.machine_busy_s - *from.machine_busy_s;
  }
  usage.self_s = to.self_s - from.self_s;
  const auto unwatched = [](const CpuSample& sample) {
    return sample.server.status().code() ==
           absl::StatusCode::kFailedPrecondition;
  };
  usage.server_watched = !unwatched(from) || !unwatched(to);
  if (!usage.server_watched) return usage;
  if (!from.server.ok() || !to.server.ok()) {
    usage.server_error = std::string(
        (!from.server.ok() ? from.server : to.server).status().message());
    return usage;
  }
  if (from.server->start_ticks != to.server->start_ticks ||
      to.server->cpu_s < from.server->cpu_s) {
    usage.server_error =
        "the server process was replaced during the phase (its pid now "
        "belongs to a process started later)";
    return usage;
  }
  ProcessSample used;
  used.cpu_s = to.server->cpu_s - from.server->cpu_s;
  used.start_ticks = to.server->start_ticks;
  // Threads that ended took their counts with them (SampleProcess): never
  // below zero.
  used.voluntary_switches = std::max<int64_t>(
      0, to.server->voluntary_switches - from.server->voluntary_switches);
  used.involuntary_switches = std::max<int64_t>(
      0, to.server->involuntary_switches - from.server->involuntary_switches);
  usage.server = used;
  return usage;
}

}  // namespace pamatch::loadgen
