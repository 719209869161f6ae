// Alerts under SIGKILL: a real pa-matchd with jobs posted takes profile
// writes that start and end matches while a subscriber follows Watch; the
// server is killed with SIGKILL at random moments, 10 rounds, and the
// subscriber resumes each time from the last sequence it saw. Every event
// must arrive exactly once, in order (the subscriber follows every job, so
// sequences are dense), each pair must alternate MATCH_STARTED and
// MATCH_ENDED, and in the end the pairs the events add up to must be
// exactly the pairs that match in the data (MatchJobs over the same data
// dir opened directly).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;

constexpr int kRounds = 10;
constexpr int kJobs = 4;
constexpr int kWriters = 4;
constexpr int kIdsPerWriter = 8;
constexpr char kAuthority[] = "E08000021";

using Pair = std::pair<std::string, std::string>;  // (job, PA)

// Job j needs skill j % 2 ("shopping" or "meal_preparation") near Newcastle.
v1::Job JobFor(int j) {
  v1::Job job;
  job.set_id(absl::StrCat("job-", j));
  job.set_version(1);
  v1::SearchRequest* r = job.mutable_request();
  r->mutable_location()->set_lat(testing::kNewcastleLat);
  r->mutable_location()->set_lon(testing::kNewcastleLon);
  r->set_local_authority(kAuthority);
  r->add_must_have_skills(j % 2 == 0 ? "shopping" : "meal_preparation");
  r->set_max_distance_km(5 + j);
  return job;
}

// Version v of PA n: its skills and distance change with v, so its
// matches start and end.
v1::Profile ProfileFor(int n, int64_t version) {
  v1::Profile p = testing::BaseProfile(absl::StrCat("pa-", n));
  p.set_version(version);
  if (version % 2 == 1) p.add_skills("shopping");
  if (version % 3 != 0) p.add_skills("meal_preparation");
  p.mutable_location()->set_lat(testing::kNewcastleLat + 0.01 * (version % 8));
  return p;
}

// What the subscriber has seen, across reconnections.
struct Seen {
  std::mutex mu;
  int64_t last = 0;
  std::set<Pair> open;
  int64_t events = 0;
  std::vector<std::string> errors;
};

// Follows Watch from seen->last until the stream ends (the server died or
// `stop` and the subscriber caught up with `until`).
void Subscribe(const std::shared_ptr<grpc::Channel>& channel,
               const std::string& key, Seen* seen) {
  auto stub = v1::Matcher::NewStub(channel);
  auto context = ContextWithKey(key);
  v1::WatchRequest request;
  request.mutable_local_authorities()->add_codes(kAuthority);
  {
    std::lock_guard<std::mutex> lock(seen->mu);
    request.set_after_sequence(seen->last);
  }
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader =
      stub->Watch(context.get(), request);
  v1::WatchEvent event;
  while (reader->Read(&event)) {
    std::lock_guard<std::mutex> lock(seen->mu);
    if (event.kind() == v1::WatchEvent::HEARTBEAT) continue;
    if (event.sequence() != seen->last + 1) {
      seen->errors.push_back(absl::StrCat("event ", event.sequence(),
                                          " after ", seen->last));
    }
    seen->last = event.sequence();
    ++seen->events;
    const Pair pair{event.job_id(), event.profile_id()};
    if (event.kind() == v1::WatchEvent::MATCH_STARTED) {
      if (!seen->open.insert(pair).second) {
        seen->errors.push_back(absl::StrCat("started twice: ", pair.first,
                                            " ", pair.second, " at ",
                                            event.sequence()));
      }
    } else if (seen->open.erase(pair) == 0) {
      seen->errors.push_back(absl::StrCat("ended but not started: ",
                                          pair.first, " ", pair.second,
                                          " at ", event.sequence()));
    }
  }
  context->TryCancel();
  reader->Finish().IgnoreError();
}

class AlertsCrashTest : public ::testing::Test {
 protected:
  std::vector<std::string> Args() const {
    return {"--listen=127.0.0.1:0", "--data_dir=" + data_dir_,
            "--taxonomy=" + testing::TaxonomyPath(), "--demo_profiles=0"};
  }

  int64_t LastEventSequence(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::Matcher::NewStub(channel);
    v1::GetStatsResponse stats;
    grpc::Status status = stub->GetStats(ContextWithKey(key_).get(),
                                         v1::GetStatsRequest(), &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats.last_event_sequence();
  }

  // Writes to the writer's own PAs until the server breaks.
  void Writer(const std::shared_ptr<grpc::Channel>& channel, int writer,
              uint32_t seed) {
    auto stub = v1::Matcher::NewStub(channel);
    std::mt19937 random(seed);
    for (;;) {
      const int n = writer * kIdsPerWriter +
                    static_cast<int>(random() % kIdsPerWriter);
      grpc::Status status;
      if (random() % 8 == 0) {
        v1::DeleteProfileRequest request;
        request.set_id(absl::StrCat("pa-", n));
        v1::DeleteProfileResponse response;
        status = stub->DeleteProfile(ContextWithKey(key_).get(), request,
                                     &response);
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;
      } else {
        v1::UpsertProfileRequest request;
        *request.mutable_profile() = ProfileFor(n, next_version_[n]++);
        v1::UpsertProfileResponse response;
        status = stub->UpsertProfile(ContextWithKey(key_).get(), request,
                                     &response);
      }
      if (!status.ok()) return;
      acked_.fetch_add(1);
    }
  }

  TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
  std::string key_;
  std::vector<int64_t> next_version_ =
      std::vector<int64_t>(kWriters * kIdsPerWriter, 1);
  std::atomic<int64_t> acked_{0};
};

TEST_F(AlertsCrashTest, NoEventLostOrRepeatedAcrossSigkill) {
  const uint32_t seed = std::random_device()();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937 random(seed);
  Seen seen;
  for (int round = 0; round < kRounds; ++round) {
    Daemon daemon(dir_.path(), Args());
    std::shared_ptr<grpc::Channel> channel = daemon.WaitServing();
    ASSERT_NE(channel, nullptr) << "round " << round;
    if (key_.empty()) {
      key_ = std::string(
          absl::StripAsciiWhitespace(ReadAll(data_dir_ + "/admin.key")));
      auto stub = v1::Matcher::NewStub(channel);
      for (int j = 0; j < kJobs; ++j) {
        v1::UpsertJobRequest request;
        *request.mutable_job() = JobFor(j);
        v1::UpsertJobResponse response;
        grpc::Status status =
            stub->UpsertJob(ContextWithKey(key_).get(), request, &response);
        ASSERT_TRUE(status.ok()) << status.error_message();
      }
    }
    std::thread subscriber([&] { Subscribe(channel, key_, &seen); });
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w, s = static_cast<uint32_t>(random())] {
        Writer(channel, w, s);
      });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(200 + random() % 600));
    daemon.Signal(SIGKILL);
    for (std::thread& writer : writers) writer.join();
    subscriber.join();
    ASSERT_TRUE(WIFSIGNALED(daemon.Wait(std::chrono::seconds(30))))
        << daemon.err();
  }
  // The last start: the subscriber catches up, then the data is judged.
  {
    Daemon daemon(dir_.path(), Args());
    std::shared_ptr<grpc::Channel> channel = daemon.WaitServing();
    ASSERT_NE(channel, nullptr);
    const int64_t last = LastEventSequence(channel);
    std::thread subscriber([&] { Subscribe(channel, key_, &seen); });
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(seen.mu);
        if (seen.last >= last) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    daemon.Signal(SIGTERM);
    subscriber.join();
    ASSERT_EQ(daemon.Wait(std::chrono::seconds(60)), 0) << daemon.err();
    std::lock_guard<std::mutex> lock(seen.mu);
    EXPECT_EQ(seen.last, last);
  }
  for (const std::string& error : seen.errors) ADD_FAILURE() << error;
  // The pairs that match in the data, on the alerts day.
  EngineOptions options;
  options.data_dir = data_dir_ + "/db";
  options.taxonomy_path = testing::TaxonomyPath();
  options.daily_pass_poll = absl::ZeroDuration();
  auto engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::string day = (*engine)->Stats().alerts_day();
  std::set<Pair> matching;
  for (int n = 0; n < kWriters * kIdsPerWriter; ++n) {
    v1::MatchJobsRequest request;
    request.set_profile_id(absl::StrCat("pa-", n));
    request.set_as_of(day);
    request.set_page_size(100);
    auto jobs = (*engine)->MatchJobs(request, absl::Now());
    if (absl::IsNotFound(jobs.status())) continue;
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    for (const v1::JobMatch& match : jobs->results()) {
      matching.insert({match.job_id(), request.profile_id()});
    }
  }
  EXPECT_EQ(seen.open, matching);
  EXPECT_GT(seen.events, kRounds) << "too few events to mean much";
  EXPECT_GT(acked_.load(), kRounds * 10) << "too little traffic";
  std::printf("alerts crash test: %d rounds, %lld writes, %lld events, %zu "
              "pairs open\n",
              kRounds, static_cast<long long>(acked_.load()),
              static_cast<long long>(seen.events), seen.open.size());
}

}  // namespace
}  // namespace pamatch
