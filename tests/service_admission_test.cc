// Overload protection at the edge (service/admission.h, issue 18 point 4):
// the per-kind bound on calls in flight, checked on its own and through a
// real server on loopback over a real engine, where a burst of concurrent
// upserts beyond a bound of one gets RESOURCE_EXHAUSTED naming the flag,
// changes nothing for the refused calls, and the service recovers at once.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/admission.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

TEST(AdmissionTest, RefusesBeyondTheBoundAndFreesSlotsWithTheirTickets) {
  CallLimits limits;
  limits.writes = 2;
  Admission admission(limits);
  auto first = admission.Enter(CallKind::kWrite);
  auto second = admission.Enter(CallKind::kWrite);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(admission.in_flight(CallKind::kWrite), 2);
  absl::StatusOr<Admission::Ticket> third = admission.Enter(CallKind::kWrite);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(third.status().message(), HasSubstr("--max_inflight_writes"));
  EXPECT_EQ(admission.shed(CallKind::kWrite), 1);
  EXPECT_EQ(admission.in_flight(CallKind::kWrite), 2);
  // Other kinds have their own bounds.
  EXPECT_TRUE(admission.Enter(CallKind::kRead).ok());
  {
    // A moved ticket frees its slot once.
    Admission::Ticket moved(*std::move(first));
  }
  EXPECT_EQ(admission.in_flight(CallKind::kWrite), 1);
  EXPECT_TRUE(admission.Enter(CallKind::kWrite).ok());  // freed at once
  EXPECT_EQ(admission.in_flight(CallKind::kWrite), 1);
}

TEST(AdmissionTest, ACallPastItsDeadlineIsNotRun) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(CheckDeadline(now - std::chrono::milliseconds(1), now).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(CheckDeadline(now, now).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(CheckDeadline(now + std::chrono::milliseconds(1), now).ok());
  EXPECT_TRUE(
      CheckDeadline(std::chrono::system_clock::time_point::max(), now).ok());
}

TEST(AdmissionTest, ABurstOfWritesBeyondTheBoundIsShedAndChangesNothing) {
  TempDir dir;
  const std::string write_key = *GenerateApiKey();
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> keys = ApiKeyStore::FromText(
      FormatKeyLine("importer",
                    static_cast<uint32_t>(Scope::kWrite) |
                        static_cast<uint32_t>(Scope::kSearch),
                    HashApiKey(write_key)) +
          "\n",
      "test keys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EngineOptions options;
  options.data_dir = dir.path() + "/db";
  options.taxonomy_path = testing::TaxonomyPath();
  options.daily_pass_poll = absl::ZeroDuration();
  options.sync_writes = true;  // each write in flight until its fsync
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  CallLimits limits;
  limits.writes = 1;
  auto service = std::make_unique<MatcherService>(keys->get(), nullptr,
                                                  WatchOptions(), limits);
  service->SetEngine(engine->get());
  testing::LoopbackServer served = testing::ServeOnLoopback(service.get());
  ASSERT_NE(served.server, nullptr);
  auto stub = v1::Matcher::NewStub(served.channel);

  // Bursts of concurrent upserts until one is refused (the first burst,
  // in practice: a write holds its slot for a commit round).
  constexpr int kBurst = 48;
  std::vector<std::string> refused, accepted;
  for (int burst = 0; burst < 20 && refused.empty(); ++burst) {
    std::mutex mu;
    std::condition_variable cv;
    int pending = kBurst;
    std::vector<grpc::Status> statuses(kBurst);
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<v1::UpsertProfileRequest> requests(kBurst);
    std::vector<v1::UpsertProfileResponse> responses(kBurst);
    for (int i = 0; i < kBurst; ++i) {
      *requests[i].mutable_profile() =
          BaseProfile(absl::StrCat("pa-", burst, "-", i));
      contexts.push_back(ContextWithKey(write_key));
    }
    for (int i = 0; i < kBurst; ++i) {
      stub->async()->UpsertProfile(
          contexts[i].get(), &requests[i], &responses[i],
          [&, i](grpc::Status status) {
            std::lock_guard<std::mutex> lock(mu);
            statuses[i] = std::move(status);
            if (--pending == 0) cv.notify_one();
          });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return pending == 0; });
    for (int i = 0; i < kBurst; ++i) {
      const std::string& id = requests[i].profile().id();
      if (statuses[i].ok()) {
        accepted.push_back(id);
        continue;
      }
      EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << statuses[i].error_message();
      EXPECT_THAT(statuses[i].error_message(),
                  HasSubstr("--max_inflight_writes"));
      refused.push_back(id);
    }
  }
  ASSERT_FALSE(refused.empty()) << "no write was ever refused";
  EXPECT_FALSE(accepted.empty());
  // A refused write changed nothing; an accepted one is there.
  for (const std::string& id : refused) {
    v1::GetProfileRequest get;
    get.set_id(id);
    v1::GetProfileResponse got;
    EXPECT_EQ(stub->GetProfile(ContextWithKey(write_key).get(), get, &got)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND)
        << id;
  }
  v1::GetProfileRequest get;
  get.set_id(accepted.front());
  v1::GetProfileResponse got;
  EXPECT_TRUE(stub->GetProfile(ContextWithKey(write_key).get(), get, &got).ok());
  // Once the burst is over, writes are admitted again.
  v1::UpsertProfileRequest again;
  *again.mutable_profile() = BaseProfile("pa-after");
  v1::UpsertProfileResponse response;
  EXPECT_TRUE(
      stub->UpsertProfile(ContextWithKey(write_key).get(), again, &response)
          .ok());

  stub.reset();
  served.server->Shutdown();
  service.reset();
}

// An open bulk stream holds one write's place for as long as it is open:
// with a bound of one, a unary write waits for it to end, refused meanwhile.
TEST(AdmissionTest, AnOpenBulkStreamHoldsAWritePlaceUntilItEnds) {
  TempDir dir;
  const std::string write_key = *GenerateApiKey();
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> keys = ApiKeyStore::FromText(
      FormatKeyLine("importer", static_cast<uint32_t>(Scope::kWrite),
                    HashApiKey(write_key)) +
          "\n",
      "test keys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EngineOptions options;
  options.data_dir = dir.path() + "/db";
  options.taxonomy_path = testing::TaxonomyPath();
  options.daily_pass_poll = absl::ZeroDuration();
  options.sync_writes = false;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  CallLimits limits;
  limits.writes = 1;
  auto service = std::make_unique<MatcherService>(keys->get(), nullptr,
                                                  WatchOptions(), limits);
  service->SetEngine(engine->get());
  testing::LoopbackServer served = testing::ServeOnLoopback(service.get());
  ASSERT_NE(served.server, nullptr);
  auto stub = v1::Matcher::NewStub(served.channel);
  auto upsert = [&](const std::string& id) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = BaseProfile(id);
    v1::UpsertProfileResponse response;
    return stub->UpsertProfile(ContextWithKey(write_key).get(), request,
                               &response);
  };

  auto stream_context = ContextWithKey(write_key);
  v1::BulkUpsertProfilesResponse bulk_response;
  auto writer = stub->BulkUpsertProfiles(stream_context.get(), &bulk_response);
  v1::UpsertProfileRequest item;
  *item.mutable_profile() = BaseProfile("pa-bulk");
  ASSERT_TRUE(writer->Write(item));
  // The stream reaches the server some time after it is opened.
  for (int attempt = 0;
       attempt < 500 && service->in_flight(CallKind::kWrite) == 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service->in_flight(CallKind::kWrite), 1);
  const grpc::Status refused = upsert("pa-refused");
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("--max_inflight_writes"));
  // So is a second stream.
  {
    auto second_context = ContextWithKey(write_key);
    v1::BulkUpsertProfilesResponse second_response;
    auto second = stub->BulkUpsertProfiles(second_context.get(),
                                           &second_response);
    second->WritesDone();
    EXPECT_EQ(second->Finish().error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // The stream ends: its item stored, and writes admitted again.
  ASSERT_TRUE(writer->WritesDone());
  grpc::Status finished = writer->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_EQ(bulk_response.accepted(), 1);
  // The stream's place is freed when the server is done with the call,
  // just after its status is sent.
  grpc::Status after = upsert("pa-after");
  for (int attempt = 0; attempt < 500 && !after.ok(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    after = upsert("pa-after");
  }
  EXPECT_TRUE(after.ok()) << after.error_message();

  stub.reset();
  served.server->Shutdown();
  service.reset();
}

}  // namespace
}  // namespace pamatch
