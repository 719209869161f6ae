// The load generator's CPU accounting (bench/loadgen/cpu.h): parsing
// /proc/stat, /proc/PID/stat and /proc/PID/status, and samples of this
// real process, a real child process and the machine.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/cpu.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch::loadgen {
namespace {

TEST(LoadgenCpuTest, BusyIsUserNiceSystemIrqSoftirqNotIdleIowaitOrSteal) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const char* stat =
      "cpu  100 5 50 1000 20 3 2 7 40 0\n"
      "cpu0 60 5 30 500 10 2 1 4 20 0\n"
      "intr 12345 0 0\n";
  const auto busy = MachineBusySeconds(stat, 100);
  ASSERT_TRUE(busy.has_value());
  EXPECT_DOUBLE_EQ(*busy, (100 + 5 + 50 + 3 + 2) / 100.0);
  // Older kernels end the line after softirq.
  EXPECT_DOUBLE_EQ(*MachineBusySeconds("cpu 10 0 10 50 0 0 0\n", 10), 2.0);
}

TEST(LoadgenCpuTest, UnreadableStatIsUnknownNotZero) {
  EXPECT_FALSE(MachineBusySeconds("", 100).has_value());
  EXPECT_FALSE(MachineBusySeconds("cpu0 1 2 3 4 5 6 7\n", 100).has_value());
  EXPECT_FALSE(MachineBusySeconds("cpu  1 2 3 4 5 6\n", 100).has_value());
  EXPECT_FALSE(MachineBusySeconds("cpu  1 2 x 4 5 6 7\n", 100).has_value());
  EXPECT_FALSE(MachineBusySeconds("cpu  1 2 3 4 5 6 7\n", 0).has_value());
}

TEST(LoadgenCpuTest, SamplesSeeThisProcessBurnCpu) {
  const CpuSample from = SampleCpu();
  // About 0.2 s of CPU in this thread.
  volatile double sink = 0;
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < until) sink = sink + std::sqrt(2.0);
  const CpuSample to = SampleCpu();
  const CpuUsage usage = CpuBetween(from, to, 0.2);
  EXPECT_GE(usage.cpus, 1);
  EXPECT_DOUBLE_EQ(usage.window_s, 0.2);
  // A shared machine may have given this thread less than the whole
  // window, but not nothing; getrusage counts microseconds.
  EXPECT_GT(usage.self_s, 0.02);
  EXPECT_LT(usage.self_s, 1.0);
  ASSERT_TRUE(usage.machine_busy_s.has_value()) << "Linux has /proc/stat";
  // The machine was at least as busy as this process (kernel ticks are
  // coarser, hence the slack), and no busier than all its CPUs.
  EXPECT_GT(*usage.machine_busy_s, usage.self_s - 0.05);
  EXPECT_LT(*usage.machine_busy_s, usage.cpus * 1.0 + 0.05);
}

// A /proc/PID/stat line of a process whose command name holds spaces and
// ')': utime 1234 and stime 567 ticks, starttime 987654.
constexpr char kTrickyStat[] =
    "4242 (a) b ) (c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 1234 567 0 0 "
    "20 0 9 0 987654 123456789 1000 18446744073709551615 1 1 0 0 0 0 0 "
    "4096 0 0 0 17 1 0 0 0 0 0\n";
constexpr char kStatus[] =
    "Name:\ta) b ) (c)\nState:\tS (sleeping)\nThreads:\t9\n"
    "voluntary_ctxt_switches:\t321\nnonvoluntary_ctxt_switches:\t45\n";

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Burns about `ms` of CPU in this thread.
void Burn(int ms) {
  volatile double sink = 0;
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) sink = sink + std::sqrt(2.0);
}

TEST(LoadgenCpuTest, ProcStatFieldsCountFromTheLastParenthesis) {
  ProcessSample sample;
  ASSERT_TRUE(ParseProcPidStat(kTrickyStat, 100, &sample).ok());
  EXPECT_DOUBLE_EQ(sample.cpu_s, (1234 + 567) / 100.0);
  EXPECT_EQ(sample.start_ticks, 987654u);
  // Counted from the first ')' instead, the fields would be "b", ")" ...
  // and fail; a plain name parses the same way.
  ASSERT_TRUE(ParseProcPidStat(
                  "7 (sh) S 1 7 7 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 55 0 0\n",
                  10, &sample)
                  .ok());
  EXPECT_DOUBLE_EQ(sample.cpu_s, 3.0);
  EXPECT_EQ(sample.start_ticks, 55u);
}

TEST(LoadgenCpuTest, MalformedProcStatIsAnError) {
  ProcessSample sample;
  for (const char* bad : {"", "4242 a S 1 2 3", "4242 (x) S 1 2 3\n",
                          "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 20 0 0 20 0 1 0 "
                          "55 0 0\n"}) {
    const absl::Status status = ParseProcPidStat(bad, 100, &sample);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseProcPidStat(kTrickyStat, 0, &sample).ok());
}

TEST(LoadgenCpuTest, ProcStatusGivesBothContextSwitchCounts) {
  ProcessSample sample;
  ASSERT_TRUE(ParseProcPidStatus(kStatus, &sample).ok());
  EXPECT_EQ(sample.voluntary_switches, 321);
  EXPECT_EQ(sample.involuntary_switches, 45);
  EXPECT_EQ(
      ParseProcPidStatus("Name:\tx\nvoluntary_ctxt_switches:\t3\n", &sample)
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcPidStatus("voluntary_ctxt_switches:\tx\n"
                               "nonvoluntary_ctxt_switches:\t4\n",
                               &sample)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LoadgenCpuTest, SampleProcessReadsAnyProcLikeDirectory) {
  testing::TempDir dir;
  WriteText(dir.path() + "/stat", kTrickyStat);
  WriteText(dir.path() + "/status", kStatus);
  const absl::StatusOr<ProcessSample> sample = SampleProcess(dir.path());
  ASSERT_TRUE(sample.ok()) << sample.status();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(sample->cpu_s, (1234 + 567) / ticks);
  EXPECT_EQ(sample->voluntary_switches, 321);
  EXPECT_EQ(sample->involuntary_switches, 45);

  // With a task directory, the switches of every thread, summed (the
  // process's status counts its main thread only).
  std::filesystem::create_directories(dir.path() + "/task/4242");
  std::filesystem::create_directories(dir.path() + "/task/4250");
  WriteText(dir.path() + "/task/4242/status", kStatus);
  WriteText(dir.path() + "/task/4250/status",
            "voluntary_ctxt_switches:\t1000\n"
            "nonvoluntary_ctxt_switches:\t5\n");
  const absl::StatusOr<ProcessSample> threads = SampleProcess(dir.path());
  ASSERT_TRUE(threads.ok()) << threads.status();
  EXPECT_DOUBLE_EQ(threads->cpu_s, (1234 + 567) / ticks);
  EXPECT_EQ(threads->voluntary_switches, 1321);
  EXPECT_EQ(threads->involuntary_switches, 50);
  std::filesystem::remove_all(dir.path() + "/task");

  // A status without the counts, or no files at all.
  WriteText(dir.path() + "/status", "Name:\tx\n");
  EXPECT_EQ(SampleProcess(dir.path()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleProcess(dir.path() + "/gone").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(LoadgenCpuTest, ProcSelfSeesThisProcessBurnCpuAndSleep) {
  const absl::StatusOr<ProcessSample> from = SampleProcess("/proc/self");
  ASSERT_TRUE(from.ok()) << from.status();
  const CpuSample self_from = SampleCpu();
  Burn(300);
  // Each sleep gives the CPU up: a voluntary context switch, here of a
  // thread other than the main one (still alive when sampled), which
  // /proc/self/status alone would not count.
  std::atomic<bool> slept{false}, sampled{false};
  std::thread sleeper([&] {
    for (int i = 0; i < 20; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    slept = true;
    while (!sampled) std::this_thread::yield();
  });
  while (!slept) std::this_thread::yield();
  const absl::StatusOr<ProcessSample> to = SampleProcess("/proc/self");
  const CpuSample self_to = SampleCpu();
  sampled = true;
  sleeper.join();
  ASSERT_TRUE(to.ok()) << to.status();
  EXPECT_EQ(from->start_ticks, to->start_ticks);
  const double used = to->cpu_s - from->cpu_s;
  // A shared machine may have given this thread less than 0.3 s, but not
  // nothing; the kernel counts in ticks (10 ms at 100 Hz).
  EXPECT_GT(used, 0.03);
  EXPECT_LT(used, 2.0);
  // getrusage sees the same CPU, to a tick or two.
  EXPECT_NEAR(used, self_to.self_s - self_from.self_s, 0.05);
  EXPECT_GE(to->voluntary_switches - from->voluntary_switches, 20);
  EXPECT_GE(to->involuntary_switches, from->involuntary_switches);
}

TEST(LoadgenCpuTest, ServerCpuBetweenSamplesOfAChildProcess) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Burn(300);
    pause();
    _exit(0);
  }
  const std::string proc = absl::StrCat("/proc/", child);
  const CpuSample from = SampleCpu(proc);
  ASSERT_TRUE(from.server.ok()) << from.server.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const CpuSample to = SampleCpu(proc);
  CpuUsage usage = CpuBetween(from, to, 0.5);
  EXPECT_TRUE(usage.server_watched);
  ASSERT_TRUE(usage.server.has_value()) << usage.server_error;
  // The child's CPU, not this process's (which slept).
  EXPECT_GT(usage.server->cpu_s, 0.03);
  EXPECT_LT(usage.self_s, 0.1);

  // The process disappears: its figures are unavailable, with the reason.
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  const CpuSample gone = SampleCpu(proc);
  EXPECT_EQ(gone.server.status().code(), absl::StatusCode::kNotFound);
  usage = CpuBetween(from, gone, 1);
  EXPECT_TRUE(usage.server_watched);
  EXPECT_FALSE(usage.server.has_value());
  EXPECT_NE(usage.server_error.find(proc), std::string::npos)
      << usage.server_error;

  // Another process under the same pid (a later start): not comparable.
  CpuSample reused = to;
  reused.server->start_ticks += 1;
  usage = CpuBetween(from, reused, 1);
  EXPECT_FALSE(usage.server.has_value());
  EXPECT_NE(usage.server_error.find("replaced"), std::string::npos);

  // No server given: not watched, no error.
  usage = CpuBetween(SampleCpu(), SampleCpu(), 1);
  EXPECT_FALSE(usage.server_watched);
  EXPECT_TRUE(usage.server_error.empty());
}

}  // namespace
}  // namespace pamatch::loadgen
