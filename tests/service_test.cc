// The Matcher service end to end in one process: a real gRPC server on a
// loopback port over a real, fsyncing Engine in a fresh directory, called
// through the generated client stub.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "service/server.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::CheckHealth;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::kHealthNotServing;
using ::pamatch::testing::kHealthServing;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// A served engine in a fresh directory and three keys: search_key_ (scope
// search), write_key_ (write) and admin_key_ (admin). Single-threaded
// except where a test starts its own threads.
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    search_key_ = *GenerateApiKey();
    write_key_ = *GenerateApiKey();
    admin_key_ = *GenerateApiKey();
    const uint32_t search = static_cast<uint32_t>(Scope::kSearch);
    const uint32_t write = static_cast<uint32_t>(Scope::kWrite);
    const uint32_t admin = static_cast<uint32_t>(Scope::kAdmin);
    absl::StatusOr<std::unique_ptr<ApiKeyStore>> keys = ApiKeyStore::FromText(
        FormatKeyLine("portal", search, HashApiKey(search_key_)) + "\n" +
            FormatKeyLine("importer", write, HashApiKey(write_key_)) + "\n" +
            FormatKeyLine("ops", admin, HashApiKey(admin_key_)) + "\n",
        "test keys");
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    Start();
  }

  void TearDown() override { Stop(); }

  // Opens the engine on dir_ and serves it on a fresh loopback port.
  void Start() {
    EngineOptions options;
    options.data_dir = dir_.path() + "/db";
    options.taxonomy_path = testing::TaxonomyPath();
    options.sync_writes = true;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    service_ = std::make_unique<MatcherService>(keys_.get());
    service_->SetEngine(engine_.get());
    testing::LoopbackServer served = testing::ServeOnLoopback(service_.get());
    ASSERT_NE(served.server, nullptr);
    server_ = std::move(served.server);
    channel_ = std::move(served.channel);
    stub_ = v1::Matcher::NewStub(channel_);
  }

  // Shuts the server down, then closes the engine (as pa-matchd does).
  void Stop() {
    stub_.reset();
    channel_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    engine_.reset();
  }

  grpc::Status Upsert(const std::string& key, const v1::Profile& profile,
                      v1::UpsertProfileResponse* response = nullptr) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = profile;
    v1::UpsertProfileResponse ignored;
    return stub_->UpsertProfile(ContextWithKey(key).get(), request,
                                response ? response : &ignored);
  }

  grpc::Status Get(const std::string& id,
                   v1::GetProfileResponse* response = nullptr) {
    v1::GetProfileRequest request;
    request.set_id(id);
    v1::GetProfileResponse ignored;
    return stub_->GetProfile(ContextWithKey(search_key_).get(), request,
                             response ? response : &ignored);
  }

  grpc::Status SearchWith(const std::string& key,
                          v1::SearchResponse* response) {
    return stub_->Search(ContextWithKey(key).get(), testing::BaseRequest(),
                         response);
  }

  TempDir dir_;
  std::string search_key_, write_key_, admin_key_;
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<MatcherService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
};

TEST_F(ServiceTest, CallWithoutKeyIsUnauthenticated) {
  v1::SearchResponse response;
  grpc::Status status = SearchWith("", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "missing or invalid API key");
}

TEST_F(ServiceTest, WrongOrMalformedKeyIsUnauthenticated) {
  const std::string wrong = *GenerateApiKey();
  v1::SearchResponse response;
  grpc::Status status = SearchWith(wrong, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), Not(HasSubstr(wrong)));

  for (const std::string& header :
       {"Basic " + search_key_, search_key_, std::string("Bearer "),
        "Bearer" + search_key_}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", header);
    status = stub_->Search(&context, testing::BaseRequest(), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << header;
  }
}

TEST_F(ServiceTest, SearchKeyCannotWriteAndNothingIsStored) {
  grpc::Status status = Upsert(search_key_, BaseProfile("pa-1"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"write\""));
  EXPECT_EQ(Get("pa-1").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(engine_->size(), 0);
}

TEST_F(ServiceTest, EachRpcNeedsItsScopeAndAdminHasAll) {
  v1::GetStatsResponse stats;
  grpc::Status status = stub_->GetStats(ContextWithKey(search_key_).get(),
                                        v1::GetStatsRequest(), &stats);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"admin\""));

  v1::SearchResponse response;
  status = SearchWith(write_key_, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"search\""));

  v1::SetPolicyRequest set;
  set.mutable_policy()->set_local_authority("E08000021");
  set.mutable_policy()->set_min_register_level(2);
  v1::Policy policy;
  EXPECT_EQ(stub_->SetPolicy(ContextWithKey(write_key_).get(), set, &policy)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // admin implies search and write.
  EXPECT_TRUE(SearchWith(admin_key_, &response).ok());
  EXPECT_TRUE(Upsert(admin_key_, BaseProfile("pa-1")).ok());
  EXPECT_TRUE(stub_
                  ->GetStats(ContextWithKey(admin_key_).get(),
                             v1::GetStatsRequest(), &stats)
                  .ok());
  EXPECT_EQ(stats.profiles(), 1);
}

TEST_F(ServiceTest, UpsertedProfileReadsBackTheSame) {
  const v1::Profile profile = BaseProfile("pa-1");
  v1::UpsertProfileResponse upserted;
  ASSERT_TRUE(Upsert(write_key_, profile, &upserted).ok());
  EXPECT_EQ(upserted.id(), "pa-1");
  EXPECT_EQ(upserted.version(), 1);
  EXPECT_TRUE(upserted.created());

  v1::GetProfileResponse got;
  grpc::Status status = Get("pa-1", &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(got.profile(), profile))
      << got.profile().DebugString();
  EXPECT_EQ(got.register_level(), 1);

  v1::SearchResponse found;
  ASSERT_TRUE(SearchWith(search_key_, &found).ok());
  ASSERT_EQ(found.results_size(), 1);
  EXPECT_EQ(found.results(0).id(), "pa-1");
  EXPECT_EQ(found.total_matches(), 1);
}

TEST_F(ServiceTest, InvalidProfileIsRejectedNamingTheField) {
  v1::Profile profile = BaseProfile("pa-1");
  profile.mutable_location()->set_lat(99);
  grpc::Status status = Upsert(write_key_, profile);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("location.lat"));
  EXPECT_EQ(Get("pa-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, UnknownFieldsAreRejected) {
  // A name smuggled in as field 99 of the request wrapper...
  v1::UpsertProfileRequest request;
  *request.mutable_profile() = BaseProfile("pa-1");
  request.GetReflection()->MutableUnknownFields(&request)->AddLengthDelimited(
      99, "Jane Smith");
  v1::UpsertProfileResponse response;
  grpc::Status status = stub_->UpsertProfile(ContextWithKey(write_key_).get(),
                                             request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown field number 99"));

  // ...or inside the profile itself.
  request.Clear();
  *request.mutable_profile() = BaseProfile("pa-1");
  request.mutable_profile()
      ->GetReflection()
      ->MutableUnknownFields(request.mutable_profile())
      ->AddLengthDelimited(99, "07700 900123");
  status = stub_->UpsertProfile(ContextWithKey(write_key_).get(), request,
                                &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Get("pa-1").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, StaleVersionIsFailedPrecondition) {
  v1::Profile profile = BaseProfile("pa-1");
  profile.set_version(5);
  ASSERT_TRUE(Upsert(write_key_, profile).ok());
  for (int64_t stale : {5, 4}) {
    profile.set_version(stale);
    profile.set_max_travel_km(30);
    EXPECT_EQ(Upsert(write_key_, profile).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION)
        << stale;
  }
  v1::GetProfileResponse got;
  ASSERT_TRUE(Get("pa-1", &got).ok());
  EXPECT_EQ(got.profile().version(), 5);
  EXPECT_EQ(got.profile().max_travel_km(), 20);
}

TEST_F(ServiceTest, UnknownProfileIsNotFound) {
  EXPECT_EQ(Get("nobody").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, DeletedProfileIsGone) {
  ASSERT_TRUE(Upsert(write_key_, BaseProfile("pa-1")).ok());
  v1::DeleteProfileRequest request;
  request.set_id("pa-1");
  v1::DeleteProfileResponse response;
  EXPECT_EQ(
      stub_
          ->DeleteProfile(ContextWithKey(search_key_).get(), request, &response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      stub_->DeleteProfile(ContextWithKey(write_key_).get(), request, &response)
          .ok());
  EXPECT_EQ(Get("pa-1").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(
      stub_->DeleteProfile(ContextWithKey(write_key_).get(), request, &response)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, PoliciesRoundTrip) {
  v1::SetPolicyRequest set;
  set.mutable_policy()->set_local_authority("E08000021");
  set.mutable_policy()->set_min_register_level(2);
  v1::Policy policy;
  ASSERT_TRUE(
      stub_->SetPolicy(ContextWithKey(admin_key_).get(), set, &policy).ok());
  EXPECT_EQ(policy.min_register_level(), 2);

  v1::GetPolicyRequest get;
  get.set_local_authority("E08000021");
  ASSERT_TRUE(
      stub_->GetPolicy(ContextWithKey(search_key_).get(), get, &policy).ok());
  EXPECT_EQ(policy.local_authority(), "E08000021");
  v1::ListPoliciesResponse list;
  ASSERT_TRUE(stub_
                  ->ListPolicies(ContextWithKey(search_key_).get(),
                                 v1::ListPoliciesRequest(), &list)
                  .ok());
  EXPECT_EQ(list.policies_size(), 1);

  v1::DeletePolicyRequest remove;
  remove.set_local_authority("E08000021");
  v1::DeletePolicyResponse removed;
  ASSERT_TRUE(
      stub_->DeletePolicy(ContextWithKey(admin_key_).get(), remove, &removed)
          .ok());
  EXPECT_EQ(stub_->GetPolicy(ContextWithKey(search_key_).get(), get, &policy)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Streams `profiles` with `key` and returns the call's status.
grpc::Status BulkUpsert(v1::Matcher::Stub& stub, const std::string& key,
                        const std::vector<v1::Profile>& profiles,
                        v1::BulkUpsertProfilesResponse* response) {
  std::unique_ptr<grpc::ClientContext> context = ContextWithKey(key);
  std::unique_ptr<grpc::ClientWriter<v1::UpsertProfileRequest>> writer =
      stub.BulkUpsertProfiles(context.get(), response);
  for (const v1::Profile& profile : profiles) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = profile;
    if (!writer->Write(request)) break;  // the server finished early
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(ServiceTest, BulkUpsertReportsEveryItem) {
  std::vector<v1::Profile> profiles;
  for (int i = 0; i < 7; ++i)
    profiles.push_back(BaseProfile(absl::StrCat("pa-", i)));
  profiles[2].mutable_location()->set_lat(99);  // INVALID_ARGUMENT
  profiles[5].add_skills("juggling");           // INVALID_ARGUMENT
  v1::BulkUpsertProfilesResponse response;
  grpc::Status status = BulkUpsert(*stub_, write_key_, profiles, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 5);
  EXPECT_EQ(response.rejected(), 2);
  ASSERT_EQ(response.results_size(), 7);
  for (int i = 0; i < 7; ++i) {
    const v1::BulkItemResult& result = response.results(i);
    EXPECT_EQ(result.index(), i);
    EXPECT_EQ(result.id(), absl::StrCat("pa-", i));
    if (i == 2 || i == 5) {
      EXPECT_EQ(result.code(), static_cast<int>(grpc::INVALID_ARGUMENT)) << i;
      EXPECT_FALSE(result.error().empty());
      EXPECT_EQ(Get(result.id()).error_code(), grpc::StatusCode::NOT_FOUND);
    } else {
      EXPECT_EQ(result.code(), 0) << result.error();
      EXPECT_EQ(result.version(), 1);
      EXPECT_TRUE(Get(result.id()).ok());
    }
  }
  EXPECT_THAT(response.results(2).error(), HasSubstr("location.lat"));
  EXPECT_THAT(response.results(5).error(), HasSubstr("juggling"));

  // Replaying the stream: every item is now stale, one result each.
  profiles.erase(profiles.begin() + 5);
  profiles.erase(profiles.begin() + 2);
  ASSERT_TRUE(BulkUpsert(*stub_, write_key_, profiles, &response).ok());
  EXPECT_EQ(response.accepted(), 0);
  EXPECT_EQ(response.rejected(), 5);
  EXPECT_EQ(response.results(4).code(),
            static_cast<int>(grpc::FAILED_PRECONDITION));
}

TEST_F(ServiceTest, BulkUpsertSpanningSeveralBatches) {
  const int count = 2 * static_cast<int>(kBulkBatchSize) + 37;
  std::vector<v1::Profile> profiles;
  for (int i = 0; i < count; ++i) {
    profiles.push_back(BaseProfile(absl::StrCat("bulk-", i)));
  }
  v1::BulkUpsertProfilesResponse response;
  ASSERT_TRUE(BulkUpsert(*stub_, write_key_, profiles, &response).ok());
  EXPECT_EQ(response.accepted(), count);
  EXPECT_EQ(response.rejected(), 0);
  ASSERT_EQ(response.results_size(), count);
  EXPECT_EQ(response.results(count - 1).index(), count - 1);
  EXPECT_EQ(response.results(count - 1).id(), absl::StrCat("bulk-", count - 1));
  EXPECT_EQ(engine_->size(), count);
}

// Batches of one stream are committed while the next is read; they must
// still apply in stream order. Every item upserts one id with version 0, so
// item i must get version i + 1 (minus the invalid items before it).
TEST_F(ServiceTest, BulkUpsertKeepsStreamOrderAcrossPipelinedBatches) {
  const int count = 4 * static_cast<int>(kBulkBatchSize) + 3;
  std::vector<v1::Profile> profiles;
  for (int i = 0; i < count; ++i) {
    v1::Profile p = BaseProfile("one");
    p.set_version(0);
    p.set_max_travel_km(1 + i % 100);
    if (i % 97 == 50) p.set_local_authority("E99999999");  // invalid
    profiles.push_back(p);
  }
  v1::BulkUpsertProfilesResponse response;
  ASSERT_TRUE(BulkUpsert(*stub_, write_key_, profiles, &response).ok());
  ASSERT_EQ(response.results_size(), count);
  int64_t expected = 0;
  int last_accepted = -1;
  for (int i = 0; i < count; ++i) {
    const v1::BulkItemResult& result = response.results(i);
    if (i % 97 == 50) {
      EXPECT_EQ(result.code(), static_cast<int>(grpc::INVALID_ARGUMENT)) << i;
      continue;
    }
    ASSERT_EQ(result.code(), 0) << i << " " << result.error();
    EXPECT_EQ(result.version(), ++expected) << i;
    last_accepted = i;
  }
  EXPECT_EQ(response.accepted(), expected);
  auto stored = engine_->GetProfile("one");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->profile().version(), expected);
  EXPECT_EQ(stored->profile().max_travel_km(), 1 + last_accepted % 100);
}

TEST_F(ServiceTest, BulkUpsertNeedsWriteScope) {
  v1::BulkUpsertProfilesResponse response;
  grpc::Status status =
      BulkUpsert(*stub_, search_key_, {BaseProfile("pa-1")}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = BulkUpsert(*stub_, "", {BaseProfile("pa-1")}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(engine_->size(), 0);
}

TEST_F(ServiceTest, CancelledBulkUpsertStoresNoUnflushedItems) {
  v1::BulkUpsertProfilesResponse response;
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + write_key_);
  auto writer = stub_->BulkUpsertProfiles(&context, &response);
  for (int i = 0; i < 10; ++i) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = BaseProfile(absl::StrCat("pa-", i));
    ASSERT_TRUE(writer->Write(request));
  }
  context.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(engine_->size(), 0);
}

TEST_F(ServiceTest, ConcurrentWritesAndSearches) {
  constexpr int kWriters = 8, kPerWriter = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        if (!Upsert(write_key_, BaseProfile(absl::StrCat("pa-", t, "-", i)))
                 .ok()) {
          ++failures;
        }
        v1::SearchResponse response;
        if (!SearchWith(search_key_, &response).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  v1::SearchResponse response;
  ASSERT_TRUE(SearchWith(search_key_, &response).ok());
  EXPECT_EQ(response.total_matches(), kWriters * kPerWriter);
}

TEST_F(ServiceTest, HealthReportsServingWithoutKey) {
  EXPECT_EQ(CheckHealth(channel_, ""), kHealthServing);
  EXPECT_EQ(CheckHealth(channel_, "pamatch.v1.Matcher"), kHealthServing);
  grpc::Status status;
  EXPECT_EQ(CheckHealth(channel_, "no.such.Service", &status), -1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, ReflectionIsServedUnlessTurnedOff) {
  // On by default (the fixture's server), without a key, as the API
  // contract lists it beside Health.
  grpc::Status status;
  std::string listed = testing::ListServicesByReflection(channel_, &status);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(listed.find("pamatch.v1.Matcher"), std::string::npos) << listed;
  EXPECT_NE(listed.find("grpc.health.v1.Health"), std::string::npos) << listed;

  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.reflection = false;
  absl::StatusOr<StartedServer> started = StartServer(options, service_.get());
  ASSERT_TRUE(started.ok()) << started.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", started->port),
                                     grpc::InsecureChannelCredentials());
  EXPECT_EQ(testing::ListServicesByReflection(channel, &status), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << status.error_message();
  started->server->Shutdown();

  // Turning it off once does not turn it off for servers built later.
  Stop();
  Start();
  listed = testing::ListServicesByReflection(channel_, &status);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(listed.find("pamatch.v1.Matcher"), std::string::npos) << listed;
}

TEST_F(ServiceTest, NotServingUntilTheEngineIsAttached) {
  MatcherService starting(keys_.get());
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  absl::StatusOr<StartedServer> started = StartServer(options, &starting);
  ASSERT_TRUE(started.ok()) << started.status();
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", started->port),
                                     grpc::InsecureChannelCredentials());
  EXPECT_EQ(CheckHealth(channel, ""), kHealthNotServing);
  EXPECT_EQ(CheckHealth(channel, "pamatch.v1.Matcher"), kHealthNotServing);
  v1::SearchResponse response;
  EXPECT_EQ(v1::Matcher::NewStub(channel)
                ->Search(ContextWithKey(admin_key_).get(),
                         testing::BaseRequest(), &response)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);

  starting.SetEngine(engine_.get());
  SetServing(*started->server, true);
  EXPECT_EQ(CheckHealth(channel, "pamatch.v1.Matcher"), kHealthServing);
  EXPECT_TRUE(v1::Matcher::NewStub(channel)
                  ->Search(ContextWithKey(admin_key_).get(),
                           testing::BaseRequest(), &response)
                  .ok());
  started->server->Shutdown();
}

TEST_F(ServiceTest, AcknowledgedWriteSurvivesRestart) {
  v1::Profile profile = BaseProfile("pa-1");
  profile.set_version(1700000000000);
  ASSERT_TRUE(Upsert(write_key_, profile).ok());
  Stop();
  Start();
  v1::GetProfileResponse got;
  ASSERT_TRUE(Get("pa-1", &got).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(got.profile(), profile));
}

}  // namespace
}  // namespace pamatch
