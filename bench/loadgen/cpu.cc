#include "bench/loadgen/cpu.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace pamatch::loadgen {

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

CpuSample SampleCpu() {
  CpuSample sample;
  std::ifstream file("/proc/stat");
  if (file) {
    std::stringstream text;
    text << file.rdbuf();
    sample.machine_busy_s = MachineBusySeconds(
        text.str(), static_cast<double>(sysconf(_SC_CLK_TCK)));
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
  return usage;
}

}  // namespace pamatch::loadgen
