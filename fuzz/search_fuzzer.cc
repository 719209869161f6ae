// Fuzz target: a SearchRequest (wire or text format) through validation
// and a real search of a small store (300 demo profiles). Properties: the
// search answers or refuses with INVALID_ARGUMENT; an answer is in result
// order, within page_size, and the same as the reference scan's
// (Engine::ReferenceSearch); its next_page_token continues strictly after
// its last result.
#include <cstdint>

#include "absl/status/status.h"
#include "fuzz/fuzz_util.h"

namespace pamatch::fuzz {
namespace {

void CheckSame(const v1::SearchResponse& index,
               const v1::SearchResponse& reference) {
  PA_FUZZ_CHECK(index.total_matches() == reference.total_matches(),
                index.total_matches(), " vs ", reference.total_matches());
  PA_FUZZ_CHECK(index.results_size() == reference.results_size(), "");
  for (int i = 0; i < index.results_size(); ++i) {
    const v1::SearchResult& a = index.results(i);
    const v1::SearchResult& b = reference.results(i);
    PA_FUZZ_CHECK(a.id() == b.id() && a.score() == b.score() &&
                      a.distance_km() == b.distance_km(),
                  "position ", i, ": ", a.ShortDebugString(), " vs ",
                  b.ShortDebugString());
  }
  PA_FUZZ_CHECK(index.next_page_token() == reference.next_page_token(), "");
  PA_FUZZ_CHECK(index.applied_policy() == reference.applied_policy(), "");
}

void CheckOrder(const v1::SearchResponse& response, int max_results) {
  PA_FUZZ_CHECK(response.results_size() <= max_results, "");
  PA_FUZZ_CHECK(response.total_matches() >= response.results_size(), "");
  for (int i = 1; i < response.results_size(); ++i) {
    const v1::SearchResult& a = response.results(i - 1);
    const v1::SearchResult& b = response.results(i);
    const bool ordered =
        a.score() > b.score() ||
        (a.score() == b.score() &&
         (a.distance_km() < b.distance_km() ||
          (a.distance_km() == b.distance_km() && a.id() < b.id())));
    PA_FUZZ_CHECK(ordered, "results ", i - 1, " and ", i, " out of order");
  }
}

}  // namespace
}  // namespace pamatch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pamatch;
  using namespace pamatch::fuzz;
  v1::SearchRequest request;
  if (!ParseInput(data, size, &request)) return 0;
  const Engine& engine = SharedEngine(300);
  absl::StatusOr<v1::SearchResponse> response = engine.Search(request, Now());
  if (!response.ok()) {
    PA_FUZZ_CHECK(absl::IsInvalidArgument(response.status()),
                  response.status().ToString());
    return 0;
  }
  const int page_size = request.page_size() == 0 ? 20 : request.page_size();
  CheckOrder(*response, page_size);
  absl::StatusOr<v1::SearchResponse> reference =
      engine.ReferenceSearch(request, Now());
  PA_FUZZ_CHECK(reference.ok(), reference.status().ToString());
  CheckSame(*response, *reference);
  if (response->next_page_token().empty()) return 0;
  // The next page, through the token just issued.
  PA_FUZZ_CHECK(response->results_size() == page_size, "");
  request.set_page_token(response->next_page_token());
  absl::StatusOr<v1::SearchResponse> next = engine.Search(request, Now());
  PA_FUZZ_CHECK(next.ok(), next.status().ToString());
  CheckOrder(*next, page_size);
  PA_FUZZ_CHECK(next->total_matches() == response->total_matches(), "");
  if (next->results_size() > 0) {
    v1::SearchResponse both = *response;
    *both.add_results() = next->results(0);
    CheckOrder(both, page_size + 1);
  }
  return 0;
}
