// A small command-line flag parser for the pa-match CLI.
//
// absl::flags are process-global, which fits subcommands badly, so each
// command declares the flags it accepts as a list of FlagSpec and hands its
// arguments to ParseFlags. Accepted forms:
//   --name value    --name=value    --flag (boolean)    --flag=false
//   --              (everything after it is positional)
//   -               (a positional or a value: "stdin" by convention)
// A value may start with a single '-' (negative numbers: --lon -1.61) but not
// with "--", which is taken as a forgotten value. "-h" is --help. A flag
// given twice keeps the last value.
#ifndef PA_MATCH_CLI_FLAGS_H_
#define PA_MATCH_CLI_FLAGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pamatch::cli {

// One accepted flag.
struct FlagSpec {
  std::string name;         // without the leading "--"
  bool takes_value = true;  // false: boolean switch
  std::string value_name;   // for help, e.g. "KM"; ignored for booleans
  std::string help;         // one line
};

// The outcome of parsing: the flags that were given and the positionals.
class ParsedFlags {
 public:
  // Given on the command line (booleans: given in any form).
  bool Has(absl::string_view name) const;
  // The raw value; fallback when absent. Booleans hold "true" or "false".
  std::string Get(absl::string_view name,
                  absl::string_view fallback = "") const;
  // True when a boolean was given and not set to false.
  bool GetBool(absl::string_view name) const;

  // Typed accessors: std::nullopt when the flag is absent, an
  // INVALID_ARGUMENT status naming the flag when the value is malformed.
  absl::StatusOr<std::optional<double>> GetDouble(absl::string_view name) const;
  absl::StatusOr<std::optional<int64_t>> GetInt(absl::string_view name) const;
  // Comma-separated list; blanks are trimmed and empty items dropped.
  std::optional<std::vector<std::string>> GetList(absl::string_view name) const;

  const std::vector<std::string>& positional() const { return positional_; }
  const std::map<std::string, std::string, std::less<>>& values() const {
    return values_;
  }

  // Records a value (used by the parser; later calls win).
  void Set(std::string name, std::string value);
  void AddPositional(std::string arg) { positional_.push_back(std::move(arg)); }
  // Copies every flag of `other` over this one (positionals are appended).
  void Merge(const ParsedFlags& other);

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> positional_;
};

struct ParseOptions {
  // Stop at the first positional argument; it and everything after it are
  // returned in `rest` unparsed (used to read global flags before the
  // command name).
  bool stop_at_positional = false;
};

struct ParseResult {
  ParsedFlags flags;
  std::vector<std::string> rest;  // only with stop_at_positional
};

// Parses `args` (without the program name) against `specs`. "--help"/"-h"
// is always accepted and recorded as the boolean "help". Errors (unknown
// flag, missing value, bad boolean) are INVALID_ARGUMENT.
absl::StatusOr<ParseResult> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs,
                                       ParseOptions options = {});

// Parses "true/false/1/0/yes/no" (case-insensitive).
std::optional<bool> ParseBool(absl::string_view text);

// Splits a comma list, trimming blanks and dropping empty items.
std::vector<std::string> SplitList(absl::string_view text);

// Help text: one line per flag, "  --name VALUE   help", aligned.
std::string FormatFlagHelp(const std::vector<FlagSpec>& specs);

}  // namespace pamatch::cli

#endif  // PA_MATCH_CLI_FLAGS_H_
