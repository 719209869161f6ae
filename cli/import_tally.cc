// Implementation of ImportTally (see import_tally.h).
#include "cli/import_tally.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "cli/format.h"

namespace pamatch::cli {

void ImportTally::Keep(Rejection rejection) {
  if (keep_ == 0) return;
  if (kept_.size() >= keep_ && rejection.line >= kept_.back().line) return;
  auto pos = std::upper_bound(
      kept_.begin(), kept_.end(), rejection.line,
      [](int64_t line, const Rejection& r) { return line < r.line; });
  kept_.insert(pos, std::move(rejection));
  if (kept_.size() > keep_) kept_.pop_back();
}

void ImportTally::RejectLocal(int64_t line, std::string reason) {
  ++rejected_;
  Keep({line, "", std::move(reason)});
}

void ImportTally::AddChunk(
    const pamatch::v1::BulkUpsertProfilesResponse& response,
    const std::vector<int64_t>& lines) {
  AddResults(response.accepted(), response.rejected(), response.results(),
             lines);
}

void ImportTally::AddChunk(const pamatch::v1::BulkUpsertJobsResponse& response,
                           const std::vector<int64_t>& lines) {
  AddResults(response.accepted(), response.rejected(), response.results(),
             lines);
}

void ImportTally::AddResults(
    int64_t accepted, int64_t rejected,
    const google::protobuf::RepeatedPtrField<pamatch::v1::BulkItemResult>&
        results,
    const std::vector<int64_t>& lines) {
  accepted_ += accepted;
  rejected_ += rejected;
  for (const auto& result : results) {
    if (result.code() == 0) continue;
    const int64_t index = result.index();
    const int64_t line =
        index >= 0 && index < static_cast<int64_t>(lines.size()) ? lines[index]
                                                                 : -1;
    std::string reason = StatusCodeName(result.code());
    if (!result.error().empty()) absl::StrAppend(&reason, ": ", result.error());
    Keep({line, result.id(), std::move(reason)});
  }
}

std::string ImportTally::ProgressLine(double elapsed_seconds) const {
  const double rate = elapsed_seconds > 0 ? lines_ / elapsed_seconds : 0;
  return absl::StrCat("imported ", lines_, " lines, ",
                      static_cast<int64_t>(std::llround(rate)), "/s, ",
                      rejected_, " rejected");
}

std::string ImportTally::Summary() const {
  std::string out =
      absl::StrCat("accepted ", accepted_, ", rejected ", rejected_);
  if (unconfirmed_ > 0) absl::StrAppend(&out, ", unconfirmed ", unconfirmed_);
  absl::StrAppend(&out, "\n");
  if (!kept_.empty()) {
    absl::StrAppend(&out, "first ", kept_.size(), " rejection",
                    kept_.size() == 1 ? "" : "s", ":\n");
  }
  for (const Rejection& r : kept_) {
    absl::StrAppend(&out, "  line ",
                    r.line >= 0 ? absl::StrCat(r.line) : std::string("?"));
    if (!r.id.empty()) absl::StrAppend(&out, " (", r.id, ")");
    absl::StrAppend(&out, ": ", r.reason, "\n");
  }
  return out;
}

}  // namespace pamatch::cli
