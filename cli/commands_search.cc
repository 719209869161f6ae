// `pa-match search`: builds a SearchRequest from flags and/or --request JSON,
// calls Matcher.Search and prints the result table (or JSON).
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/search_request.h"

namespace pamatch::cli {
namespace {

int RunSearch(const Invocation& inv) {
  std::optional<std::string> json;
  if (inv.flags.Has("request")) {
    auto data = ReadInput(inv.flags.Get("request"));
    if (!data.ok()) return ReportError(data.status());
    json = std::move(*data);
  }
  auto request = BuildSearchRequest(inv.flags, json);
  if (!request.ok()) return ReportError(request.status());
  const bool explain = request->explain();
  return CallUnary<pamatch::v1::SearchRequest, pamatch::v1::SearchResponse>(
      inv, &pamatch::v1::Matcher::Stub::Search, *request,
      [explain](const pamatch::v1::SearchResponse& response) {
        return FormatSearchResponse(response, explain);
      });
}

}  // namespace

std::vector<Command> SearchCommands() {
  return {{"search", "",
           "search PA profiles (flags, or a JSON SearchRequest via --request)",
           SearchFlagSpecs(), 0, 0, RunSearch}};
}

}  // namespace pamatch::cli
