// Fuzz target: one line of `pa-match import`'s (and `pa-match job
// import`'s) JSON Lines: the CLI's parse of the line into a Profile (a Job),
// the import's bookkeeping of a rejected line, then the validation the
// server applies to the parsed item (CompileProfile, CompileJob), without a
// store. Properties: a line parses or is rejected with a message, never
// crashes; a parsed item is valid or refused with INVALID_ARGUMENT.
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "cli/import_tally.h"
#include "cli/job_request.h"
#include "cli/search_request.h"
#include "engine/dates.h"
#include "engine/job.h"
#include "engine/profile.h"
#include "engine/taxonomy.h"
#include "fuzz/fuzz_util.h"

namespace {

const pamatch::Taxonomy& SharedTaxonomy() {
  static const pamatch::Taxonomy* taxonomy = [] {
    auto loaded = pamatch::Taxonomy::Load(
        pamatch::fuzz::SourcePath("taxonomy/north_east.json"));
    PA_FUZZ_CHECK(loaded.ok(), loaded.status().ToString());
    return new pamatch::Taxonomy(*std::move(loaded));
  }();
  return *taxonomy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pamatch;
  const absl::string_view line = fuzz::Bytes(data, size);
  // RunImport reads with std::getline: a line holds no '\n'.
  if (line.find('\n') != absl::string_view::npos) return 0;
  if (absl::StripAsciiWhitespace(line).empty()) return 0;
  fuzz::QuietProtobufLogs();
  const Taxonomy& taxonomy = SharedTaxonomy();
  cli::ImportTally tally;
  tally.LineRead();

  absl::StatusOr<v1::Profile> profile = cli::ParseProfileJson(line);
  if (!profile.ok()) {
    PA_FUZZ_CHECK(absl::IsInvalidArgument(profile.status()),
                  profile.status().ToString());
    tally.RejectLocal(1, std::string(profile.status().message()));
    PA_FUZZ_CHECK(tally.rejected() == 1, "");
    tally.Summary();
  } else {
    absl::StatusOr<CompiledProfile> compiled =
        CompileProfile(taxonomy, *profile);
    PA_FUZZ_CHECK(compiled.ok() || absl::IsInvalidArgument(compiled.status()),
                  compiled.status().ToString());
  }

  absl::StatusOr<v1::Job> job = cli::ParseJobJson(line);
  if (job.ok()) {
    absl::StatusOr<CompiledJob> compiled =
        CompileJob(taxonomy, *job, nullptr, DayOf(fuzz::Now()));
    PA_FUZZ_CHECK(compiled.ok() || absl::IsInvalidArgument(compiled.status()),
                  compiled.status().ToString());
  }
  return 0;
}
