// The real pa-matchd binary, run as a subprocess on a fresh data directory:
// first-start key bootstrap, demo data, health, auth, kill -9 and restart,
// graceful shutdown, keygen.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/api_keys.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::CheckHealth;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::kHealthServing;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

int Mode(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 0777);
}

class ServiceBinaryTest : public ::testing::Test {
 protected:
  std::vector<std::string> ServeArgs(int demo_profiles) const {
    return {"--listen=127.0.0.1:0", "--data_dir=" + data_dir_,
            "--taxonomy=" + testing::TaxonomyPath(),
            absl::StrCat("--demo_profiles=", demo_profiles)};
  }

  int64_t ProfileCount(const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& key) {
    v1::GetStatsResponse stats;
    grpc::Status status = v1::Matcher::NewStub(channel)->GetStats(
        ContextWithKey(key).get(), v1::GetStatsRequest(), &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats.profiles();
  }

  TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";  // not created yet
};

TEST_F(ServiceBinaryTest, FirstStartCreatesKeysAndServesDemoData) {
  Daemon daemon(dir_.path(), ServeArgs(50));
  std::shared_ptr<grpc::Channel> channel = daemon.WaitServing();
  ASSERT_NE(channel, nullptr);

  const std::string keys_path = data_dir_ + "/api_keys.txt";
  const std::string admin_path = data_dir_ + "/admin.key";
  EXPECT_EQ(Mode(keys_path), 0600);
  EXPECT_EQ(Mode(admin_path), 0600);
  const std::string key(absl::StripAsciiWhitespace(ReadAll(admin_path)));
  ASSERT_TRUE(absl::StartsWith(key, "pam_")) << key;
  EXPECT_THAT(ReadAll(keys_path),
              HasSubstr("admin\tadmin\t" + HashApiKey(key)));
  // Shown once on stdout, never in the log.
  EXPECT_THAT(daemon.out(), HasSubstr(key));
  EXPECT_THAT(daemon.out(), HasSubstr(keys_path));
  EXPECT_THAT(daemon.err(), ::testing::Not(HasSubstr(key)));
  EXPECT_THAT(daemon.err(), HasSubstr("serving: 50 profiles"));

  auto stub = v1::Matcher::NewStub(channel);
  v1::SearchResponse response;
  EXPECT_EQ(
      stub->Search(ContextWithKey("").get(), testing::BaseRequest(), &response)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  v1::SearchRequest request;
  request.set_local_authority("E08000021");
  grpc::Status status =
      stub->Search(ContextWithKey(key).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(response.total_matches(), 0);
  EXPECT_EQ(ProfileCount(channel, key), 50);

  daemon.Signal(SIGKILL);
  const int exit_status = daemon.Wait(std::chrono::seconds(30));
  EXPECT_TRUE(WIFSIGNALED(exit_status));
}

TEST_F(ServiceBinaryTest, RestartAfterKillKeepsKeysAndWrites) {
  std::string key;
  {
    Daemon first(dir_.path(), ServeArgs(20));
    auto channel = first.WaitServing();
    ASSERT_NE(channel, nullptr);
    key = std::string(
        absl::StripAsciiWhitespace(ReadAll(data_dir_ + "/admin.key")));
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = BaseProfile("acked-1");
    v1::UpsertProfileResponse response;
    ASSERT_TRUE(
        v1::Matcher::NewStub(channel)
            ->UpsertProfile(ContextWithKey(key).get(), request, &response)
            .ok());
    first.Signal(SIGKILL);  // no chance to flush anything
    first.Wait(std::chrono::seconds(30));
  }
  const std::string keys_before = ReadAll(data_dir_ + "/api_keys.txt");

  Daemon second(dir_.path(), ServeArgs(20));
  auto channel = second.WaitServing();
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(ReadAll(data_dir_ + "/api_keys.txt"), keys_before);
  EXPECT_THAT(second.out(), ::testing::Not(HasSubstr("pam_")));
  EXPECT_EQ(ProfileCount(channel, key), 21);  // no second demo load
  v1::GetProfileRequest get;
  get.set_id("acked-1");
  v1::GetProfileResponse got;
  EXPECT_TRUE(v1::Matcher::NewStub(channel)
                  ->GetProfile(ContextWithKey(key).get(), get, &got)
                  .ok());

  second.Signal(SIGTERM);
  const int exit_status = second.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(exit_status)) << second.err();
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
  EXPECT_THAT(second.err(), HasSubstr("stopped"));
}

TEST_F(ServiceBinaryTest, SighupLoadsKeysAddedByKeygen) {
  Daemon daemon(dir_.path(), ServeArgs(0));
  auto channel = daemon.WaitServing();
  ASSERT_NE(channel, nullptr);
  Daemon keygen(dir_.path(), {"keygen", "--name=portal", "--scopes=search",
                              "--data_dir=" + data_dir_});
  ASSERT_EQ(keygen.Wait(std::chrono::seconds(30)), 0) << keygen.err();
  const std::string out = keygen.out();
  ASSERT_NE(out.find("pam_"), std::string::npos) << out;
  const std::string key = out.substr(out.find("pam_"), 68);

  auto stub = v1::Matcher::NewStub(channel);
  v1::ListPoliciesResponse policies;
  auto list = [&] {
    return stub
        ->ListPolicies(ContextWithKey(key).get(), v1::ListPoliciesRequest(),
                       &policies)
        .error_code();
  };
  EXPECT_EQ(list(), grpc::StatusCode::UNAUTHENTICATED);
  daemon.Signal(SIGHUP);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (list() != grpc::StatusCode::OK &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(list(), grpc::StatusCode::OK) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("SIGHUP: 2 API key(s) reloaded"));
}

TEST_F(ServiceBinaryTest, RefusesToStartWithoutAValidKey) {
  ASSERT_EQ(::mkdir(data_dir_.c_str(), 0700), 0);
  std::ofstream(data_dir_ + "/api_keys.txt") << "# nobody\n";
  Daemon daemon(dir_.path(), ServeArgs(0));
  const int exit_status = daemon.Wait(std::chrono::seconds(60));
  ASSERT_TRUE(WIFEXITED(exit_status));
  EXPECT_NE(WEXITSTATUS(exit_status), 0);
  EXPECT_THAT(daemon.err(), HasSubstr("refusing to start"));
}

TEST_F(ServiceBinaryTest, KeygenAppendsAKeyAndPrintsIt) {
  const std::string keys_path = dir_.path() + "/keys.txt";
  Daemon keygen(dir_.path(),
                {"keygen", "--name=portal", "--scopes=search,write",
                 "--keys_file=" + keys_path});
  const int exit_status = keygen.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(exit_status));
  ASSERT_EQ(WEXITSTATUS(exit_status), 0) << keygen.err();
  const std::string out = keygen.out();
  const size_t at = out.find("pam_");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string key = out.substr(at, 68);

  auto store = ApiKeyStore::Open(keys_path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Authorize("Bearer " + key, Scope::kWrite)->name(), "portal");
  EXPECT_TRUE(absl::IsPermissionDenied(
      (*store)->Authorize("Bearer " + key, Scope::kAdmin).status()));
}

TEST_F(ServiceBinaryTest, KeygenWritesLimitsAndRefusesAnUnknownAuthority) {
  const std::string keys_path = dir_.path() + "/keys.txt";
  const std::string taxonomy =
      "--taxonomy=" + std::string(PA_MATCH_SOURCE_DIR) +
      "/taxonomy/north_east.json";
  Daemon typo(dir_.path(),
              {"keygen", "--name=ncl", "--scopes=search", taxonomy,
               "--authorities=E0800002", "--keys_file=" + keys_path});
  int exit_status = typo.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(exit_status));
  EXPECT_EQ(WEXITSTATUS(exit_status), 2);
  EXPECT_THAT(typo.err(), HasSubstr("unknown local authority \"E0800002\""));
  EXPECT_FALSE(std::filesystem::exists(keys_path));

  Daemon keygen(dir_.path(),
                {"keygen", "--name=ncl", "--scopes=search", taxonomy,
                 "--authorities=E08000037,E08000021", "--expires=2027-03-31",
                 "--rate=5", "--keys_file=" + keys_path});
  exit_status = keygen.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(WIFEXITED(exit_status));
  ASSERT_EQ(WEXITSTATUS(exit_status), 0) << keygen.err();
  EXPECT_THAT(keygen.out(),
              HasSubstr("limits authorities=E08000021,E08000037 "
                        "expires=2027-03-31 rate=5 burst=5"));
  std::ifstream in(keys_path);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_THAT(content.str(),
              HasSubstr("\tauthorities=E08000021,E08000037"
                        "\texpires=2027-03-31\trate=5\tburst=5\n"));
}

}  // namespace
}  // namespace pamatch
