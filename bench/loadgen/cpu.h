// CPU time as the kernel counts it, so a phase can say what one call cost
// in CPU (not only how many calls a second went through): the whole
// machine's busy time (/proc/stat: user, nice, system, irq and softirq,
// over all CPUs) and this process's own (getrusage). With pa-matchd on the
// same machine, machine minus this process is the server and the kernel's
// network path; with the server elsewhere, the machine figure covers only
// this side.
//
// Closed-loop throughput alone can mislead when comparing calls: a gRPC
// call's CPU cost depends on the call rate (at a high rate each wakeup
// serves several calls), so a cheap call run flat out looks cheaper per
// call than at the rate a costlier call reaches. CPU per call at the same
// offered rate (open loop) compares like with like.
//
// Thread-safe (reads kernel counters only).
#ifndef PA_MATCH_BENCH_LOADGEN_CPU_H_
#define PA_MATCH_BENCH_LOADGEN_CPU_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace pamatch::loadgen {

struct CpuSample {
  // Busy CPU-seconds of the whole machine since boot; absent when
  // /proc/stat cannot be read or parsed.
  std::optional<double> machine_busy_s;
  double self_s = 0;  // user + system CPU-seconds of this process
};
CpuSample SampleCpu();

// The busy CPU-seconds in the aggregate "cpu " line of a /proc/stat text
// (user nice system idle iowait irq softirq steal ...): user + nice +
// system + irq + softirq (guest time is already inside user and nice),
// counted in ticks of `ticks_per_s`.
std::optional<double> MachineBusySeconds(absl::string_view proc_stat,
                                         double ticks_per_s);

// The CPU used between two samples over a window of wall time.
struct CpuUsage {
  double window_s = 0;
  int cpus = 0;                         // online CPUs of the machine
  std::optional<double> machine_busy_s;  // absent if either sample lacks it
  double self_s = 0;
};
CpuUsage CpuBetween(const CpuSample& from, const CpuSample& to,
                    double window_s);

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_CPU_H_
