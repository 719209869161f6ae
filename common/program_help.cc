#include "common/program_help.h"

#include <string>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace pamatch {
namespace {

// Names of our own flag files, as normalize_filename gives them to the
// contains_*_flags predicates (Abseil passes those the normalized name).
constexpr absl::string_view kOwnPrefix = "pa-match/";

// The source tree as the compiler names it in __FILE__, with a trailing
// slash: this file's own name less "common/program_help.cc". The same
// compiler, flags and prefix maps name every ABSL_FLAG's file, so the two
// agree however the build names paths (absolute, relative, remapped).
absl::string_view SourceRoot() {
  absl::string_view self = __FILE__;
  if (!absl::ConsumeSuffix(&self, "common/program_help.cc")) return "";
  return self;
}

std::string NormalizeFilename(absl::string_view file) {
  const absl::string_view root = SourceRoot();
  if (!root.empty() && absl::ConsumePrefix(&file, root)) {
    return absl::StrCat(kOwnPrefix, file);
  }
  // Abseil's default: the name without leading slashes.
  while (absl::ConsumePrefix(&file, "/")) {
  }
  return std::string(file);
}

bool IsOwnFlagFile(absl::string_view normalized) {
  return absl::StartsWith(normalized, kOwnPrefix);
}

}  // namespace

void SetUpProgramHelp(absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsOwnFlagFile;
  config.contains_helpshort_flags = IsOwnFlagFile;
  config.contains_helppackage_flags = IsOwnFlagFile;
  config.normalize_filename = NormalizeFilename;
  absl::SetFlagsUsageConfig(config);
}

}  // namespace pamatch
