// Bookkeeping of `pa-match import`: counts, rejections, progress and
// summary text. Pure (no I/O) so it can be unit tested.
//
// Input lines are numbered from 1 (blank lines are skipped but keep their
// number). A line that is not a valid Profile (or, for `job import`, Job)
// JSON is rejected locally and never sent; every other line becomes one item
// of a BulkUpsertProfiles (BulkUpsertJobs) stream, and the server's per-item results are mapped back to line numbers
// through the list of line numbers sent on that stream. Only the first
// `keep` rejections (by line number) are kept, so memory stays bounded
// however large the import.
#ifndef PA_MATCH_CLI_IMPORT_TALLY_H_
#define PA_MATCH_CLI_IMPORT_TALLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "pamatch/v1/matcher.pb.h"

namespace pamatch::cli {

class ImportTally {
 public:
  struct Rejection {
    int64_t line = 0;
    std::string id;      // empty for lines that did not parse
    std::string reason;  // "CODE_NAME: message" or the local parse error
  };

  explicit ImportTally(size_t keep = 20) : keep_(keep) {}

  // One non-blank input line was read.
  void LineRead() { ++lines_; }
  // A line failed to parse locally; it is not sent.
  void RejectLocal(int64_t line, std::string reason);
  // The server's answer for one stream; `lines[i]` is the input line number
  // of stream item i.
  void AddChunk(const pamatch::v1::BulkUpsertProfilesResponse& response,
                const std::vector<int64_t>& lines);
  void AddChunk(const pamatch::v1::BulkUpsertJobsResponse& response,
                const std::vector<int64_t>& lines);
  // Items sent on a stream that failed: their outcome is unknown.
  void AddUnconfirmed(int64_t count) { unconfirmed_ += count; }

  int64_t lines() const { return lines_; }
  int64_t accepted() const { return accepted_; }
  int64_t rejected() const { return rejected_; }
  int64_t unconfirmed() const { return unconfirmed_; }
  const std::vector<Rejection>& rejections() const { return kept_; }

  // "imported 120000 lines, 40000/s, 12 rejected"
  std::string ProgressLine(double elapsed_seconds) const;
  // "accepted A, rejected R" [", unconfirmed U"], then the kept rejections,
  // one per line: "  line 12 (pa-7): INVALID_ARGUMENT: location.lat ...".
  std::string Summary() const;

 private:
  void Keep(Rejection rejection);
  void AddResults(
      int64_t accepted, int64_t rejected,
      const google::protobuf::RepeatedPtrField<pamatch::v1::BulkItemResult>&
          results,
      const std::vector<int64_t>& lines);

  size_t keep_;
  int64_t lines_ = 0;
  int64_t accepted_ = 0;
  int64_t rejected_ = 0;
  int64_t unconfirmed_ = 0;
  std::vector<Rejection> kept_;  // sorted by line, at most keep_
};

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_IMPORT_TALLY_H_
