// The load generator's CPU accounting (bench/loadgen/cpu.h): parsing
// /proc/stat, and samples of this real process and machine.
#include <chrono>
#include <cmath>

#include "bench/loadgen/cpu.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace pamatch::loadgen
