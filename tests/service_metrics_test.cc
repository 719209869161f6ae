// The Prometheus metrics endpoint, scraped over real HTTP on a loopback port:
// in process (a real gRPC server over a real engine, calls made through the
// generated stub) and in the pa-matchd binary (--metrics_listen).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "service/metrics.h"
#include "service/server.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"
#include "tests/watch_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::BaseProfile;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

struct HttpResponse {
  int status = 0;  // 0: no answer
  std::string headers, body;
};

// GET http://127.0.0.1:port/path over HTTP/1.0, with basic authentication
// when `password` is given (user name "prometheus").
HttpResponse HttpGet(int port, const std::string& path,
                     std::optional<std::string> password) {
  HttpResponse response;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return response;
  // A stuck endpoint fails the test in 10 s rather than hanging it.
  const timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n");
  if (password.has_value()) {
    absl::StrAppend(&request, "Authorization: Basic ",
                    absl::Base64Escape("prometheus:" + *password), "\r\n");
  }
  request += "\r\n";
  std::string raw;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                sizeof(address)) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buffer[8192];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
      raw.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  const size_t head_end = raw.find("\r\n\r\n");
  const size_t space = raw.find(' ');
  if (head_end == std::string::npos || space == std::string::npos ||
      !absl::SimpleAtoi(raw.substr(space + 1, 3), &response.status)) {
    return response;
  }
  response.headers = raw.substr(0, head_end);
  response.body = raw.substr(head_end + 4);
  return response;
}

constexpr double kAbsent = -1;

// The samples of a text exposition: "name{labels}" (as printed, labels in
// name order) -> value.
struct Scraped {
  std::map<std::string, double> samples;

  // The sample's value, or kAbsent.
  double Get(const std::string& series) const {
    auto it = samples.find(series);
    return it == samples.end() ? kAbsent : it->second;
  }
  // pamatch_rpc_requests_total of `method` ending with `code`, or kAbsent.
  double Calls(absl::string_view method, absl::string_view code) const {
    return Get(absl::StrCat("pamatch_rpc_requests_total{code=\"", code,
                            "\",method=\"", method, "\"}"));
  }
};

Scraped Parse(const std::string& body) {
  Scraped scraped;
  std::map<std::string, double>& samples = scraped.samples;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos ||
        !absl::SimpleAtod(line.substr(space + 1), &value)) {
      ADD_FAILURE() << "malformed sample line: " << line;
      continue;
    }
    samples[std::string(line.substr(0, space))] = value;
  }
  return scraped;
}

// A served engine, an RpcMetrics the service records into, and the
// endpoint on a fresh loopback port. Keys: search, write, metrics, admin.
class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::string* key :
         {&search_key_, &write_key_, &metrics_key_, &admin_key_}) {
      *key = *GenerateApiKey();
    }
    auto line = [](const char* name, Scope scope, const std::string& key) {
      return FormatKeyLine(name, static_cast<uint32_t>(scope),
                           HashApiKey(key)) +
             "\n";
    };
    absl::StatusOr<std::unique_ptr<ApiKeyStore>> keys = ApiKeyStore::FromText(
        line("portal", Scope::kSearch, search_key_) +
            line("importer", Scope::kWrite, write_key_) +
            line("prometheus", Scope::kMetrics, metrics_key_) +
            line("ops", Scope::kAdmin, admin_key_),
        "test keys");
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);

    EngineOptions options;
    options.data_dir = dir_.path() + "/db";
    options.taxonomy_path = testing::TaxonomyPath();
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);

    registry_ = std::make_shared<prometheus::Registry>();
    rpc_metrics_ = std::make_unique<RpcMetrics>(*registry_);
    state_ = std::make_shared<StateCollector>();
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start("127.0.0.1:0", keys_.get(), registry_, state_);
    ASSERT_TRUE(endpoint.ok()) << endpoint.status();
    endpoint_ = *std::move(endpoint);

    service_ =
        std::make_unique<MatcherService>(keys_.get(), rpc_metrics_.get());
    service_->SetEngine(engine_.get());
    state_->SetEngine(engine_.get());
    testing::LoopbackServer served = testing::ServeOnLoopback(service_.get());
    ASSERT_NE(served.server, nullptr);
    server_ = std::move(served.server);
    stub_ = v1::Matcher::NewStub(served.channel);
  }

  void TearDown() override {
    if (service_ != nullptr) service_->StopWatches();
    stub_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    endpoint_.reset();
    service_.reset();
    engine_.reset();
  }

  Scraped Scrape() {
    HttpResponse response =
        HttpGet(endpoint_->port(), "/metrics", metrics_key_);
    EXPECT_EQ(response.status, 200) << response.headers;
    return Parse(response.body);
  }

  grpc::Status Upsert(const v1::Profile& profile) {
    v1::UpsertProfileRequest request;
    *request.mutable_profile() = profile;
    v1::UpsertProfileResponse response;
    return stub_->UpsertProfile(ContextWithKey(write_key_).get(), request,
                                &response);
  }

  grpc::Status Search(const std::string& key,
                      const v1::SearchRequest& request) {
    v1::SearchResponse response;
    return stub_->Search(ContextWithKey(key).get(), request, &response);
  }

  TempDir dir_;
  std::string search_key_, write_key_, metrics_key_, admin_key_;
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  std::shared_ptr<StateCollector> state_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  std::unique_ptr<MatcherService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
};

TEST_F(MetricsTest, ScrapeNeedsAKeyWithTheMetricsScope) {
  const int port = endpoint_->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ(HttpGet(port, "/metrics", std::nullopt).status, 401);
  EXPECT_EQ(HttpGet(port, "/metrics", "pam_not_a_key").status, 401);
  EXPECT_EQ(HttpGet(port, "/metrics", "").status, 401);
  // A key for profile data is not a key for metrics, nor the other way.
  EXPECT_EQ(HttpGet(port, "/metrics", search_key_).status, 401);
  EXPECT_EQ(HttpGet(port, "/metrics", write_key_).status, 401);
  HttpResponse unauthorized = HttpGet(port, "/metrics", std::nullopt);
  EXPECT_THAT(unauthorized.headers, HasSubstr("WWW-Authenticate: Basic"));
  EXPECT_THAT(unauthorized.body, ::testing::Not(HasSubstr("pamatch_")));

  HttpResponse ok = HttpGet(port, "/metrics", metrics_key_);
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.body, HasSubstr("pamatch_ready 1"));
  EXPECT_EQ(HttpGet(port, "/metrics", admin_key_).status, 200);

  v1::SearchResponse response;
  EXPECT_EQ(stub_
                ->Search(ContextWithKey(metrics_key_).get(),
                         testing::BaseRequest(), &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MetricsTest, CountsCallsByMethodAndCodeAndReadsTheEngine) {
  v1::Profile a = BaseProfile("pa-a");
  v1::Profile b = BaseProfile("pa-b");
  b.set_status(v1::PAUSED);
  ASSERT_TRUE(Upsert(a).ok());
  ASSERT_TRUE(Upsert(b).ok());
  EXPECT_EQ(Upsert(a).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Search(search_key_, testing::BaseRequest()).ok());
  }
  v1::SearchRequest bad = testing::BaseRequest();
  bad.set_page_size(1000);
  EXPECT_EQ(Search(search_key_, bad).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Search("", testing::BaseRequest()).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Search(write_key_, testing::BaseRequest()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  Scraped scraped = Scrape();
  EXPECT_EQ(scraped.Calls("Search", "OK"), 3);
  EXPECT_EQ(scraped.Calls("Search", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(scraped.Calls("Search", "UNAUTHENTICATED"), 1);
  EXPECT_EQ(scraped.Calls("Search", "PERMISSION_DENIED"), 1);
  EXPECT_EQ(scraped.Calls("UpsertProfile", "OK"), 2);
  EXPECT_EQ(scraped.Calls("UpsertProfile", "FAILED_PRECONDITION"), 1);
  EXPECT_EQ(
      scraped.Get(R"(pamatch_rpc_duration_seconds_count{method="Search"})"), 6);
  EXPECT_EQ(
      scraped.Get(
          R"(pamatch_rpc_duration_seconds_count{method="UpsertProfile"})"),
      3);
  // Methods not called yet are there, at zero; codes not seen are absent.
  EXPECT_EQ(scraped.Calls("Backup", "OK"), 0);
  EXPECT_EQ(
      scraped.Get(R"(pamatch_rpc_duration_seconds_count{method="Backup"})"), 0);
  EXPECT_EQ(scraped.Calls("Search", "INTERNAL"), kAbsent);
  // A write's time includes its fsync: more than nothing.
  EXPECT_GT(scraped.Get(
                R"(pamatch_rpc_duration_seconds_sum{method="UpsertProfile"})"),
            0);
  EXPECT_EQ(scraped.Get(R"(pamatch_profiles{status="active"})"), 1);
  EXPECT_EQ(scraped.Get(R"(pamatch_profiles{status="paused"})"), 1);
  EXPECT_EQ(scraped.Get(absl::StrCat(
                R"(pamatch_profiles_by_local_authority{local_authority=")",
                a.local_authority(), "\"}")),
            2);
  EXPECT_EQ(scraped.Get("pamatch_policies"), 0);
  EXPECT_EQ(scraped.Get("pamatch_ready"), 1);
  EXPECT_GT(scraped.Get("process_cpu_seconds_total"), 0);
  EXPECT_GT(scraped.Get("process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(scraped.Get("process_open_fds"), 3);
  EXPECT_NEAR(scraped.Get("process_start_time_seconds"),
              static_cast<double>(std::time(nullptr)), 3600);
  const double started = scraped.Get("process_start_time_seconds");

  // A delete shows at the next scrape, and is counted.
  v1::DeleteProfileRequest del;
  del.set_id("pa-a");
  v1::DeleteProfileResponse deleted;
  ASSERT_TRUE(
      stub_->DeleteProfile(ContextWithKey(write_key_).get(), del, &deleted)
          .ok());
  scraped = Scrape();
  // The same at every scrape: a change means a restart.
  EXPECT_EQ(scraped.Get("process_start_time_seconds"), started);
  EXPECT_EQ(scraped.Get(R"(pamatch_profiles{status="active"})"), 0);
  EXPECT_EQ(scraped.Calls("DeleteProfile", "OK"), 1);
}

TEST_F(MetricsTest, CountsBulkItemsByResult) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + write_key_);
  v1::BulkUpsertProfilesResponse response;
  auto writer = stub_->BulkUpsertProfiles(&context, &response);
  v1::UpsertProfileRequest item;
  for (const char* id : {"pa-1", "pa-2", "bad id!"}) {
    *item.mutable_profile() = BaseProfile(id);
    ASSERT_TRUE(writer->Write(item));
  }
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  ASSERT_EQ(response.accepted(), 2);

  Scraped scraped = Scrape();
  EXPECT_EQ(scraped.Get(R"(pamatch_bulk_items_total{result="accepted"})"), 2);
  EXPECT_EQ(scraped.Get(R"(pamatch_bulk_items_total{result="rejected"})"), 1);
  EXPECT_EQ(scraped.Calls("BulkUpsertProfiles", "OK"), 1);
}

TEST_F(MetricsTest, CountsJobCallsWatchStreamsAndTheEventLog) {
  auto job = [](const std::string& id) {
    v1::UpsertJobRequest request;
    request.mutable_job()->set_id(id);
    v1::SearchRequest* search = request.mutable_job()->mutable_request();
    search->mutable_location()->set_lat(testing::kNewcastleLat);
    search->mutable_location()->set_lon(testing::kNewcastleLon);
    search->set_local_authority("E08000021");
    return request;
  };
  // Scrapes until `done(scraped)` (up to 10 s): a stream's messages and
  // its end are counted just after the client sees them.
  auto scrape_until = [this](auto done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    Scraped scraped = Scrape();
    while (!done(scraped) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      scraped = Scrape();
    }
    return scraped;
  };
  // The new methods' OK series are there from the start.
  Scraped scraped = Scrape();
  for (const char* method : {"UpsertJob", "BulkUpsertJobs", "GetJob",
                             "DeleteJob", "MatchJobs", "Watch"}) {
    EXPECT_EQ(scraped.Calls(method, "OK"), 0) << method;
  }
  EXPECT_EQ(scraped.Get("pamatch_watch_streams"), 0);

  v1::UpsertJobResponse posted;
  ASSERT_TRUE(stub_->UpsertJob(ContextWithKey(write_key_).get(), job("job-1"),
                               &posted)
                  .ok());
  v1::UpsertJobRequest bad = job("job-bad");
  bad.mutable_job()->mutable_request()->set_page_size(5);
  EXPECT_EQ(stub_->UpsertJob(ContextWithKey(write_key_).get(), bad, &posted)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + write_key_);
    v1::BulkUpsertJobsResponse response;
    auto writer = stub_->BulkUpsertJobs(&context, &response);
    for (const v1::UpsertJobRequest& item : {job("job-2"), job("job-3"), bad}) {
      ASSERT_TRUE(writer->Write(item));
    }
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    ASSERT_EQ(response.accepted(), 2);
  }

  v1::WatchRequest watch;
  watch.set_job_id("job-1");
  auto subscriber =
      std::make_unique<testing::WatchSubscriber>(*stub_, search_key_, watch);
  ASSERT_TRUE(subscriber->Next(absl::Seconds(10)).has_value());
  ASSERT_TRUE(Upsert(BaseProfile("pa-1")).ok());
  ASSERT_TRUE(subscriber->NextEvent(absl::Seconds(10)).has_value());
  scraped = scrape_until([](const Scraped& s) {
    return s.Get(R"(pamatch_watch_messages_total{kind="match_started"})") >= 1;
  });
  EXPECT_EQ(scraped.Calls("UpsertJob", "OK"), 1);
  EXPECT_EQ(scraped.Calls("UpsertJob", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(scraped.Calls("BulkUpsertJobs", "OK"), 1);
  EXPECT_EQ(scraped.Get(R"(pamatch_bulk_job_items_total{result="accepted"})"),
            2);
  EXPECT_EQ(scraped.Get(R"(pamatch_bulk_job_items_total{result="rejected"})"),
            1);
  // Profiles' bulk counts are their own.
  EXPECT_EQ(scraped.Get(R"(pamatch_bulk_items_total{result="accepted"})"), 0);
  EXPECT_EQ(scraped.Get("pamatch_jobs"), 3);
  EXPECT_EQ(scraped.Get("pamatch_jobs_open"), 3);
  EXPECT_EQ(scraped.Get("pamatch_watch_streams"), 1);
  EXPECT_GE(scraped.Get(R"(pamatch_watch_messages_total{kind="heartbeat"})"),
            1);
  EXPECT_EQ(scraped.Get(R"(pamatch_watch_messages_total{kind="match_ended"})"),
            0);
  // pa-1 matches the three jobs.
  EXPECT_EQ(scraped.Get("pamatch_alert_last_event_sequence"), 3);
  EXPECT_EQ(scraped.Get("pamatch_alert_retained_events"), 3);
  EXPECT_EQ(scraped.Get("pamatch_alert_oldest_event_sequence"), 1);

  // The stream ends: counted by its code, and no longer open.
  subscriber->Cancel();
  subscriber.reset();
  scraped = scrape_until([](const Scraped& s) {
    return s.Get("pamatch_watch_streams") == 0;
  });
  EXPECT_EQ(scraped.Get("pamatch_watch_streams"), 0);
  EXPECT_EQ(scraped.Calls("Watch", "CANCELLED"), 1);
  EXPECT_EQ(
      scraped.Get(R"(pamatch_rpc_duration_seconds_count{method="Watch"})"), 1);
}

TEST_F(MetricsTest, ReadyIsZeroUntilTheEngineIsAttached) {
  state_->SetEngine(nullptr);
  Scraped scraped = Scrape();
  EXPECT_EQ(scraped.Get("pamatch_ready"), 0);
  EXPECT_EQ(scraped.Get(R"(pamatch_profiles{status="active"})"), kAbsent);
  EXPECT_GT(scraped.Get("process_cpu_seconds_total"), 0);
}

// An endpoint on `address` with a fresh registry and no engine.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartBare(
    const std::string& address) {
  static const std::unique_ptr<ApiKeyStore> keys =
      *ApiKeyStore::FromText(FormatKeyLine("ops",
                                           static_cast<uint32_t>(Scope::kAdmin),
                                           HashApiKey("pam_x")),
                             "test keys");
  return MetricsEndpoint::Start(address, keys.get(),
                                std::make_shared<prometheus::Registry>(),
                                std::make_shared<StateCollector>());
}

TEST(MetricsEndpointTest, TheAddressMustNameHostAndPort) {
  // A bare port would listen on every interface; a list, on several.
  for (const char* address :
       {"9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:9464,9465",
        "localhost:9464", "127.0.0.1:65536", "[::1]9464"}) {
    auto endpoint = StartBare(address);
    EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument)
        << address;
    EXPECT_THAT(endpoint.status().message(), HasSubstr("metrics_listen"))
        << address;
  }
  auto v6 = StartBare("[::1]:0");
  // Where the machine has IPv6 loopback it listens; either way the address
  // itself was accepted.
  EXPECT_NE(v6.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetricsEndpointTest, AnAddressInUseIsAnError) {
  auto first = StartBare("127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = StartBare(absl::StrCat("127.0.0.1:", (*first)->port()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("metrics"));
}

// pa-matchd --metrics_listen: the log gives the address, the first-start
// admin key scrapes it, and it answers until shutdown.
TEST(MetricsBinaryTest, DaemonServesMetricsWithItsAdminKey) {
  TempDir dir;
  const std::string data_dir = dir.path() + "/data";
  Daemon daemon(dir.path(),
                {"--listen=127.0.0.1:0", "--data_dir=" + data_dir,
                 "--taxonomy=" + testing::TaxonomyPath(), "--demo_profiles=30",
                 "--metrics_listen=127.0.0.1:0"});
  ASSERT_NE(daemon.WaitServing(), nullptr);
  const std::string log = daemon.err();
  const std::string marker = "metrics on http://127.0.0.1:";
  const size_t at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const int port = std::atoi(log.c_str() + at + marker.size());
  ASSERT_GT(port, 0) << log;
  const std::string key(
      absl::StripAsciiWhitespace(ReadAll(data_dir + "/admin.key")));
  EXPECT_EQ(HttpGet(port, "/metrics", std::nullopt).status, 401);
  HttpResponse response = HttpGet(port, "/metrics", key);
  ASSERT_EQ(response.status, 200) << response.headers;
  Scraped scraped = Parse(response.body);
  EXPECT_EQ(scraped.Get(R"(pamatch_profiles{status="active"})") +
                scraped.Get(R"(pamatch_profiles{status="paused"})"),
            30);
  EXPECT_EQ(scraped.Get("pamatch_ready"), 1);
  daemon.Signal(SIGTERM);
  const int status = daemon.Wait(std::chrono::seconds(30));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << daemon.err();
}

}  // namespace
}  // namespace pamatch
