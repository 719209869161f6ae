// The pa-match binary against a real pa-matchd on loopback: the job
// commands, match-jobs, and watch printing events as JSON lines and
// resuming from its position file with no gap and no duplicate.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// A pa-match process with stdout and stderr in files; killed if still
// running when destroyed.
class Cli {
 public:
  Cli(const std::string& dir, const std::vector<std::string>& args)
      : out_(absl::StrCat(dir, "/cli.", ++runs_, ".out")),
        err_(absl::StrCat(dir, "/cli.", runs_, ".err")) {
    std::vector<std::string> argv_strings = {PA_MATCH_CLI_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&files, 2, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, PA_MATCH_CLI_PATH, &files, nullptr, argv.data(),
                    environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&files);
  }
  ~Cli() {
    if (pid_ > 0 && code_ == kRunning) {
      ::kill(pid_, SIGKILL);
      Wait(std::chrono::seconds(10));
    }
  }

  // The exit code, or -1 if still running after `timeout` (or killed).
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && code_ == kRunning) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      } else if (std::chrono::steady_clock::now() > deadline) {
        return -1;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    return code_;
  }
  std::string out() const { return ReadAll(out_); }
  std::string err() const { return ReadAll(err_); }

 private:
  static constexpr int kRunning = -2;
  static inline int runs_ = 0;
  const std::string out_, err_;
  pid_t pid_ = -1;
  int code_ = kRunning;
};

class CliBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(
        dir_.path(),
        std::vector<std::string>{"--listen=127.0.0.1:0",
                                 "--data_dir=" + dir_.path() + "/data",
                                 "--taxonomy=" + testing::TaxonomyPath(),
                                 "--demo_profiles=0",
                                 "--watch_heartbeat_seconds=0.5"});
    ASSERT_NE(daemon_->WaitServing(), nullptr);
    const std::string log = daemon_->err();
    const size_t at = log.find("listening on ") + 13;
    server_ = log.substr(at, log.find(' ', at) - at);
    key_ = std::string(absl::StripAsciiWhitespace(
        ReadAll(dir_.path() + "/data/admin.key")));
    ASSERT_FALSE(key_.empty());
  }

  // pa-match with --server and --key and `args`.
  std::unique_ptr<Cli> Start(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server_, "--key", key_});
    return std::make_unique<Cli>(dir_.path(), args);
  }
  // Runs it to the end; its exit code, with its output in *out.
  int Run(const std::vector<std::string>& args, std::string* out = nullptr) {
    std::unique_ptr<Cli> cli = Start(args);
    const int code = cli->Wait();
    if (out != nullptr) *out = cli->out();
    if (code != 0) {
      std::cerr << "pa-match exit " << code << ", stderr: " << cli->err();
    }
    return code;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // A profile in central Newcastle (as tests/engine_test_util.h's
  // BaseProfile) as JSON.
  std::string ProfileFile(const std::string& id) {
    return WriteFile(
        id + ".json",
        absl::StrCat(R"({"id": ")", id, R"(", "version": 1, "status": "ACTIVE",
            "location": {"lat": 54.9783, "lon": -1.6178},
            "local_authority": "E08000021", "max_travel_km": 20,
            "checks": {"identity_verified": true,
                       "code_of_conduct_signed": true},
            "attributes": {"gender": "GENDER_FEMALE",
                           "age_band": "AGE_BAND_35_49",
                           "languages": ["en"]}})"));
  }

  // Waits until `path` exists (up to 10 s).
  static bool WaitForFile(const std::string& path) {
    for (int i = 0; i < 500; ++i) {
      if (std::filesystem::exists(path)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  std::string server_, key_;
};

TEST_F(CliBinaryTest, JobCommandsAndMatchJobs) {
  std::string out;
  ASSERT_EQ(Run({"job", "post", "--id", "job-1", "--lat", "54.9783", "--lon",
                 "-1.6178", "--la", "E08000021", "--max_km", "30"},
                &out),
            0);
  EXPECT_THAT(out, HasSubstr("id: job-1\nversion: 1\ncreated: true\n"));
  EXPECT_THAT(out, HasSubstr("position: "));
  ASSERT_EQ(Run({"--json", "job", "get", "job-1"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("\"open\":true"));
  EXPECT_THAT(out, HasSubstr("\"local_authority\":\"E08000021\""));

  ASSERT_EQ(Run({"upsert", "--file", ProfileFile("pa-1")}), 0);
  ASSERT_EQ(Run({"match-jobs", "--profile_id", "pa-1", "--as_of",
                 "2026-06-15"},
                &out),
            0);
  EXPECT_THAT(out, HasSubstr("1 job matches (register level 1) as of "
                             "2026-06-15\n"));
  EXPECT_THAT(out, HasSubstr("  1  job-1  "));
  ASSERT_EQ(Run({"match-jobs", "--profile_file", ProfileFile("pa-x"),
                 "--all_pages", "--page_size", "1"},
                &out),
            0);
  EXPECT_THAT(out, HasSubstr("job-1"));

  // Bulk: one good line, one the engine refuses, one that is not JSON.
  const std::string jobs = WriteFile(
      "jobs.jsonl",
      R"({"id": "job-2", "request": {"location": {"lat": 54.9, "lon": -1.6}}})"
      "\n"
      R"({"id": "job-3", "request": {"page_size": 5, "location": {"lat": 54.9, "lon": -1.6}}})"
      "\n"
      "not json\n");
  std::unique_ptr<Cli> import = Start({"job", "import", "--file", jobs});
  EXPECT_EQ(import->Wait(), 1) << import->err();
  EXPECT_THAT(import->out(), HasSubstr("accepted 1, rejected 2\n"));
  EXPECT_THAT(import->out(), HasSubstr("line 2 (job-3): INVALID_ARGUMENT: "));
  EXPECT_THAT(import->out(), HasSubstr("line 3: invalid Job JSON"));

  ASSERT_EQ(Run({"job", "delete", "job-1"}, &out), 0);
  EXPECT_EQ(out, "deleted job job-1\n");
  std::unique_ptr<Cli> gone = Start({"job", "get", "job-1"});
  EXPECT_EQ(gone->Wait(), 2);
  EXPECT_THAT(gone->err(), HasSubstr("error: NOT_FOUND"));
}

TEST_F(CliBinaryTest, WatchPrintsEventsAndResumesFromItsPositionFile) {
  ASSERT_EQ(Run({"job", "post", "--id", "job-1", "--lat", "54.9783", "--lon",
                 "-1.6178", "--la", "E08000021", "--max_km", "30"}),
            0);
  const std::string position = dir_.path() + "/position";

  // The first run starts now: its first heartbeat saves the position.
  std::unique_ptr<Cli> watch = Start({"watch", "--job_id", "job-1",
                                      "--position_file", position,
                                      "--max_events", "1"});
  ASSERT_TRUE(WaitForFile(position)) << watch->err();
  ASSERT_EQ(Run({"upsert", "--file", ProfileFile("pa-1")}), 0);
  ASSERT_EQ(watch->Wait(), 0) << watch->err();
  std::vector<std::string> lines =
      absl::StrSplit(watch->out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << watch->out();
  EXPECT_THAT(lines[0], HasSubstr("\"kind\":\"MATCH_STARTED\""));
  EXPECT_THAT(lines[0], HasSubstr("\"profile_id\":\"pa-1\""));
  const std::string first_position = ReadAll(position);
  EXPECT_THAT(lines[0],
              HasSubstr(absl::StrCat("\"sequence\":\"",
                                     absl::StripAsciiWhitespace(first_position),
                                     "\"")));

  // While no one watches, two more PAs join.
  ASSERT_EQ(Run({"upsert", "--file", ProfileFile("pa-2")}), 0);
  ASSERT_EQ(Run({"upsert", "--file", ProfileFile("pa-3")}), 0);

  // The next run resumes: pa-2 and pa-3, never pa-1 again.
  watch = Start({"watch", "--job_id", "job-1", "--position_file", position,
                 "--max_events", "2"});
  ASSERT_EQ(watch->Wait(), 0) << watch->err();
  EXPECT_THAT(watch->out(), Not(HasSubstr("pa-1")));
  lines = absl::StrSplit(watch->out(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << watch->out();
  EXPECT_THAT(lines[0], HasSubstr("\"profile_id\":\"pa-2\""));
  EXPECT_THAT(lines[1], HasSubstr("\"profile_id\":\"pa-3\""));
  EXPECT_NE(ReadAll(position), first_position);

  // --heartbeats prints them too; --timeout_ms bounds the watch (exit 0).
  watch = Start({"--timeout_ms", "1500", "watch", "--local_authorities",
                 "E08000021", "--heartbeats"});
  ASSERT_EQ(watch->Wait(), 0) << watch->err();
  EXPECT_THAT(watch->out(), HasSubstr("\"kind\":\"HEARTBEAT\""));

  // A position file that is not a position stops it before any call.
  WriteFile("broken", "yesterday\n");
  std::unique_ptr<Cli> broken =
      Start({"watch", "--job_id", "job-1", "--position_file",
             dir_.path() + "/broken"});
  EXPECT_EQ(broken->Wait(), 2);
  EXPECT_THAT(broken->err(), HasSubstr("does not hold a sequence number"));
}

TEST_F(CliBinaryTest, WatchEndsWithUnavailableWhenTheServerStops) {
  const std::string position = dir_.path() + "/position";
  std::unique_ptr<Cli> watch = Start(
      {"watch", "--local_authorities", "E08000021", "--position_file", position});
  ASSERT_TRUE(WaitForFile(position)) << watch->err();
  const auto start = std::chrono::steady_clock::now();
  daemon_->Signal(SIGTERM);
  // The server ends its Watch streams first: the shutdown does not wait
  // out its grace (10 s) for them.
  EXPECT_EQ(watch->Wait(), 2);
  EXPECT_THAT(watch->err(), HasSubstr("error: UNAVAILABLE"));
  EXPECT_THAT(watch->err(), HasSubstr("run the same command again"));
  EXPECT_EQ(daemon_->Wait(std::chrono::seconds(30)), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
}

}  // namespace
}  // namespace pamatch
