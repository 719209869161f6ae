// Keys limited to local authorities, keys that expire and keys with a rate
// (issue 18 points 2 and 3): the keys file's limit columns, and a real
// server on loopback over a real engine holding PAs of two neighbouring
// authorities, where a key limited to one of them is held to it on every
// RPC, and a search never returns or counts a PA of the other.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
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

constexpr char kNewcastle[] = "E08000021";
constexpr char kGateshead[] = "E08000037";
constexpr uint32_t kAll = static_cast<uint32_t>(Scope::kAdmin);

std::string Bearer(const std::string& key) { return "Bearer " + key; }

absl::StatusOr<KeyLimits> Limits(std::vector<absl::string_view> columns) {
  return ParseKeyLimits(columns);
}

TEST(KeyLimitsTest, ParseAndFormatRoundTrip) {
  absl::StatusOr<KeyLimits> limits =
      Limits({"authorities=E08000037,E08000021,E08000021",
              "expires=2027-03-31", "rate=2.5", "burst=10"});
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->authorities,
            (std::vector<std::string>{kNewcastle, kGateshead}));
  EXPECT_EQ(*limits->expires,
            absl::FromCivil(absl::CivilDay(2027, 4, 1), absl::UTCTimeZone()));
  EXPECT_EQ(limits->rate, 2.5);
  EXPECT_EQ(limits->burst, 10);
  EXPECT_EQ(FormatKeyLimits(*limits),
            "\tauthorities=E08000021,E08000037\texpires=2027-03-31"
            "\trate=2.5\tburst=10");
  // An instant stays an instant; burst defaults to max(1, rate).
  limits = Limits({"expires=2027-03-31T17:30:00Z", "rate=0.5"});
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->burst, 1);
  EXPECT_EQ(FormatKeyLimits(*limits),
            "\texpires=2027-03-31T17:30:00+00:00\trate=0.5\tburst=1");
  // No limits: the three columns older builds read.
  EXPECT_EQ(FormatKeyLine("a", kAll, HashApiKey("k")),
            "a\tadmin\t" + HashApiKey("k"));
}

TEST(KeyLimitsTest, MalformedLimitsAreRefused) {
  const std::string hash = HashApiKey("k");
  struct Case {
    std::string limits, message;
  } cases[] = {
      {"authorities", "name=value"},
      {"colour=blue", "unknown limit \"colour\""},
      {"authorities=", "local authority codes"},
      {"authorities=E08000021,,E08000037", "local authority codes"},
      {"expires=2027-02-30", "expires"},
      {"expires=soon", "expires"},
      {"rate=0", "rate"},
      {"rate=-1", "rate"},
      {"rate=nan", "rate"},
      {"burst=5", "burst: needs rate"},
      {"rate=5\tburst=0.5", "burst"},
      {"rate=1\trate=2", "given twice"},
  };
  for (const Case& c : cases) {
    auto store = ApiKeyStore::FromText(
        absl::StrCat("a\tsearch\t", hash, "\t", c.limits, "\n"), "keys");
    EXPECT_FALSE(store.ok()) << c.limits;
    EXPECT_THAT(store.status().message(), HasSubstr("line 1")) << c.limits;
    EXPECT_THAT(store.status().message(), HasSubstr(c.message)) << c.limits;
  }
}

TEST(KeyLimitsTest, UnknownAuthoritiesAreRefusedWhenTheFileIsLoaded) {
  TempDir dir;
  const std::string path = dir.path() + "/keys";
  auto known = [](absl::string_view code) { return code == kNewcastle; };
  ASSERT_TRUE(AppendApiKey(path, "ncl", kAll,
                           *Limits({"authorities=E08000021"}))
                  .ok());
  EXPECT_TRUE(ApiKeyStore::Open(path, known).ok());
  ASSERT_TRUE(AppendApiKey(path, "typo", kAll,
                           *Limits({"authorities=E0800002"}))
                  .ok());
  absl::StatusOr<std::unique_ptr<ApiKeyStore>> store =
      ApiKeyStore::Open(path, known);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(),
              HasSubstr(": authorities: unknown local authority "
                        "\"E0800002\""));
}

TEST(KeyLimitsTest, AnExpiredKeyIsRefusedFromTheDayAfter) {
  const std::string key = *GenerateApiKey();
  auto store = ApiKeyStore::FromText(
      FormatKeyLine("temp", kAll, HashApiKey(key),
                    *Limits({"expires=2027-03-31"})),
      "keys");
  ASSERT_TRUE(store.ok()) << store.status();
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time last_moment =
      absl::FromCivil(absl::CivilSecond(2027, 3, 31, 23, 59, 59), utc);
  EXPECT_TRUE((*store)->Authorize(Bearer(key), Scope::kSearch, last_moment).ok());
  absl::StatusOr<KeyGrant> late = (*store)->Authorize(
      Bearer(key), Scope::kSearch, last_moment + absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnauthenticated(late.status())) << late.status();
  EXPECT_THAT(late.status().message(),
              HasSubstr("\"temp\" expired at 2027-04-01T00:00:00"));
}

TEST(KeyLimitsTest, ARateLimitedKeyGetsResourceExhaustedWithARetryDelay) {
  const std::string key = *GenerateApiKey(), other = *GenerateApiKey();
  auto store = ApiKeyStore::FromText(
      FormatKeyLine("slow", kAll, HashApiKey(key),
                    *Limits({"rate=0.5", "burst=2"})) +
          "\n" + FormatKeyLine("free", kAll, HashApiKey(other)),
      "keys");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Authorize(Bearer(key), Scope::kSearch).ok());
  EXPECT_TRUE((*store)->Authorize(Bearer(key), Scope::kSearch).ok());
  absl::StatusOr<KeyGrant> refused =
      (*store)->Authorize(Bearer(key), Scope::kSearch);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("\"slow\""));
  EXPECT_THAT(refused.status().message(), HasSubstr("retry after"));
  auto payload =
      refused.status().GetPayload(kRetryInfoTypeUrl);
  ASSERT_TRUE(payload.has_value());
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(retry.ParseFromString(std::string(*payload)));
  // Two seconds per token at 0.5/s, less the moments since the burst.
  const int64_t ms = retry.retry_delay().seconds() * 1000 +
                     retry.retry_delay().nanos() / 1'000'000;
  EXPECT_GT(ms, 1500);
  EXPECT_LE(ms, 2000);
  // Another key is not slowed by it.
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE((*store)->Authorize(Bearer(other), Scope::kSearch).ok());
  }
}

TEST(KeyLimitsTest, AReloadKeepsAnEmptyBucketEmpty) {
  TempDir dir;
  const std::string path = dir.path() + "/keys";
  absl::StatusOr<std::string> key =
      AppendApiKey(path, "slow", kAll, *Limits({"rate=0.01", "burst=1"}));
  ASSERT_TRUE(key.ok()) << key.status();
  auto store = ApiKeyStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Authorize(Bearer(*key), Scope::kSearch).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      (*store)->Authorize(Bearer(*key), Scope::kSearch).status()));
  ASSERT_TRUE(AppendApiKey(path, "another", kAll).ok());
  ASSERT_TRUE((*store)->Reload().ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      (*store)->Authorize(Bearer(*key), Scope::kSearch).status()));
}

// A real server over a real engine with PAs in Newcastle and in Gateshead
// (next door: a search from Newcastle reaches both), an unlimited key and
// keys limited to Newcastle.
class LimitedKeyServiceTest : public ::testing::Test {
 protected:
  static constexpr int kPerAuthority = 30;

  void SetUp() override {
    admin_ = *GenerateApiKey();
    newcastle_ = *GenerateApiKey();
    newcastle_reader_ = *GenerateApiKey();
    auto keys = ApiKeyStore::FromText(
        FormatKeyLine("admin", kAll, HashApiKey(admin_)) + "\n" +
            FormatKeyLine("ncl", kAll, HashApiKey(newcastle_),
                          *Limits({"authorities=E08000021"})) +
            "\n" +
            FormatKeyLine("ncl-reader", static_cast<uint32_t>(Scope::kSearch),
                          HashApiKey(newcastle_reader_),
                          *Limits({"authorities=E08000021"})),
        "keys");
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    engine_ = testing::OpenEngine(dir_.path());
    ASSERT_NE(engine_, nullptr);
    for (int i = 0; i < kPerAuthority; ++i) {
      v1::Profile ncl = BaseProfile(absl::StrCat("ncl-", i));
      ncl.mutable_location()->set_lat(testing::kNewcastleLat + 0.001 * i);
      ASSERT_TRUE(engine_->Upsert(ncl).ok());
      v1::Profile gat = BaseProfile(absl::StrCat("gat-", i));
      gat.set_local_authority(kGateshead);
      gat.mutable_location()->set_lat(54.9527 - 0.001 * i);
      gat.mutable_location()->set_lon(-1.6034);
      ASSERT_TRUE(engine_->Upsert(gat).ok());
    }
    service_ = std::make_unique<MatcherService>(keys_.get());
    service_->SetEngine(engine_.get());
    served_ = testing::ServeOnLoopback(service_.get());
    ASSERT_NE(served_.server, nullptr);
    stub_ = v1::Matcher::NewStub(served_.channel);
  }

  void TearDown() override {
    if (service_ != nullptr) service_->StopWatches();
    if (served_.server != nullptr) served_.server->Shutdown();
  }

  v1::SearchRequest NewcastleSearch(int page_size) const {
    v1::SearchRequest request;
    request.set_local_authority(kNewcastle);
    request.set_max_distance_km(15);
    request.set_page_size(page_size);
    request.set_as_of("2026-12-07");
    return request;
  }

  // Every result of `request` for `key`, page by page, and the totals.
  std::vector<std::string> AllResults(const std::string& key,
                                      v1::SearchRequest request,
                                      std::set<int64_t>* totals) {
    std::vector<std::string> ids;
    for (int page = 0; page < 100; ++page) {
      v1::SearchResponse response;
      grpc::Status status =
          stub_->Search(ContextWithKey(key).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      totals->insert(response.total_matches());
      for (const auto& result : response.results()) {
        ids.push_back(result.id());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return ids;
  }

  grpc::Status Upsert(const std::string& key, const v1::Profile& profile) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = profile;
    v1::UpsertProfileResponse response;
    return stub_->UpsertProfile(ContextWithKey(key).get(), request, &response);
  }

  grpc::Status Get(const std::string& key, const std::string& id,
                   v1::GetProfileResponse* response) {
    v1::GetProfileRequest request;
    request.set_id(id);
    return stub_->GetProfile(ContextWithKey(key).get(), request, response);
  }

  TempDir dir_;
  std::string admin_, newcastle_, newcastle_reader_;
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<MatcherService> service_;
  testing::LoopbackServer served_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
};

TEST_F(LimitedKeyServiceTest, ASearchSeesAndCountsOnlyItsAuthoritysPas) {
  std::set<int64_t> all_totals, limited_totals;
  const std::vector<std::string> all =
      AllResults(admin_, NewcastleSearch(7), &all_totals);
  // The unlimited search reaches both authorities.
  ASSERT_EQ(all.size(), 2u * kPerAuthority);
  EXPECT_EQ(all_totals, std::set<int64_t>{2 * kPerAuthority});
  for (const std::string& key : {newcastle_, newcastle_reader_}) {
    limited_totals.clear();
    const std::vector<std::string> limited =
        AllResults(key, NewcastleSearch(7), &limited_totals);
    // The same order, less Gateshead's PAs, on every page and in the total.
    std::vector<std::string> expected;
    for (const std::string& id : all) {
      if (id.rfind("ncl-", 0) == 0) expected.push_back(id);
    }
    EXPECT_EQ(limited, expected);
    EXPECT_EQ(limited_totals, std::set<int64_t>{kPerAuthority});
  }
}

TEST_F(LimitedKeyServiceTest, ASearchMustNameOneOfItsAuthorities) {
  for (const std::string& la : {std::string(kGateshead), std::string()}) {
    v1::SearchRequest request = NewcastleSearch(5);
    request.set_local_authority(la);
    request.mutable_location()->set_lat(testing::kNewcastleLat);
    request.mutable_location()->set_lon(testing::kNewcastleLon);
    v1::SearchResponse response;
    grpc::Status status =
        stub_->Search(ContextWithKey(newcastle_).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << la;
    EXPECT_THAT(status.error_message(),
                HasSubstr(absl::StrCat("local_authority: local authority \"",
                                       la, "\" is outside those of API key "
                                           "\"ncl\" (E08000021)")));
    EXPECT_EQ(response.results_size(), 0);
  }
}

TEST_F(LimitedKeyServiceTest, ProfilesOfAnotherAuthorityCannotBeTouched) {
  // Created elsewhere: refused, nothing stored.
  v1::Profile elsewhere = BaseProfile("new-gat");
  elsewhere.set_local_authority(kGateshead);
  grpc::Status status = Upsert(newcastle_, elsewhere);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("profile.local_authority: local authority "
                        "\"E08000037\" is outside"));
  v1::GetProfileResponse got;
  EXPECT_EQ(Get(admin_, "new-gat", &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Another authority's PA, moved here: refused, unchanged.
  v1::Profile moved = BaseProfile("gat-3");
  moved.set_version(0);
  status = Upsert(newcastle_, moved);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("profile \"gat-3\" belongs to a local authority "
                        "outside those of API key \"ncl\" (E08000021)"));
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr(kGateshead)));
  ASSERT_TRUE(Get(admin_, "gat-3", &got).ok());
  EXPECT_EQ(got.profile().local_authority(), kGateshead);
  EXPECT_EQ(got.profile().version(), 1);

  // Read and deleted: refused; still there.
  got.Clear();
  EXPECT_EQ(Get(newcastle_, "gat-3", &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_FALSE(got.has_profile());
  v1::DeleteProfileRequest del;
  del.set_id("gat-3");
  v1::DeleteProfileResponse deleted;
  EXPECT_EQ(stub_->DeleteProfile(ContextWithKey(newcastle_).get(), del,
                                 &deleted)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Get(admin_, "gat-3", &got).ok());

  // Its own: read, updated and deleted as usual.
  EXPECT_TRUE(Get(newcastle_reader_, "ncl-3", &got).ok());
  v1::Profile own = BaseProfile("ncl-3");
  own.set_version(2);
  EXPECT_TRUE(Upsert(newcastle_, own).ok());
  del.set_id("ncl-3");
  EXPECT_TRUE(stub_->DeleteProfile(ContextWithKey(newcastle_).get(), del,
                                   &deleted)
                  .ok());
  EXPECT_EQ(Get(admin_, "ncl-3", &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(LimitedKeyServiceTest, ABulkStreamRefusesItemsOfAnotherAuthority) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", Bearer(newcastle_));
  v1::BulkUpsertProfilesResponse response;
  auto writer = stub_->BulkUpsertProfiles(&context, &response);
  v1::UpsertProfileRequest item;
  *item.mutable_profile() = BaseProfile("bulk-ncl");
  ASSERT_TRUE(writer->Write(item));
  *item.mutable_profile() = BaseProfile("bulk-gat");
  item.mutable_profile()->set_local_authority(kGateshead);
  ASSERT_TRUE(writer->Write(item));
  *item.mutable_profile() = BaseProfile("gat-4");  // stored in Gateshead
  item.mutable_profile()->set_version(5);
  ASSERT_TRUE(writer->Write(item));
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_EQ(response.accepted(), 1);
  EXPECT_EQ(response.results(0).code(), 0);
  EXPECT_EQ(response.results(1).code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(response.results(2).code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::GetProfileResponse got;
  EXPECT_EQ(Get(admin_, "bulk-gat", &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Get(admin_, "gat-4", &got).ok());
  EXPECT_EQ(got.profile().version(), 1);
}

TEST_F(LimitedKeyServiceTest, PoliciesStatsAndBackupsStayWithinTheKey) {
  v1::SetPolicyRequest set;
  set.mutable_policy()->set_local_authority(kGateshead);
  set.mutable_policy()->set_min_dbs_level(v1::DBS_BASIC);
  v1::Policy policy;
  EXPECT_EQ(
      stub_->SetPolicy(ContextWithKey(newcastle_).get(), set, &policy)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      stub_->SetPolicy(ContextWithKey(admin_).get(), set, &policy).ok());
  set.mutable_policy()->set_local_authority(kNewcastle);
  ASSERT_TRUE(
      stub_->SetPolicy(ContextWithKey(newcastle_).get(), set, &policy).ok());

  v1::ListPoliciesResponse listed;
  ASSERT_TRUE(stub_->ListPolicies(ContextWithKey(newcastle_).get(),
                                  v1::ListPoliciesRequest(), &listed)
                  .ok());
  ASSERT_EQ(listed.policies_size(), 1);
  EXPECT_EQ(listed.policies(0).local_authority(), kNewcastle);
  v1::GetPolicyRequest get;
  get.set_local_authority(kGateshead);
  EXPECT_EQ(
      stub_->GetPolicy(ContextWithKey(newcastle_).get(), get, &policy)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::DeletePolicyRequest del;
  del.set_local_authority(kGateshead);
  v1::DeletePolicyResponse deleted;
  EXPECT_EQ(
      stub_->DeletePolicy(ContextWithKey(newcastle_).get(), del, &deleted)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->GetPolicy(ContextWithKey(admin_).get(), get, &policy).ok());

  v1::GetStatsResponse stats;
  grpc::Status status = stub_->GetStats(ContextWithKey(newcastle_).get(),
                                        v1::GetStatsRequest(), &stats);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("GetStats: spans every"));
  EXPECT_EQ(stats.profiles(), 0);
  v1::BackupRequest backup;
  backup.set_destination_dir(dir_.path() + "/backup");
  v1::BackupResponse backed_up;
  EXPECT_EQ(stub_->Backup(ContextWithKey(newcastle_).get(), backup, &backed_up)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      stub_->GetStats(ContextWithKey(admin_).get(), v1::GetStatsRequest(), &stats)
          .ok());
}

TEST_F(LimitedKeyServiceTest, JobsMatchJobsAndWatchStayWithinTheKey) {
  auto job = [](const std::string& id, const std::string& la) {
    v1::UpsertJobRequest request;
    v1::Job* j = request.mutable_job();
    j->set_id(id);
    j->set_version(1);
    j->set_status(v1::OPEN);
    j->mutable_request()->set_local_authority(la);
    j->mutable_request()->set_max_distance_km(30);
    return request;
  };
  v1::UpsertJobResponse posted;
  grpc::Status status = stub_->UpsertJob(ContextWithKey(newcastle_).get(),
                                         job("job-gat", kGateshead), &posted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("job.request.local_authority"));
  ASSERT_TRUE(stub_->UpsertJob(ContextWithKey(admin_).get(),
                               job("job-gat", kGateshead), &posted)
                  .ok());
  ASSERT_TRUE(stub_->UpsertJob(ContextWithKey(newcastle_).get(),
                               job("job-ncl", kNewcastle), &posted)
                  .ok());
  v1::GetJobRequest get;
  get.set_id("job-gat");
  v1::GetJobResponse got;
  EXPECT_EQ(stub_->GetJob(ContextWithKey(newcastle_).get(), get, &got)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::DeleteJobRequest del;
  del.set_id("job-gat");
  v1::DeleteJobResponse deleted;
  EXPECT_EQ(stub_->DeleteJob(ContextWithKey(newcastle_).get(), del, &deleted)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A Newcastle PA matches both jobs; the limited key sees its own.
  v1::MatchJobsRequest match;
  match.set_profile_id("ncl-1");
  v1::MatchJobsResponse matched;
  ASSERT_TRUE(
      stub_->MatchJobs(ContextWithKey(admin_).get(), match, &matched).ok());
  EXPECT_EQ(matched.total_matches(), 2);
  ASSERT_TRUE(
      stub_->MatchJobs(ContextWithKey(newcastle_).get(), match, &matched)
          .ok());
  EXPECT_EQ(matched.total_matches(), 1);
  ASSERT_EQ(matched.results_size(), 1);
  EXPECT_EQ(matched.results(0).job_id(), "job-ncl");
  match.set_profile_id("gat-1");
  EXPECT_EQ(stub_->MatchJobs(ContextWithKey(newcastle_).get(), match, &matched)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  auto watch_status = [&](const v1::WatchRequest& request) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", Bearer(newcastle_));
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(2));
    auto reader = stub_->Watch(&context, request);
    v1::WatchEvent event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  };
  v1::WatchRequest watch;
  watch.mutable_local_authorities()->add_codes(kNewcastle);
  watch.mutable_local_authorities()->add_codes(kGateshead);
  EXPECT_EQ(watch_status(watch).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  watch.set_job_id("job-gat");
  EXPECT_EQ(watch_status(watch).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  watch.set_profile_id("gat-2");
  EXPECT_EQ(watch_status(watch).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Its own PA: the stream opens (and runs until the deadline).
  watch.set_profile_id("ncl-2");
  EXPECT_EQ(watch_status(watch).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST(RateLimitedServiceTest, OverItsRateAKeyGetsRetryInfoInTheStatusDetails) {
  TempDir dir;
  const std::string slow = *GenerateApiKey(), other = *GenerateApiKey();
  auto keys = ApiKeyStore::FromText(
      FormatKeyLine("slow", kAll, HashApiKey(slow),
                    *Limits({"rate=0.2", "burst=3"})) +
          "\n" + FormatKeyLine("other", kAll, HashApiKey(other)),
      "keys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  std::unique_ptr<Engine> engine = testing::OpenEngine(dir.path());
  ASSERT_NE(engine, nullptr);
  MatcherService service(keys->get());
  service.SetEngine(engine.get());
  testing::LoopbackServer served = testing::ServeOnLoopback(&service);
  ASSERT_NE(served.server, nullptr);
  auto stub = v1::Matcher::NewStub(served.channel);
  v1::GetProfileRequest request;
  request.set_id("nobody");
  v1::GetProfileResponse response;
  int refused = 0;
  grpc::Status last;
  for (int i = 0; i < 6; ++i) {
    last = stub->GetProfile(ContextWithKey(slow).get(), request, &response);
    if (last.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
    } else {
      EXPECT_EQ(last.error_code(), grpc::StatusCode::NOT_FOUND);
    }
  }
  EXPECT_EQ(refused, 3);
  ASSERT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(last.error_details()));
  EXPECT_EQ(details.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(), kRetryInfoTypeUrl);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(0).UnpackTo(&retry));
  EXPECT_GE(retry.retry_delay().seconds(), 4);  // 5 s per token at 0.2/s
  EXPECT_LE(retry.retry_delay().seconds(), 5);
  // The other key is served meanwhile.
  EXPECT_EQ(
      stub->GetProfile(ContextWithKey(other).get(), request, &response)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  served.server->Shutdown();
}

}  // namespace
}  // namespace pamatch
