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
// Given the server's process (--server_pid, --server_proc), the server's
// own CPU and context switches are sampled too, from its /proc/PID/stat
// and its threads' /proc/PID/task/*/status, at the same moments: the
// server's figure alone, without the kernel's network path or anything
// else running here.
//
// Thread-safe (reads kernel counters only).
#ifndef PA_MATCH_BENCH_LOADGEN_CPU_H_
#define PA_MATCH_BENCH_LOADGEN_CPU_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pamatch::loadgen {

// One process's counters as /proc/PID counts them since it started.
struct ProcessSample {
  double cpu_s = 0;          // utime + stime (stat fields 14, 15)
  uint64_t start_ticks = 0;  // starttime (stat field 22): which process
  // status: voluntary_ctxt_switches, nonvoluntary_ctxt_switches (see
  // SampleProcess: summed over threads).
  int64_t voluntary_switches = 0;
  int64_t involuntary_switches = 0;
};

// The text of a /proc/PID/stat: fills `sample`'s cpu_s (utime + stime in
// ticks of `ticks_per_s`) and start_ticks. The command name (field 2) is
// in parentheses and may itself hold spaces and ')', so the fields are
// counted from the line's last ')'. InvalidArgument if the text is not
// such a line. Any thread.
absl::Status ParseProcPidStat(absl::string_view stat, double ticks_per_s,
                              ProcessSample* sample);
// The text of a /proc/PID/status: fills `sample`'s context switch counts.
// InvalidArgument if either line is missing or not a number. Any thread.
absl::Status ParseProcPidStatus(absl::string_view status,
                                ProcessSample* sample);
// Reads `proc_dir`/stat (proc_dir: "/proc/PID", or any directory holding
// such files) for the whole process's CPU, and the context switches of
// every thread from `proc_dir`/task/*/status, summed (the process's own
// status counts its main thread only), or from `proc_dir`/status when
// there is no task directory. A thread that ends between two samples takes
// its switches with it (its CPU stays in the process's stat). NotFound
// when the process is gone (or the files never existed), InvalidArgument
// when they do not parse. Any thread.
absl::StatusOr<ProcessSample> SampleProcess(const std::string& proc_dir);

struct CpuSample {
  // Busy CPU-seconds of the whole machine since boot; absent when
  // /proc/stat cannot be read or parsed.
  std::optional<double> machine_busy_s;
  double self_s = 0;  // user + system CPU-seconds of this process
  // The server's counters when SampleCpu was given its process, else
  // FailedPrecondition; the error when they could not be read.
  absl::StatusOr<ProcessSample> server =
      absl::FailedPreconditionError("no server process given");
};
// The machine's and this process's CPU, and with a non-empty `server_proc`
// (SampleProcess) the server's, read one right after the other. Any
// thread.
CpuSample SampleCpu(const std::string& server_proc = "");

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
  // The server process's use (its stime and utime, context switches),
  // when the samples were asked for its process (server_watched); absent
  // then if either could not be read or they are of different processes
  // (the pid was reused), with the reason in server_error. Its
  // start_ticks is the later sample's.
  bool server_watched = false;
  std::optional<ProcessSample> server;
  std::string server_error;
};
// Any thread.
CpuUsage CpuBetween(const CpuSample& from, const CpuSample& to,
                    double window_s);

}  // namespace pamatch::loadgen

#endif  // PA_MATCH_BENCH_LOADGEN_CPU_H_
