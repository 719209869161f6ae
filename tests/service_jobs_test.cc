// Jobs, MatchJobs and Watch at the gRPC edge (MATCHING.md "Jobs" and
// "Alerts"): a real gRPC server on a loopback port over a real engine in a
// fresh directory, called through the generated stub. Scopes, unknown
// fields, validation naming the field, bulk results per item, and Watch:
// events as writes cause them, resuming after a sequence with no gap and no
// duplicate, heartbeats when idle, cancellation and shutdown.
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "service/server.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"
#include "tests/watch_test_util.h"

namespace pamatch {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::TempDir;
using ::pamatch::testing::WatchSubscriber;
using ::testing::HasSubstr;

constexpr char kNewcastle[] = "E08000021";
constexpr char kGateshead[] = "E08000037";
constexpr absl::Duration kWait = absl::Seconds(10);

// An OPEN job in central Newcastle (the PA of BaseProfile lives there and
// travels 20 km) that every BaseProfile matches: no requirement beyond
// reach.
v1::Job BaseJob(const std::string& id, const std::string& la = kNewcastle) {
  v1::Job job;
  job.set_id(id);
  job.set_version(1);
  job.set_status(v1::OPEN);
  v1::SearchRequest* request = job.mutable_request();
  request->mutable_location()->set_lat(testing::kNewcastleLat);
  request->mutable_location()->set_lon(testing::kNewcastleLon);
  request->set_local_authority(la);
  request->set_max_distance_km(30);
  return job;
}

v1::WatchRequest WatchJob(const std::string& id) {
  v1::WatchRequest request;
  request.set_job_id(id);
  return request;
}
v1::WatchRequest WatchProfile(const std::string& id) {
  v1::WatchRequest request;
  request.set_profile_id(id);
  return request;
}
v1::WatchRequest WatchAuthorities(const std::vector<std::string>& codes) {
  v1::WatchRequest request;
  for (const std::string& code : codes) {
    request.mutable_local_authorities()->add_codes(code);
  }
  return request;
}

// A served engine in a fresh directory (daily pass off: the tests move no
// calendar) and three keys: search_key_, write_key_, admin_key_.
class ServiceJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    search_key_ = *GenerateApiKey();
    write_key_ = *GenerateApiKey();
    admin_key_ = *GenerateApiKey();
    absl::StatusOr<std::unique_ptr<ApiKeyStore>> keys = ApiKeyStore::FromText(
        FormatKeyLine("portal", static_cast<uint32_t>(Scope::kSearch),
                      HashApiKey(search_key_)) +
            "\n" +
            FormatKeyLine("importer", static_cast<uint32_t>(Scope::kWrite),
                          HashApiKey(write_key_)) +
            "\n" +
            FormatKeyLine("ops", static_cast<uint32_t>(Scope::kAdmin),
                          HashApiKey(admin_key_)) +
            "\n",
        "test keys");
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    Start();
  }

  void TearDown() override { Stop(); }

  // Opens the engine on dir_ and serves it; `watch` sets the heartbeat.
  // The engine's background pass (daily pass, event trimming) runs only
  // when `max_retained_events` is given.
  void Start(WatchOptions watch = WatchOptions(),
             std::optional<int64_t> max_retained_events = std::nullopt) {
    EngineOptions options;
    options.data_dir = dir_.path() + "/db";
    options.taxonomy_path = testing::TaxonomyPath();
    options.daily_pass_poll = absl::ZeroDuration();
    if (max_retained_events.has_value()) {
      options.max_retained_events = *max_retained_events;
      options.daily_pass_poll = absl::Milliseconds(50);
    }
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    service_ = std::make_unique<MatcherService>(keys_.get(), nullptr, watch);
    service_->SetEngine(engine_.get());
    testing::LoopbackServer served = testing::ServeOnLoopback(service_.get());
    ASSERT_NE(served.server, nullptr);
    server_ = std::move(served.server);
    stub_ = v1::Matcher::NewStub(served.channel);
  }

  // Ends the Watch streams, shuts the server down, closes the engine.
  void Stop() {
    if (service_ != nullptr) service_->StopWatches();
    stub_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    engine_.reset();
  }

  grpc::Status PostJob(const v1::Job& job,
                       v1::UpsertJobResponse* response = nullptr,
                       const std::string& key = "") {
    v1::UpsertJobRequest request;
    *request.mutable_job() = job;
    v1::UpsertJobResponse ignored;
    return stub_->UpsertJob(ContextWithKey(key.empty() ? write_key_ : key).get(),
                            request, response ? response : &ignored);
  }

  grpc::Status GetJob(const std::string& id, v1::GetJobResponse* response,
                      const std::string& key = "") {
    v1::GetJobRequest request;
    request.set_id(id);
    return stub_->GetJob(ContextWithKey(key.empty() ? search_key_ : key).get(),
                         request, response);
  }

  grpc::Status DeleteJob(const std::string& id, const std::string& key = "") {
    v1::DeleteJobRequest request;
    request.set_id(id);
    v1::DeleteJobResponse response;
    return stub_->DeleteJob(
        ContextWithKey(key.empty() ? write_key_ : key).get(), request,
        &response);
  }

  grpc::Status Upsert(const v1::Profile& profile) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = profile;
    v1::UpsertProfileResponse response;
    return stub_->UpsertProfile(ContextWithKey(write_key_).get(), request,
                                &response);
  }

  grpc::Status DeleteProfile(const std::string& id) {
    v1::DeleteProfileRequest request;
    request.set_id(id);
    v1::DeleteProfileResponse response;
    return stub_->DeleteProfile(ContextWithKey(write_key_).get(), request,
                                &response);
  }

  grpc::Status MatchJobs(const v1::MatchJobsRequest& request,
                         v1::MatchJobsResponse* response,
                         const std::string& key = "") {
    return stub_->MatchJobs(
        ContextWithKey(key.empty() ? search_key_ : key).get(), request,
        response);
  }

  // A subscriber with the search key whose first message (a heartbeat: the
  // watch is in place) has been read; nullptr after failing the test.
  std::unique_ptr<WatchSubscriber> Subscribe(const v1::WatchRequest& request) {
    auto subscriber =
        std::make_unique<WatchSubscriber>(*stub_, search_key_, request);
    std::optional<v1::WatchEvent> first = subscriber->Next(kWait);
    if (!first.has_value()) {
      ADD_FAILURE() << "no first message; stream status "
                    << subscriber->Finish(kWait).error_message();
      return nullptr;
    }
    EXPECT_EQ(first->kind(), v1::WatchEvent::HEARTBEAT) << first->DebugString();
    return subscriber;
  }

  TempDir dir_;
  std::string search_key_, write_key_, admin_key_;
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<MatcherService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
};

// Streams `jobs` with `key` and returns the call's status.
grpc::Status BulkUpsertJobs(v1::Matcher::Stub& stub, const std::string& key,
                            const std::vector<v1::UpsertJobRequest>& items,
                            v1::BulkUpsertJobsResponse* response) {
  std::unique_ptr<grpc::ClientContext> context = ContextWithKey(key);
  std::unique_ptr<grpc::ClientWriter<v1::UpsertJobRequest>> writer =
      stub.BulkUpsertJobs(context.get(), response);
  for (const v1::UpsertJobRequest& item : items) {
    if (!writer->Write(item)) break;  // the server finished early
  }
  writer->WritesDone();
  return writer->Finish();
}

// ---- scopes and unknown fields (the edge's own checks) ---------------------

TEST_F(ServiceJobsTest, EachJobRpcNeedsItsScope) {
  // Writes need write.
  grpc::Status status = PostJob(BaseJob("job-1"), nullptr, search_key_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"write\""));
  status = DeleteJob("job-1", search_key_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::UpsertJobRequest item;
  *item.mutable_job() = BaseJob("job-1");
  v1::BulkUpsertJobsResponse bulk;
  EXPECT_EQ(BulkUpsertJobs(*stub_, search_key_, {item}, &bulk).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(BulkUpsertJobs(*stub_, "", {item}, &bulk).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Reads need search.
  v1::GetJobResponse got;
  status = GetJob("job-1", &got, write_key_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"search\""));
  v1::MatchJobsRequest match;
  match.set_profile_id("pa-1");
  v1::MatchJobsResponse matched;
  EXPECT_EQ(MatchJobs(match, &matched, write_key_).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A key, or none, for every one of them.
  for (const std::string& key : {std::string(), *GenerateApiKey()}) {
    grpc::ClientContext context;
    if (!key.empty()) context.AddMetadata("authorization", "Bearer " + key);
    v1::UpsertJobRequest request;
    *request.mutable_job() = BaseJob("job-1");
    v1::UpsertJobResponse response;
    EXPECT_EQ(stub_->UpsertJob(&context, request, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(engine_->Stats().jobs(), 0);
}

TEST_F(ServiceJobsTest, WatchNeedsTheSearchScope) {
  WatchSubscriber no_key(*stub_, "", WatchJob("job-1"));
  grpc::Status status = no_key.Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "missing or invalid API key");
  EXPECT_EQ(no_key.Next(absl::ZeroDuration()), std::nullopt);

  WatchSubscriber writer(*stub_, write_key_, WatchJob("job-1"));
  status = writer.Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("\"search\""));
}

TEST_F(ServiceJobsTest, UnknownFieldsOnJobRequestsAreRefused) {
  // On the request wrapper: the edge refuses it.
  v1::UpsertJobRequest upsert;
  *upsert.mutable_job() = BaseJob("job-1");
  upsert.GetReflection()->MutableUnknownFields(&upsert)->AddLengthDelimited(
      99, "Jane Smith");
  v1::UpsertJobResponse upserted;
  grpc::Status status =
      stub_->UpsertJob(ContextWithKey(write_key_).get(), upsert, &upserted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown field number 99"));

  v1::GetJobRequest get;
  get.set_id("job-1");
  get.GetReflection()->MutableUnknownFields(&get)->AddVarint(7, 1);
  v1::GetJobResponse got;
  status = stub_->GetJob(ContextWithKey(search_key_).get(), get, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::MatchJobsRequest match;
  match.set_profile_id("pa-1");
  match.GetReflection()->MutableUnknownFields(&match)->AddVarint(42, 1);
  v1::MatchJobsResponse matched;
  EXPECT_EQ(MatchJobs(match, &matched).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::WatchRequest watch = WatchJob("job-1");
  watch.GetReflection()->MutableUnknownFields(&watch)->AddVarint(42, 1);
  WatchSubscriber unknown(*stub_, search_key_, watch);
  status = unknown.Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown field number 42"));

  // ...and in the set of authorities, which the edge reads whole.
  watch = WatchAuthorities({kNewcastle});
  watch.mutable_local_authorities()
      ->GetReflection()
      ->MutableUnknownFields(watch.mutable_local_authorities())
      ->AddLengthDelimited(9, "x");
  WatchSubscriber nested(*stub_, search_key_, watch);
  status = nested.Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("local_authorities"));

  // A bulk item with an unknown field is rejected alone.
  std::vector<v1::UpsertJobRequest> items(2);
  *items[0].mutable_job() = BaseJob("job-a");
  *items[1].mutable_job() = BaseJob("job-b");
  items[0].GetReflection()->MutableUnknownFields(&items[0])->AddVarint(99, 1);
  v1::BulkUpsertJobsResponse bulk;
  ASSERT_TRUE(BulkUpsertJobs(*stub_, write_key_, items, &bulk).ok());
  ASSERT_EQ(bulk.results_size(), 2);
  EXPECT_EQ(bulk.results(0).code(), static_cast<int>(grpc::INVALID_ARGUMENT));
  EXPECT_THAT(bulk.results(0).error(), HasSubstr("unknown field number 99"));
  EXPECT_EQ(bulk.results(0).id(), "job-a");
}

// ---- jobs through the engine -----------------------------------------------

TEST_F(ServiceJobsTest, UnknownFieldInsideAJobIsRefused) {
  v1::Job job = BaseJob("job-1");
  job.mutable_request()
      ->GetReflection()
      ->MutableUnknownFields(job.mutable_request())
      ->AddLengthDelimited(99, "07700 900123");
  grpc::Status status = PostJob(job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  v1::GetJobResponse got;
  EXPECT_EQ(GetJob("job-1", &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceJobsTest, PostedJobReadsBackAndMatchesLikeItsSearch) {
  const v1::Job job = BaseJob("job-1");
  v1::UpsertJobResponse posted;
  grpc::Status status = PostJob(job, &posted);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(posted.id(), "job-1");
  EXPECT_EQ(posted.version(), 1);
  EXPECT_TRUE(posted.created());
  EXPECT_GT(posted.position(), 0);

  v1::GetJobResponse got;
  status = GetJob("job-1", &got);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(got.job(), job))
      << got.job().DebugString();
  EXPECT_TRUE(got.open());

  ASSERT_TRUE(Upsert(BaseProfile("pa-1")).ok());
  v1::MatchJobsRequest match;
  match.set_profile_id("pa-1");
  match.set_as_of("2026-06-15");
  match.set_explain(true);
  v1::MatchJobsResponse matched;
  status = MatchJobs(match, &matched);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(matched.total_matches(), 1);
  EXPECT_EQ(matched.as_of(), "2026-06-15");
  ASSERT_EQ(matched.results_size(), 1);
  EXPECT_EQ(matched.results(0).job_id(), "job-1");
  EXPECT_EQ(matched.results(0).local_authority(), kNewcastle);
  EXPECT_TRUE(matched.results(0).has_explanation());

  // The same pair seen forward: the job's search returns the PA with the
  // same score.
  v1::SearchRequest forward = job.request();
  forward.set_as_of("2026-06-15");
  v1::SearchResponse found;
  ASSERT_TRUE(stub_->Search(ContextWithKey(search_key_).get(), forward, &found)
                  .ok());
  ASSERT_EQ(found.results_size(), 1);
  EXPECT_EQ(found.results(0).id(), "pa-1");
  EXPECT_EQ(found.results(0).score(), matched.results(0).score());

  // A whole profile, not stored, is matched the same way.
  match.clear_profile_id();
  *match.mutable_profile() = BaseProfile("pa-unstored");
  ASSERT_TRUE(MatchJobs(match, &matched).ok());
  EXPECT_EQ(matched.total_matches(), 1);

  v1::GetStatsResponse stats;
  ASSERT_TRUE(stub_->GetStats(ContextWithKey(admin_key_).get(),
                              v1::GetStatsRequest(), &stats)
                  .ok());
  EXPECT_EQ(stats.jobs(), 1);
  EXPECT_EQ(stats.open_jobs(), 1);
}

TEST_F(ServiceJobsTest, InvalidJobIsRejectedNamingTheField) {
  v1::Job job = BaseJob("job-1");
  job.mutable_request()->mutable_location()->set_lat(99);
  grpc::Status status = PostJob(job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("job.request.location.lat"));

  // Fields that belong to one search only must be unset.
  job = BaseJob("job-1");
  job.mutable_request()->set_page_size(10);
  status = PostJob(job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("job.request.page_size"));

  job = BaseJob("job-1");
  job.mutable_request()->add_must_have_skills("juggling");
  status = PostJob(job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("job.request.must_have_skills"));
  EXPECT_THAT(status.error_message(), HasSubstr("juggling"));

  v1::GetJobResponse got;
  EXPECT_EQ(GetJob("job-1", &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceJobsTest, StaleJobVersionIsFailedPreconditionAndDeleteIsFinal) {
  v1::Job job = BaseJob("job-1");
  job.set_version(5);
  ASSERT_TRUE(PostJob(job).ok());
  job.set_version(5);
  job.set_status(v1::FILLED);
  EXPECT_EQ(PostJob(job).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  job.set_version(0);  // stored + 1
  v1::UpsertJobResponse posted;
  ASSERT_TRUE(PostJob(job, &posted).ok());
  EXPECT_EQ(posted.version(), 6);
  EXPECT_FALSE(posted.created());
  v1::GetJobResponse got;
  ASSERT_TRUE(GetJob("job-1", &got).ok());
  EXPECT_EQ(got.job().status(), v1::FILLED);
  EXPECT_FALSE(got.open());

  ASSERT_TRUE(DeleteJob("job-1").ok());
  EXPECT_EQ(GetJob("job-1", &got).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(DeleteJob("job-1").error_code(), grpc::StatusCode::NOT_FOUND);
  v1::MatchJobsRequest unknown;
  unknown.set_profile_id("nobody");
  v1::MatchJobsResponse matched;
  EXPECT_EQ(MatchJobs(unknown, &matched).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceJobsTest, BulkUpsertJobsReportsEveryItem) {
  std::vector<v1::UpsertJobRequest> items(6);
  for (int i = 0; i < 6; ++i) {
    *items[i].mutable_job() = BaseJob(absl::StrCat("job-", i));
  }
  items[2].mutable_job()->mutable_request()->mutable_location()->set_lat(99);
  items[4].mutable_job()->mutable_request()->set_as_of("2026-06-15");
  v1::BulkUpsertJobsResponse response;
  grpc::Status status = BulkUpsertJobs(*stub_, write_key_, items, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 4);
  EXPECT_EQ(response.rejected(), 2);
  ASSERT_EQ(response.results_size(), 6);
  for (int i = 0; i < 6; ++i) {
    const v1::BulkItemResult& result = response.results(i);
    EXPECT_EQ(result.index(), i);
    EXPECT_EQ(result.id(), absl::StrCat("job-", i));
    v1::GetJobResponse got;
    if (i == 2 || i == 4) {
      EXPECT_EQ(result.code(), static_cast<int>(grpc::INVALID_ARGUMENT)) << i;
      EXPECT_EQ(GetJob(result.id(), &got).error_code(),
                grpc::StatusCode::NOT_FOUND);
    } else {
      EXPECT_EQ(result.code(), 0) << result.error();
      EXPECT_EQ(result.version(), 1);
      EXPECT_TRUE(GetJob(result.id(), &got).ok());
    }
  }
  EXPECT_THAT(response.results(2).error(),
              HasSubstr("job.request.location.lat"));
  EXPECT_THAT(response.results(4).error(), HasSubstr("job.request.as_of"));

  // Several batches, in stream order.
  items.clear();
  const int count = 2 * static_cast<int>(kBulkBatchSize) + 5;
  for (int i = 0; i < count; ++i) {
    v1::UpsertJobRequest item;
    *item.mutable_job() = BaseJob("one");
    item.mutable_job()->set_version(0);
    items.push_back(item);
  }
  ASSERT_TRUE(BulkUpsertJobs(*stub_, write_key_, items, &response).ok());
  ASSERT_EQ(response.results_size(), count);
  EXPECT_EQ(response.accepted(), count);
  EXPECT_EQ(response.results(count - 1).version(), count);
}

// ---- Watch -------------------------------------------------------------------

TEST_F(ServiceJobsTest, WatchStartsWithAHeartbeatAtTheLastSequence) {
  WatchSubscriber subscriber(*stub_, search_key_,
                             WatchAuthorities({kNewcastle}));
  std::optional<v1::WatchEvent> first = subscriber.Next(kWait);
  ASSERT_TRUE(first.has_value()) << subscriber.Finish(kWait).error_message();
  EXPECT_EQ(first->kind(), v1::WatchEvent::HEARTBEAT);
  EXPECT_EQ(first->sequence(), engine_->LastEventSequence());
  EXPECT_EQ(service_->open_watch_streams(), 1);
}

TEST_F(ServiceJobsTest, WatchSendsMatchStartedAndEndedAsWritesCauseThem) {
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  std::unique_ptr<WatchSubscriber> job = Subscribe(WatchJob("job-1"));
  std::unique_ptr<WatchSubscriber> pa = Subscribe(WatchProfile("pa-1"));
  std::unique_ptr<WatchSubscriber> newcastle =
      Subscribe(WatchAuthorities({kNewcastle}));
  std::unique_ptr<WatchSubscriber> gateshead =
      Subscribe(WatchAuthorities({kGateshead}));
  ASSERT_TRUE(job && pa && newcastle && gateshead);

  // A PA who fits joins: the match starts.
  ASSERT_TRUE(Upsert(BaseProfile("pa-1")).ok());
  for (WatchSubscriber* subscriber : {job.get(), pa.get(), newcastle.get()}) {
    std::optional<v1::WatchEvent> event = subscriber->NextEvent(kWait);
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->kind(), v1::WatchEvent::MATCH_STARTED);
    EXPECT_EQ(event->job_id(), "job-1");
    EXPECT_EQ(event->profile_id(), "pa-1");
    EXPECT_EQ(event->cause(), "profile_upsert");
    EXPECT_EQ(event->local_authority(), kNewcastle);
    EXPECT_GT(event->sequence(), 0);
    EXPECT_GT(event->position(), 0);
    EXPECT_FALSE(event->day().empty());
    // The score MatchJobs gives the pair on the event's day.
    v1::MatchJobsRequest match;
    match.set_profile_id("pa-1");
    match.set_as_of(event->day());
    v1::MatchJobsResponse matched;
    ASSERT_TRUE(MatchJobs(match, &matched).ok());
    ASSERT_EQ(matched.results_size(), 1);
    EXPECT_EQ(event->score(), matched.results(0).score());
  }

  // A job elsewhere is not Newcastle's subscriber's business.
  v1::UpsertJobResponse posted;
  ASSERT_TRUE(PostJob(BaseJob("job-2", kGateshead), &posted).ok());
  std::optional<v1::WatchEvent> event = gateshead->NextEvent(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind(), v1::WatchEvent::MATCH_STARTED);
  EXPECT_EQ(event->job_id(), "job-2");
  EXPECT_EQ(event->cause(), "job_upsert");
  EXPECT_EQ(event->position(), posted.position());
  event = pa->NextEvent(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->job_id(), "job-2");

  // The PA leaves: both matches end.
  ASSERT_TRUE(DeleteProfile("pa-1").ok());
  event = job->NextEvent(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind(), v1::WatchEvent::MATCH_ENDED);
  EXPECT_EQ(event->profile_id(), "pa-1");
  EXPECT_EQ(event->cause(), "profile_delete");
  EXPECT_EQ(event->score(), 0);
  std::set<std::string> ended;
  for (int i = 0; i < 2; ++i) {
    event = pa->NextEvent(kWait);
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->kind(), v1::WatchEvent::MATCH_ENDED);
    ended.insert(event->job_id());
  }
  EXPECT_EQ(ended, (std::set<std::string>{"job-1", "job-2"}));

  // Newcastle's subscriber saw nothing of Gateshead's job: its next event is
  // job-1's end.
  event = newcastle->NextEvent(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->job_id(), "job-1");
  EXPECT_EQ(event->kind(), v1::WatchEvent::MATCH_ENDED);
}

TEST_F(ServiceJobsTest, WatchResumesAfterASequenceWithNoGapAndNoDuplicate) {
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  std::vector<v1::WatchEvent> all;
  {
    std::unique_ptr<WatchSubscriber> subscriber = Subscribe(WatchJob("job-1"));
    ASSERT_NE(subscriber, nullptr);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(Upsert(BaseProfile(absl::StrCat("pa-", i))).ok());
    }
    for (int i = 0; i < 5; ++i) {
      std::optional<v1::WatchEvent> event = subscriber->NextEvent(kWait);
      ASSERT_TRUE(event.has_value()) << i;
      all.push_back(*event);
    }
  }
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GT(all[i].sequence(), all[i - 1].sequence());
  }

  // Resuming after the second event: the third, fourth and fifth, then a
  // heartbeat at (or past) the fifth.
  v1::WatchRequest resume = WatchJob("job-1");
  resume.set_after_sequence(all[1].sequence());
  WatchSubscriber resumed(*stub_, search_key_, resume);
  for (size_t i = 2; i < all.size(); ++i) {
    std::optional<v1::WatchEvent> event = resumed.Next(kWait);
    ASSERT_TRUE(event.has_value()) << i;
    EXPECT_TRUE(MessageDifferencer::Equals(*event, all[i]))
        << event->DebugString() << "\nvs\n"
        << all[i].DebugString();
  }
  // More writes arrive after the replay, in order, once each.
  ASSERT_TRUE(Upsert(BaseProfile("pa-late")).ok());
  std::optional<v1::WatchEvent> late = resumed.NextEvent(kWait);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->profile_id(), "pa-late");
  EXPECT_GT(late->sequence(), all.back().sequence());

  // From the start of the log: every event again.
  resume.set_after_sequence(0);
  WatchSubscriber again(*stub_, search_key_, resume);
  for (size_t i = 0; i < all.size(); ++i) {
    std::optional<v1::WatchEvent> event = again.NextEvent(kWait);
    ASSERT_TRUE(event.has_value()) << i;
    EXPECT_EQ(event->sequence(), all[i].sequence());
  }

  // Beyond the last event: INVALID_ARGUMENT.
  resume.set_after_sequence(engine_->LastEventSequence() + 1000);
  WatchSubscriber beyond(*stub_, search_key_, resume);
  EXPECT_EQ(beyond.Finish(kWait).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceJobsTest, WatchResumesAcrossARestart) {
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  ASSERT_TRUE(Upsert(BaseProfile("pa-1")).ok());
  const int64_t before = engine_->LastEventSequence();
  ASSERT_GT(before, 0);
  Stop();
  Start();
  ASSERT_TRUE(Upsert(BaseProfile("pa-2")).ok());
  v1::WatchRequest resume = WatchJob("job-1");
  resume.set_after_sequence(before);
  WatchSubscriber subscriber(*stub_, search_key_, resume);
  std::optional<v1::WatchEvent> event = subscriber.Next(kWait);
  ASSERT_TRUE(event.has_value()) << subscriber.Finish(kWait).error_message();
  EXPECT_EQ(event->profile_id(), "pa-2");
  EXPECT_GT(event->sequence(), before);
}

TEST_F(ServiceJobsTest, IdleWatchGetsHeartbeats) {
  Stop();
  WatchOptions fast;
  fast.heartbeat_period = absl::Milliseconds(200);
  Start(fast);
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  std::unique_ptr<WatchSubscriber> subscriber = Subscribe(WatchJob("job-1"));
  ASSERT_NE(subscriber, nullptr);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 3; ++i) {
    std::optional<v1::WatchEvent> beat = subscriber->Next(kWait);
    ASSERT_TRUE(beat.has_value());
    EXPECT_EQ(beat->kind(), v1::WatchEvent::HEARTBEAT);
    EXPECT_EQ(beat->sequence(), engine_->LastEventSequence());
  }
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(3 * 200 - 50));
  EXPECT_LT(took, absl::Seconds(5));

  // An event in between, then heartbeats carry its sequence: the events of
  // other subscribers move the position too.
  ASSERT_TRUE(Upsert(BaseProfile("pa-1")).ok());
  std::optional<v1::WatchEvent> event = subscriber->NextEvent(kWait);
  ASSERT_TRUE(event.has_value());
  ASSERT_TRUE(PostJob(BaseJob("job-other", kGateshead)).ok());
  const int64_t last = engine_->LastEventSequence();
  ASSERT_GT(last, event->sequence());
  std::optional<v1::WatchEvent> beat = subscriber->Next(kWait);
  while (beat.has_value() && beat->sequence() < last) {
    ASSERT_EQ(beat->kind(), v1::WatchEvent::HEARTBEAT);
    beat = subscriber->Next(kWait);
  }
  ASSERT_TRUE(beat.has_value());
  EXPECT_EQ(beat->kind(), v1::WatchEvent::HEARTBEAT);
  EXPECT_EQ(beat->sequence(), last);
}

TEST_F(ServiceJobsTest, CancelledWatchEndsAtOnceWhileWaiting) {
  // The default 10 s heartbeat: the stream is parked when cancelled.
  std::unique_ptr<WatchSubscriber> subscriber = Subscribe(WatchJob("job-1"));
  ASSERT_NE(subscriber, nullptr);
  EXPECT_EQ(service_->open_watch_streams(), 1);
  const absl::Time start = absl::Now();
  subscriber->Cancel();
  EXPECT_EQ(subscriber->Finish(kWait).error_code(),
            grpc::StatusCode::CANCELLED);
  while (service_->open_watch_streams() > 0 &&
         absl::Now() - start < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(service_->open_watch_streams(), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // Writes go on and reach nobody's dead stream.
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  ASSERT_TRUE(Upsert(BaseProfile("pa-1")).ok());
}

TEST_F(ServiceJobsTest, ManyWatchersAllSeeEveryEventOnce) {
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  constexpr int kWatchers = 20, kProfiles = 10;
  std::vector<std::unique_ptr<WatchSubscriber>> watchers;
  for (int w = 0; w < kWatchers; ++w) {
    watchers.push_back(Subscribe(w % 2 == 0 ? WatchJob("job-1")
                                            : WatchAuthorities({kNewcastle})));
    ASSERT_NE(watchers.back(), nullptr);
  }
  for (int i = 0; i < kProfiles; ++i) {
    ASSERT_TRUE(Upsert(BaseProfile(absl::StrCat("pa-", i))).ok());
  }
  for (auto& watcher : watchers) {
    std::set<std::string> seen;
    for (int i = 0; i < kProfiles; ++i) {
      std::optional<v1::WatchEvent> event = watcher->NextEvent(kWait);
      ASSERT_TRUE(event.has_value()) << i;
      EXPECT_TRUE(seen.insert(event->profile_id()).second)
          << "duplicate " << event->profile_id();
    }
    EXPECT_EQ(watcher->NextEvent(absl::Milliseconds(50)), std::nullopt);
  }
}

// Streams woken, parked, cancelled and started while writers write: the
// ones that stay see every event once, in order, and the others go away.
TEST_F(ServiceJobsTest, WatchersComingAndGoingDuringWrites) {
  Stop();
  WatchOptions fast;
  fast.heartbeat_period = absl::Milliseconds(20);
  fast.read_batch = 3;  // several reads per wake-up
  Start(fast);
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  ASSERT_TRUE(PostJob(BaseJob("job-2", kGateshead)).ok());
  std::vector<std::unique_ptr<WatchSubscriber>> stayers;
  for (int w = 0; w < 6; ++w) {
    stayers.push_back(Subscribe(w % 2 == 0 ? WatchAuthorities({kNewcastle})
                                           : WatchProfile("pa-0-0")));
    ASSERT_NE(stayers.back(), nullptr);
  }
  constexpr int kWriters = 3, kPerWriter = 15;
  std::atomic<bool> writing{true};
  std::thread churn([&] {
    while (writing.load()) {
      WatchSubscriber passer(*stub_, search_key_,
                             WatchAuthorities({kNewcastle, kGateshead}));
      passer.Next(absl::Milliseconds(5));
    }
  });
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        if (!Upsert(BaseProfile(absl::StrCat("pa-", t, "-", i))).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  writing = false;
  churn.join();
  ASSERT_EQ(failures.load(), 0);
  // Newcastle's subscribers: one start per PA (job-1); pa-0-0's: two.
  for (size_t w = 0; w < stayers.size(); ++w) {
    const int expected = w % 2 == 0 ? kWriters * kPerWriter : 2;
    std::set<std::string> seen;
    int64_t last = 0;
    for (int i = 0; i < expected; ++i) {
      std::optional<v1::WatchEvent> event = stayers[w]->NextEvent(kWait);
      ASSERT_TRUE(event.has_value()) << w << " " << i;
      EXPECT_GT(event->sequence(), last);
      last = event->sequence();
      EXPECT_TRUE(
          seen.insert(event->job_id() + "/" + event->profile_id()).second);
    }
    EXPECT_EQ(stayers[w]->NextEvent(absl::Milliseconds(100)), std::nullopt);
  }
  const absl::Time start = absl::Now();
  while (service_->open_watch_streams() > static_cast<int64_t>(stayers.size()) &&
         absl::Now() - start < kWait) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(service_->open_watch_streams(),
            static_cast<int64_t>(stayers.size()));
}

TEST_F(ServiceJobsTest, StopWatchesEndsStreamsAndRefusesNewOnes) {
  std::unique_ptr<WatchSubscriber> subscriber = Subscribe(WatchJob("job-1"));
  ASSERT_NE(subscriber, nullptr);
  service_->StopWatches();
  grpc::Status status = subscriber->Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("after_sequence"));
  WatchSubscriber late(*stub_, search_key_, WatchJob("job-1"));
  EXPECT_EQ(late.Finish(kWait).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServiceJobsTest, WatchBehindTheRetentionIsToldToResynchronise) {
  Stop();
  Start(WatchOptions(), /*max_retained_events=*/2);
  ASSERT_TRUE(PostJob(BaseJob("job-1")).ok());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Upsert(BaseProfile(absl::StrCat("pa-", i))).ok());
  }
  // The engine's background pass drops the oldest events.
  const absl::Time start = absl::Now();
  while (engine_->Stats().oldest_event_sequence() <= 1 &&
         absl::Now() - start < kWait) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GT(engine_->Stats().oldest_event_sequence(), 1);
  v1::WatchRequest resume = WatchJob("job-1");
  resume.set_after_sequence(0);
  WatchSubscriber behind(*stub_, search_key_, resume);
  grpc::Status status = behind.Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("resynchronise"));
}

TEST_F(ServiceJobsTest, WatchOfAnInvalidTargetIsInvalidArgument) {
  WatchSubscriber none(*stub_, search_key_, v1::WatchRequest());
  EXPECT_EQ(none.Finish(kWait).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  WatchSubscriber unknown_la(*stub_, search_key_,
                             WatchAuthorities({"E99999999"}));
  grpc::Status status = unknown_la.Finish(kWait);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("E99999999"));
}

}  // namespace
}  // namespace pamatch
