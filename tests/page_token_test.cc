// Forged and tampered page tokens (docs/SECURITY.md): a token that is not,
// byte for byte, one the engine issued for the very request it comes with
// is INVALID_ARGUMENT "page_token", through the engine and through a real
// server on a loopback port; never a crash, never a page of results. The
// real token keeps working, so that a test of refusals cannot pass by
// refusing everything.
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "pamatch/internal/internal.pb.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::TempDir;

absl::Time Noon() {
  return absl::FromCivil(absl::CivilSecond(2026, 6, 1, 12, 0, 0),
                         absl::UTCTimeZone());
}

// 300 demo profiles in a fresh store, served on loopback with one search
// key. Request A (Newcastle, 5 a page) has a real first page, token and
// second page.
class PageTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = testing::OpenEngine(dir_.path());
    ASSERT_NE(engine_, nullptr);
    demo::DemoOptions demo;
    demo.count = 300;
    demo.now = Noon();
    for (const auto& result :
         engine_->BulkUpsert(demo::GenerateDemoProfiles(demo))) {
      ASSERT_TRUE(result.ok()) << result.status();
    }
    key_ = *GenerateApiKey();
    auto keys = ApiKeyStore::FromText(
        FormatKeyLine("portal", static_cast<uint32_t>(Scope::kSearch),
                      HashApiKey(key_)),
        "test keys");
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = *std::move(keys);
    service_ = std::make_unique<MatcherService>(keys_.get());
    service_->SetEngine(engine_.get());
    testing::LoopbackServer served = testing::ServeOnLoopback(service_.get());
    ASSERT_NE(served.server, nullptr);
    server_ = std::move(served.server);
    stub_ = v1::Matcher::NewStub(served.channel);

    request_a_.set_local_authority("E08000021");
    request_a_.set_as_of("2026-06-01");
    request_a_.set_page_size(5);
    auto first = engine_->Search(request_a_, Noon());
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ(first->results_size(), 5);
    ASSERT_GT(first->total_matches(), 10);
    token_a_ = first->next_page_token();
    ASSERT_FALSE(token_a_.empty());
    v1::SearchRequest next = request_a_;
    next.set_page_token(token_a_);
    auto second = engine_->Search(next, Noon());
    ASSERT_TRUE(second.ok()) << second.status();
    page2_a_ = second->SerializeAsString();
  }

  void TearDown() override {
    stub_.reset();
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    service_.reset();
    engine_.reset();
  }

  // `request` with `token` must be refused as a page_token error by the
  // engine and by the server; `what` names the case in failures.
  void ExpectRefused(v1::SearchRequest request, const std::string& token,
                     const std::string& what) {
    request.set_page_token(token);
    auto direct = engine_->Search(request, Noon());
    EXPECT_EQ(direct.status().code(), absl::StatusCode::kInvalidArgument)
        << what << ": " << absl::CEscape(token);
    if (!direct.ok()) {
      EXPECT_TRUE(absl::StartsWith(direct.status().message(), "page_token"))
          << what << ": " << direct.status();
    }
    v1::SearchResponse response;
    grpc::Status status =
        stub_->Search(ContextWithKey(key_).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << what << ": " << status.error_message();
    EXPECT_TRUE(absl::StartsWith(status.error_message(), "page_token"))
        << what << ": " << status.error_message();
    EXPECT_EQ(response.results_size(), 0) << what;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::string key_;
  std::unique_ptr<ApiKeyStore> keys_;
  std::unique_ptr<MatcherService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Matcher::Stub> stub_;
  v1::SearchRequest request_a_;
  std::string token_a_, page2_a_;
};

TEST_F(PageTokenTest, TheRealTokenGivesTheNextPageThroughTheServer) {
  v1::SearchRequest request = request_a_;
  request.set_page_token(token_a_);
  v1::SearchResponse response;
  grpc::Status status =
      stub_->Search(ContextWithKey(key_).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.SerializeAsString(), page2_a_);
  // page_size and explain may change between pages.
  request.set_page_size(7);
  request.set_explain(true);
  EXPECT_TRUE(engine_->Search(request, Noon()).ok());
}

TEST_F(PageTokenTest, EveryChangedCharacterIsRefused) {
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < token_a_.size(); ++i) {
    // The next character of the alphabet: still base64, a flipped bit of
    // the decoded bytes (or of base64's unused last bits).
    std::string changed = token_a_;
    changed[i] = alphabet[(alphabet.find(token_a_[i]) + 1) % alphabet.size()];
    ExpectRefused(request_a_, changed, absl::StrCat("char ", i, " changed"));
    changed[i] = '!';
    ExpectRefused(request_a_, changed, absl::StrCat("char ", i, " not base64"));
  }
}

TEST_F(PageTokenTest, TruncatedOrExtendedTokensAreRefused) {
  for (size_t n = 1; n < token_a_.size(); ++n) {
    ExpectRefused(request_a_, token_a_.substr(0, n),
                  absl::StrCat("first ", n, " chars"));
    ExpectRefused(request_a_, token_a_.substr(n), absl::StrCat("from ", n));
  }
  for (const char* tail : {"A", "AA", "=", "==", "AAAA"}) {
    ExpectRefused(request_a_, token_a_ + tail,
                  absl::StrCat("extended by ", tail));
  }
  ExpectRefused(request_a_, token_a_ + token_a_, "twice");
  ExpectRefused(request_a_, std::string(2000, 'A'), "2000 chars");
}

TEST_F(PageTokenTest, ATokenOfAnotherRequestIsRefused) {
  // Other filters, other sort (weights), other day, other place.
  std::vector<std::function<void(v1::SearchRequest&)>> changes = {
      [](v1::SearchRequest& r) { r.add_must_have_skills("personal_care"); },
      [](v1::SearchRequest& r) { r.set_requires_driver(true); },
      [](v1::SearchRequest& r) { r.mutable_weights()->set_distance(5); },
      [](v1::SearchRequest& r) { r.set_as_of("2026-06-02"); },
      [](v1::SearchRequest& r) { r.set_local_authority("E08000037"); },
      [](v1::SearchRequest& r) { r.add_exclude_ids("pa-000001"); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    v1::SearchRequest request_b = request_a_;
    changes[i](request_b);
    // A's token with B...
    ExpectRefused(request_b, token_a_, absl::StrCat("A's token, change ", i));
    // ...and B's own token with A. B's token works with B.
    auto first_b = engine_->Search(request_b, Noon());
    ASSERT_TRUE(first_b.ok()) << first_b.status();
    if (first_b->next_page_token().empty()) continue;
    ExpectRefused(request_a_, first_b->next_page_token(),
                  absl::StrCat("B's token, change ", i));
    request_b.set_page_token(first_b->next_page_token());
    EXPECT_TRUE(engine_->Search(request_b, Noon()).ok()) << i;
  }
}

TEST_F(PageTokenTest, AWellFormedTokenWithAnotherCursorIsRefused) {
  // What a forger who read the format would send: the real token's
  // fields, fingerprint included, with another cursor. Before tokens
  // carried a check, this paged request A from anywhere.
  std::string bytes;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token_a_, &bytes));
  internal::PageToken real;
  ASSERT_TRUE(real.ParseFromString(bytes));
  const std::vector<std::function<void(internal::PageToken&)>> forgeries = {
      [](internal::PageToken& t) { t.set_id(t.id() + "0"); },
      [](internal::PageToken& t) { t.set_score(t.score() + 1e-6); },
      [](internal::PageToken& t) { t.set_distance_km(0); },
      [](internal::PageToken& t) { t.set_as_of("2020-01-01"); },
      [](internal::PageToken& t) { t.clear_check(); },
      [](internal::PageToken& t) { t.set_check(t.check() ^ 1); },
  };
  for (size_t i = 0; i < forgeries.size(); ++i) {
    internal::PageToken forged = real;
    forgeries[i](forged);
    ExpectRefused(request_a_,
                  absl::WebSafeBase64Escape(forged.SerializeAsString()),
                  absl::StrCat("forgery ", i));
  }
  // An unknown field (7, varint 1) appended.
  ExpectRefused(request_a_,
                absl::WebSafeBase64Escape(bytes + std::string("\x38\x01", 2)),
                "unknown field");
  // The same fields twice (the last wins in protobuf) decode to the real
  // token but are not its bytes.
  ExpectRefused(request_a_, absl::WebSafeBase64Escape(bytes + bytes),
                "fields repeated");
  // Standard base64 of the same bytes, with padding.
  std::string standard = absl::Base64Escape(bytes);
  if (standard != token_a_) {
    ExpectRefused(request_a_, standard, "standard base64");
  }
}

TEST_F(PageTokenTest, Base64GarbageIsRefused) {
  std::mt19937_64 random(20261208);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(1 + random() % 120, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    ExpectRefused(request_a_, absl::WebSafeBase64Escape(bytes),
                  absl::StrCat("random bytes ", i));
  }
  ExpectRefused(request_a_, "not a token", "text");
  ExpectRefused(request_a_, std::string("\0\x01\n", 3), "control bytes");
}

}  // namespace
}  // namespace pamatch
