// The pa-match-datagen binary: its output does not depend on --threads, the
// scenarios differ, and --server streams a data set into a real pa-matchd
// (started on great_britain.json) that then serves every profile.
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "demo/demo_data.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;

constexpr char kNow[] = "2025-06-01";

absl::Time Now() {
  return absl::FromCivil(absl::CivilDay(2025, 6, 1), absl::UTCTimeZone());
}

// Runs pa-match-datagen with `args` (a shell-quoted string), stdout and
// stderr into `dir`/datagen.out and .err; returns its exit status.
int RunDatagen(const std::string& dir, const std::string& args) {
  const std::string command =
      absl::StrCat(PA_MATCH_DATAGEN_PATH, " ", args, " >", dir,
                   "/datagen.out 2>", dir, "/datagen.err");
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Line `index` (0-based) of JSON Lines `text` parsed as a Profile.
v1::Profile LineAsProfile(const std::string& text, int index) {
  std::istringstream lines(text);
  std::string line;
  for (int i = 0; i <= index; ++i) std::getline(lines, line);
  v1::Profile parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
      << index << ": " << line;
  return parsed;
}

TEST(DatagenBinary, NationalOutputIsTheSameForAnyThreadCount) {
  TempDir dir;
  const std::string common =
      absl::StrCat("--scenario national --count 25000 --now ", kNow);
  ASSERT_EQ(RunDatagen(dir.path(), common + " --threads 1 --out " + dir.path() +
                                       "/one.jsonl"),
            0)
      << ReadAll(dir.path() + "/datagen.err");
  ASSERT_EQ(RunDatagen(dir.path(), common + " --threads 3 --out " + dir.path() +
                                       "/three.jsonl"),
            0);
  ASSERT_EQ(
      RunDatagen(dir.path(), absl::StrCat("--count 25000 --now ", kNow,
                                          " --out ", dir.path(), "/ne.jsonl")),
      0);
  const std::string one = ReadAll(dir.path() + "/one.jsonl");
  EXPECT_EQ(one, ReadAll(dir.path() + "/three.jsonl"));
  EXPECT_NE(one, ReadAll(dir.path() + "/ne.jsonl"));
  // Line i is the library's profile i of the scenario: the national one,
  // and the North East one by default (GenerateDemoProfile, unchanged).
  EXPECT_TRUE(MessageDifferencer::Equals(
      LineAsProfile(one, 12345),
      demo::GenerateScenarioProfile(demo::DemoScenario::kNational, 42, 12345,
                                    Now(), "pa-")));
  EXPECT_TRUE(MessageDifferencer::Equals(
      LineAsProfile(ReadAll(dir.path() + "/ne.jsonl"), 777),
      demo::GenerateDemoProfile(42, 777, Now(), "pa-")));
  EXPECT_EQ(RunDatagen(dir.path(), "--scenario scotland"), 2);
}

class DatagenServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(
        dir_.path(), std::vector<std::string>{
                         "--listen=127.0.0.1:0", "--data_dir=" + data_dir_,
                         std::string("--taxonomy=") + PA_MATCH_SOURCE_DIR +
                             "/taxonomy/great_britain.json",
                         "--demo_profiles=0"});
    channel_ = daemon_->WaitServing();
    ASSERT_NE(channel_, nullptr);
    // "... listening on 127.0.0.1:PORT (health ..."
    const std::string log = daemon_->err();
    const size_t at = log.find("listening on ") + 13;
    address_ = log.substr(at, log.find(' ', at) - at);
    key_ = std::string(
        absl::StripAsciiWhitespace(ReadAll(data_dir_ + "/admin.key")));
    ASSERT_FALSE(key_.empty());
  }

  TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
  std::unique_ptr<Daemon> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string address_;
  std::string key_;
};

TEST_F(DatagenServerTest, StreamsNationalProfilesIntoTheServer) {
  constexpr int kCount = 23456;  // three streams, the last one partial
  ASSERT_EQ(
      RunDatagen(dir_.path(),
                 absl::StrCat("--scenario national --count ", kCount, " --now ",
                              kNow, " --threads 2 --server ", address_,
                              " --api_key_file ", data_dir_, "/admin.key")),
      0)
      << ReadAll(dir_.path() + "/datagen.err")
      << ReadAll(dir_.path() + "/datagen.out");
  EXPECT_NE(ReadAll(dir_.path() + "/datagen.out")
                .find(absl::StrCat(kCount, " accepted, 0 rejected")),
            std::string::npos)
      << ReadAll(dir_.path() + "/datagen.out");

  auto stub = v1::Matcher::NewStub(channel_);
  v1::GetStatsResponse stats;
  ASSERT_TRUE(
      stub->GetStats(ContextWithKey(key_).get(), v1::GetStatsRequest(), &stats)
          .ok());
  EXPECT_EQ(stats.profiles(), kCount);
  std::map<std::string, int64_t> expected;
  for (int i = 0; i < kCount; ++i) {
    ++expected[demo::GenerateScenarioProfile(demo::DemoScenario::kNational, 42,
                                             i, Now(), "pa-")
                   .local_authority()];
  }
  std::map<std::string, int64_t> got(
      stats.profiles_by_local_authority().begin(),
      stats.profiles_by_local_authority().end());
  EXPECT_EQ(got, expected);
  for (int i : {0, 9999, 10000, kCount - 1}) {
    const v1::Profile want = demo::GenerateScenarioProfile(
        demo::DemoScenario::kNational, 42, i, Now(), "pa-");
    v1::GetProfileRequest request;
    request.set_id(want.id());
    v1::GetProfileResponse response;
    ASSERT_TRUE(
        stub->GetProfile(ContextWithKey(key_).get(), request, &response).ok())
        << want.id();
    EXPECT_TRUE(MessageDifferencer::Equals(response.profile(), want))
        << response.profile().DebugString() << "\n"
        << want.DebugString();
  }
}

TEST_F(DatagenServerTest, AWrongKeyFailsAndStoresNothing) {
  EXPECT_EQ(
      RunDatagen(dir_.path(), absl::StrCat("--count 100 --server ", address_,
                                           " --api_key not-a-key")),
      1);
  EXPECT_NE(ReadAll(dir_.path() + "/datagen.err").find("stream failed"),
            std::string::npos);
  EXPECT_NE(ReadAll(dir_.path() + "/datagen.out").find("100 unconfirmed"),
            std::string::npos);
  v1::GetStatsResponse stats;
  ASSERT_TRUE(
      v1::Matcher::NewStub(channel_)
          ->GetStats(ContextWithKey(key_).get(), v1::GetStatsRequest(), &stats)
          .ok());
  EXPECT_EQ(stats.profiles(), 0);
}

}  // namespace
}  // namespace pamatch
