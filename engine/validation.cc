#include "engine/validation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"

namespace pamatch {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

// Quotes at most 64 characters of untrusted text for an error message.
std::string Quote(absl::string_view text) {
  std::string shown(text.substr(0, 64));
  for (char& c : shown) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return absl::StrCat("\"", shown, text.size() > 64 ? "...\"" : "\"");
}

}  // namespace

absl::Status CheckNoUnknownFields(const Message& message,
                                  absl::string_view path) {
  const Reflection* reflection = message.GetReflection();
  const auto& unknown = reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path.empty() ? "request" : path, ": unknown field number ",
        unknown.field(0).number(),
        " (this API stores matching data only; remove fields it does not "
        "define)"));
  }
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string name =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        absl::Status status = CheckNoUnknownFields(
            reflection->GetRepeatedMessage(message, field, i),
            absl::StrCat(name, "[", i, "]"));
        if (!status.ok()) return status;
      }
    } else {
      absl::Status status =
          CheckNoUnknownFields(reflection->GetMessage(message, field), name);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateId(absl::string_view id, absl::string_view field) {
  if (id.empty() || id.size() > 64 ||
      !std::all_of(id.begin(), id.end(), IsIdChar)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", Quote(id),
        " is not an id (1-64 characters of A-Z a-z 0-9 _ . : -)"));
  }
  return absl::OkStatus();
}

std::string ExactNumber(double value) {
  char text[32];
  const std::to_chars_result end =
      std::to_chars(text, text + sizeof text, value);
  return std::string(text, end.ptr);
}

absl::Status CheckRange(double value, double lo, double hi,
                        absl::string_view field) {
  if (!std::isfinite(value) || value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", ExactNumber(value), " is outside ",
                     ExactNumber(lo), "..", ExactNumber(hi)));
  }
  return absl::OkStatus();
}

absl::Status ValidateLocation(const v1::GeoPoint& point,
                              absl::string_view field) {
  absl::Status status =
      CheckRange(point.lat(), kMinLat, kMaxLat, absl::StrCat(field, ".lat"));
  if (!status.ok()) return status;
  return CheckRange(point.lon(), kMinLon, kMaxLon, absl::StrCat(field, ".lon"));
}

absl::StatusOr<std::vector<CodeId>> ResolveCodes(
    const Vocabulary& vocabulary,
    const google::protobuf::RepeatedPtrField<std::string>& codes,
    absl::string_view field, std::optional<int> max_distinct) {
  if (codes.size() > kMaxListItems) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", codes.size(), " items, at most ", kMaxListItems,
        " (repeated items included)"));
  }
  std::vector<CodeId> ids;
  ids.reserve(codes.size());
  for (int i = 0; i < codes.size(); ++i) {
    const int id = vocabulary.Find(codes[i]);
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: unknown ", vocabulary.name(),
                       " code ", Quote(codes[i])));
    }
    ids.push_back(static_cast<CodeId>(id));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (max_distinct.has_value() &&
      ids.size() > static_cast<size_t>(*max_distinct)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", ids.size(), " distinct codes, at most ", *max_distinct));
  }
  return ids;
}

bool ContainsId(const std::vector<CodeId>& ids, CodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

}  // namespace pamatch
