// --help for pa-match's binaries that take Abseil flags.
//
// Abseil's --help lists only the flags defined in a file named after the
// program (pa-matchd.cc, pa-matchd_main.cc, ...), so a binary whose flags
// live in main.cc gets "No flags matched". SetUpProgramHelp makes --help
// (and --helpshort, --helppackage) list every flag defined in this
// project's own sources, with its default, and none of Abseil's or gRPC's
// (those stay under --helpfull); flag files are shown relative to the
// source tree ("Flags from service/main.cc:").
#ifndef PA_MATCH_COMMON_PROGRAM_HELP_H_
#define PA_MATCH_COMMON_PROGRAM_HELP_H_

#include "absl/strings/string_view.h"

namespace pamatch {

// Sets the program usage message (the text --help prints first) and the
// flags usage configuration above. Call once, before absl::ParseCommandLine.
void SetUpProgramHelp(absl::string_view usage);

}  // namespace pamatch

#endif  // PA_MATCH_COMMON_PROGRAM_HELP_H_
