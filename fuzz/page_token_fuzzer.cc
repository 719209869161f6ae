// Fuzz target: page_token decoding. The input is used twice:
//  1. as the token text itself, with a fixed request, through DecodePageToken
//     and through a real search;
//  2. as a tampering of a real token: the token a real search issued for
//     the fixed request, XORed with the input (and cut to the input's length
//     when the input starts with 0xff).
// Properties: a token that is not, byte for byte, the one the engine
// issued for this request is INVALID_ARGUMENT "page_token", never a crash
// and never a page of results; the real token gives the real next page.
#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "engine/query.h"
#include "fuzz/fuzz_util.h"

namespace pamatch::fuzz {
namespace {

struct Fixture {
  v1::SearchRequest request;  // page 1
  std::string token;          // its next_page_token
  std::string page2;          // the page that token gives, serialized
};

const Fixture& SharedFixture() {
  static const Fixture* fixture = [] {
    const Engine& engine = SharedEngine(300);
    auto* f = new Fixture;
    f->request.set_local_authority("E08000021");  // Newcastle upon Tyne
    f->request.set_page_size(5);
    absl::StatusOr<v1::SearchResponse> first = engine.Search(f->request, Now());
    PA_FUZZ_CHECK(first.ok() && !first->next_page_token().empty(),
                  first.status().ToString());
    f->token = first->next_page_token();
    v1::SearchRequest next = f->request;
    next.set_page_token(f->token);
    absl::StatusOr<v1::SearchResponse> second = engine.Search(next, Now());
    PA_FUZZ_CHECK(second.ok(), second.status().ToString());
    f->page2 = second->SerializeAsString();
    return f;
  }();
  return *fixture;
}

// Searches with `token`: either the real token and its page, or refused.
void SearchWith(const Fixture& f, const std::string& token) {
  v1::SearchRequest request = f.request;
  request.set_page_token(token);
  absl::StatusOr<v1::SearchResponse> response =
      SharedEngine(300).Search(request, Now());
  if (token == f.token) {
    PA_FUZZ_CHECK(response.ok() && response->SerializeAsString() == f.page2,
                  "the real token stopped working");
    return;
  }
  if (token.empty()) {  // no token: page 1
    PA_FUZZ_CHECK(response.ok(), response.status().ToString());
    return;
  }
  PA_FUZZ_CHECK(absl::IsInvalidArgument(response.status()) &&
                    absl::StartsWith(response.status().message(), "page_token"),
                "a token the engine did not issue was accepted: ",
                response.status().ToString());
}

}  // namespace
}  // namespace pamatch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pamatch::fuzz;
  QuietProtobufLogs();
  const Fixture& f = SharedFixture();
  // 1. The input as a token: never a crash; accepted only if it is the
  // real one (DecodePageToken alone checks the fingerprint it is given).
  const std::string text(Bytes(data, size));
  auto decoded = pamatch::DecodePageToken(text, 0x1234);
  PA_FUZZ_CHECK(!decoded.ok(), "a token for fingerprint 0x1234 decoded");
  SearchWith(f, text);
  // 2. The real token, tampered.
  std::string tampered = f.token;
  size_t n = size;
  if (size > 0 && data[0] == 0xff) {
    tampered.resize(std::min(size - 1, tampered.size()));
    ++data;
    --n;
  }
  for (size_t i = 0; i < n && i < tampered.size(); ++i) tampered[i] ^= data[i];
  SearchWith(f, tampered);
  return 0;
}
