// Implementation of the pa-match CLI flag parser (see flags.h).
#include "cli/flags.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace pamatch::cli {
namespace {

const FlagSpec* FindSpec(const std::vector<FlagSpec>& specs,
                         absl::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

bool ParsedFlags::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::string ParsedFlags::Get(absl::string_view name,
                             absl::string_view fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(fallback) : it->second;
}

bool ParsedFlags::GetBool(absl::string_view name) const {
  auto it = values_.find(name);
  return it != values_.end() && it->second == "true";
}

absl::StatusOr<std::optional<double>> ParsedFlags::GetDouble(
    absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::optional<double>();
  double value = 0;
  if (!absl::SimpleAtod(it->second, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": not a number: \"", it->second, "\""));
  }
  return std::optional<double>(value);
}

absl::StatusOr<std::optional<int64_t>> ParsedFlags::GetInt(
    absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::optional<int64_t>();
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": not an integer: \"", it->second, "\""));
  }
  return std::optional<int64_t>(value);
}

std::optional<std::vector<std::string>> ParsedFlags::GetList(
    absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return SplitList(it->second);
}

void ParsedFlags::Set(std::string name, std::string value) {
  values_[std::move(name)] = std::move(value);
}

void ParsedFlags::Merge(const ParsedFlags& other) {
  for (const auto& [name, value] : other.values_) values_[name] = value;
  for (const auto& arg : other.positional_) positional_.push_back(arg);
}

std::optional<bool> ParseBool(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return std::nullopt;
}

std::vector<std::string> SplitList(absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

absl::StatusOr<ParseResult> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs,
                                       ParseOptions options) {
  ParseResult result;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool is_flag = !only_positional && arg.size() > 1 && arg[0] == '-';
    if (!is_flag) {
      if (options.stop_at_positional) {
        result.rest.assign(args.begin() + i, args.end());
        return result;
      }
      result.flags.AddPositional(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      result.flags.Set("help", "true");
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag ", arg, " (flags start with --)"));
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    std::optional<std::string> inline_value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const FlagSpec* spec = FindSpec(specs, body);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", body));
    }
    if (!spec->takes_value) {
      bool value = true;
      if (inline_value.has_value()) {
        std::optional<bool> parsed = ParseBool(*inline_value);
        if (!parsed.has_value()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", body, ": expected true or false, got \"",
                           *inline_value, "\""));
        }
        value = *parsed;
      }
      result.flags.Set(spec->name, value ? "true" : "false");
      continue;
    }
    if (!inline_value.has_value()) {
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", body, " needs a value"));
      }
      inline_value = args[++i];
    }
    result.flags.Set(spec->name, std::move(*inline_value));
  }
  return result;
}

std::string FormatFlagHelp(const std::vector<FlagSpec>& specs) {
  std::vector<std::string> heads;
  size_t width = 0;
  for (const FlagSpec& spec : specs) {
    std::string head = absl::StrCat("  --", spec.name);
    if (spec.takes_value) {
      absl::StrAppend(&head, " ",
                      spec.value_name.empty() ? "VALUE" : spec.value_name);
    }
    width = std::max(width, head.size());
    heads.push_back(std::move(head));
  }
  std::string out;
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::StrAppend(&out, heads[i],
                    std::string(width - heads[i].size() + 3, ' '),
                    specs[i].help, "\n");
  }
  return out;
}

}  // namespace pamatch::cli
