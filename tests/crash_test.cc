// Crash test: a real pa-matchd under concurrent upserts and deletes is killed
// with SIGKILL at random moments, 20 rounds. After every restart each
// acknowledged write is there with its acknowledged version and content, no
// rejected write is, and (every few rounds) the server's searches equal what
// pamatch::Engine computes over the same data dir opened directly.
//
// Each client thread owns its own ids, so the test knows the exact expected
// state of every id; a write whose RPC broke because of the kill may or may
// not have happened, and either outcome is accepted for that one write.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"
#include "tests/storage_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::AllPages;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;

constexpr int kRounds = 20;
constexpr int kThreads = 6;
constexpr int kIdsPerThread = 12;
// A stale upsert carries this travel distance; it must never be stored.
constexpr double kStaleKm = 77.5;

// What one id looks like on the server: absent (version 0) or a version.
struct State {
  int64_t version = 0;  // 0: absent
  bool operator==(const State&) const = default;
};

// The content of version `v` of id number `n`: travel distance and location
// both depend on it, so a wrong version or a stale write shows.
v1::Profile ProfileFor(int n, int64_t version) {
  v1::Profile p = testing::BaseProfile(absl::StrCat("crash-", n));
  p.set_version(version);
  p.set_max_travel_km(5 + static_cast<double>(version % 30));
  p.mutable_location()->set_lat(testing::kNewcastleLat + 0.002 * (n % 20));
  return p;
}

// The model of one id, kept by the thread that owns it.
struct IdModel {
  State acked;                  // last acknowledged state
  std::optional<State> maybe;   // an unanswered write's state, if any
  int64_t next_version = 1;     // strictly above every version ever sent
};

class CrashTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args() const {
    return {"--listen=127.0.0.1:0", "--data_dir=" + data_dir_,
            "--taxonomy=" + testing::TaxonomyPath(), "--demo_profiles=300",
            "--erasure_delay_seconds=1"};
  }

  // Checks every id against the model, then folds unanswered writes into
  // it with the state found.
  void Verify(const std::shared_ptr<grpc::Channel>& channel, int round) {
    auto stub = v1::Matcher::NewStub(channel);
    for (int n = 0; n < kThreads * kIdsPerThread; ++n) {
      IdModel& model = ids_[n];
      v1::GetProfileRequest request;
      request.set_id(absl::StrCat("crash-", n));
      v1::GetProfileResponse response;
      grpc::Status status =
          stub->GetProfile(ContextWithKey(key_).get(), request, &response);
      State found;
      if (status.ok()) {
        found.version = response.profile().version();
        EXPECT_NE(response.profile().max_travel_km(), kStaleKm)
            << "round " << round << ": a rejected stale write of "
            << request.id() << " was stored";
        EXPECT_EQ(response.profile().max_travel_km(),
                  ProfileFor(n, found.version).max_travel_km())
            << "round " << round << " id " << request.id();
      } else {
        ASSERT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
            << status.error_message();
      }
      const bool ok = found == model.acked ||
                      (model.maybe.has_value() && found == *model.maybe);
      EXPECT_TRUE(ok) << "round " << round << " id " << request.id()
                      << ": found version " << found.version
                      << ", acknowledged " << model.acked.version
                      << (model.maybe ? absl::StrCat(", in flight ",
                                                     model.maybe->version)
                                      : std::string());
      model.acked = found;
      model.maybe.reset();
    }
  }

  // One client thread: writes to its own ids until the server breaks.
  void Client(const std::shared_ptr<grpc::Channel>& channel, int thread,
              uint32_t seed, std::atomic<int64_t>* acked) {
    auto stub = v1::Matcher::NewStub(channel);
    std::mt19937 random(seed);
    for (;;) {
      const int n = thread * kIdsPerThread +
                    static_cast<int>(random() % kIdsPerThread);
      IdModel& model = ids_[n];
      const int dice = static_cast<int>(random() % 10);
      grpc::Status status;
      State attempted;
      if (dice == 0 && model.acked.version > 0) {
        // Stale: must be rejected and never stored.
        v1::UpsertProfileRequest request;
        *request.mutable_profile() = ProfileFor(n, model.acked.version);
        request.mutable_profile()->set_max_travel_km(kStaleKm);
        v1::UpsertProfileResponse response;
        status = stub->UpsertProfile(ContextWithKey(key_).get(), request,
                                     &response);
        if (status.ok()) {
          ADD_FAILURE() << "stale upsert of crash-" << n << " accepted";
        }
        if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          continue;
        }
        attempted = model.acked;  // if it broke: the state must not change
      } else if (dice <= 2 && model.acked.version > 0) {
        v1::DeleteProfileRequest request;
        request.set_id(absl::StrCat("crash-", n));
        v1::DeleteProfileResponse response;
        status = stub->DeleteProfile(ContextWithKey(key_).get(), request,
                                     &response);
        attempted = State{0};
      } else {
        const int64_t version = model.next_version++;
        v1::UpsertProfileRequest request;
        *request.mutable_profile() = ProfileFor(n, version);
        v1::UpsertProfileResponse response;
        status = stub->UpsertProfile(ContextWithKey(key_).get(), request,
                                     &response);
        if (status.ok()) {
          EXPECT_EQ(response.version(), version);
        }
        attempted = State{version};
      }
      if (status.ok()) {
        model.acked = attempted;
        acked->fetch_add(1);
        continue;
      }
      // The server went away mid-call: the outcome is unknown.
      if (!(attempted == model.acked)) model.maybe = attempted;
      return;
    }
  }

  // Searches answered by the server and by the engine on the same files.
  void CompareSearches(Daemon& daemon,
                       const std::shared_ptr<grpc::Channel>& channel) {
    std::vector<v1::SearchRequest> requests(3, testing::BaseRequest());
    requests[0].set_page_size(25);
    requests[1].set_max_distance_km(10);
    requests[1].set_page_size(40);
    requests[2].set_local_authority("E08000021");
    auto stub = v1::Matcher::NewStub(channel);
    std::vector<std::vector<std::string>> served;
    for (const v1::SearchRequest& request : requests) {
      std::string error;
      served.push_back(AllPages(
          request,
          [&](const v1::SearchRequest& r) -> absl::StatusOr<v1::SearchResponse> {
            v1::SearchResponse response;
            grpc::Status status =
                stub->Search(ContextWithKey(key_).get(), r, &response);
            if (!status.ok()) return absl::InternalError(status.error_message());
            return response;
          },
          &error));
      ASSERT_TRUE(error.empty()) << error;
      ASSERT_FALSE(served.back().empty());
    }
    daemon.Signal(SIGTERM);
    ASSERT_EQ(daemon.Wait(std::chrono::seconds(60)), 0) << daemon.err();
    std::unique_ptr<Engine> engine = testing::OpenEngine(data_dir_);
    ASSERT_NE(engine, nullptr);
    for (size_t i = 0; i < requests.size(); ++i) {
      EXPECT_EQ(AllPages(requests[i],
                         [&](const v1::SearchRequest& r) {
                           return engine->Search(r, testing::SomeNow());
                         }),
                served[i])
          << "request " << i;
    }
  }

  TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
  std::string key_;
  std::vector<IdModel> ids_ = std::vector<IdModel>(kThreads * kIdsPerThread);
};

TEST_F(CrashTest, AcknowledgedWritesSurviveSigkill) {
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937 random(seed);
  int64_t total_acked = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto daemon = std::make_unique<Daemon>(dir_.path(), Args());
    std::shared_ptr<grpc::Channel> channel = daemon->WaitServing();
    ASSERT_NE(channel, nullptr) << "round " << round;
    if (key_.empty()) {
      key_ = std::string(
          absl::StripAsciiWhitespace(ReadAll(data_dir_ + "/admin.key")));
    }
    EXPECT_NE(daemon->err().find("index rebuilt: "), std::string::npos)
        << daemon->err();
    Verify(channel, round);
    if (::testing::Test::HasFailure()) return;
    if (round % 5 == 4) {
      CompareSearches(*daemon, channel);
      if (::testing::Test::HasFailure()) return;
      daemon = std::make_unique<Daemon>(dir_.path(), Args());
      channel = daemon->WaitServing();
      ASSERT_NE(channel, nullptr) << "round " << round;
    }
    std::atomic<int64_t> acked{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < kThreads; ++t) {
      clients.emplace_back(
          [&, t, s = static_cast<uint32_t>(random())] {
            Client(channel, t, s, &acked);
          });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(100 + random() % 600));
    daemon->Signal(SIGKILL);
    for (std::thread& client : clients) client.join();
    const int exit_status = daemon->Wait(std::chrono::seconds(30));
    ASSERT_TRUE(WIFSIGNALED(exit_status)) << daemon->err();
    total_acked += acked.load();
  }
  // The last round's writes.
  Daemon daemon(dir_.path(), Args());
  auto channel = daemon.WaitServing();
  ASSERT_NE(channel, nullptr);
  Verify(channel, kRounds);
  CompareSearches(daemon, channel);
  EXPECT_GT(total_acked, kRounds * 10) << "too little traffic to mean much";
  std::printf("crash test: %d rounds, %lld acknowledged writes\n", kRounds,
              static_cast<long long>(total_acked));
}

}  // namespace
}  // namespace pamatch
