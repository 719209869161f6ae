#include "engine/taxonomy.h"

#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "pamatch/internal/internal.pb.h"

namespace pamatch {
namespace {

bool IsCodeChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

absl::StatusOr<Vocabulary> Vocabulary::Create(std::string name,
                                              std::vector<std::string> codes) {
  Vocabulary vocabulary;
  vocabulary.name_ = std::move(name);
  if (codes.size() > std::numeric_limits<CodeId>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(vocabulary.name_, ": too many codes"));
  }
  for (const std::string& code : codes) {
    if (code.empty() || code.size() > 64 ||
        !std::all_of(code.begin(), code.end(), IsCodeChar)) {
      return absl::InvalidArgumentError(absl::StrCat(
          vocabulary.name_, ": malformed code \"", code, "\""));
    }
    const CodeId id = static_cast<CodeId>(vocabulary.codes_.size());
    if (!vocabulary.ids_.emplace(code, id).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          vocabulary.name_, ": duplicate code \"", code, "\""));
    }
    vocabulary.codes_.push_back(code);
  }
  return vocabulary;
}

int Vocabulary::Find(absl::string_view code) const {
  auto it = ids_.find(code);
  return it == ids_.end() ? -1 : it->second;
}

absl::StatusOr<Taxonomy> Taxonomy::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("taxonomy file ", path, " cannot be read"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<Taxonomy> taxonomy = Parse(buffer.str());
  if (!taxonomy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "taxonomy file ", path, ": ", taxonomy.status().message()));
  }
  return taxonomy;
}

absl::StatusOr<Taxonomy> Taxonomy::Parse(absl::string_view json) {
  internal::Taxonomy file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      std::string(json), &file, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(std::string(parsed.message()));
  }
  Taxonomy taxonomy;
  std::vector<std::string> authority_codes;
  for (const auto& la : file.local_authorities()) {
    authority_codes.push_back(la.code());
    taxonomy.authorities_.push_back({la.code(), la.name(), la.lat(), la.lon()});
  }
  std::vector<std::string> qualification_codes;
  for (const auto& q : file.qualifications()) {
    qualification_codes.push_back(q.code());
    taxonomy.specialist_.push_back(q.specialist());
  }
  auto list = [](const auto& repeated) {
    return std::vector<std::string>(repeated.begin(), repeated.end());
  };
  struct Part {
    Vocabulary* target;
    const char* name;
    std::vector<std::string> codes;
  };
  Part parts[] = {
      {&taxonomy.local_authorities_, "local_authorities", authority_codes},
      {&taxonomy.skills_, "skills", list(file.skills())},
      {&taxonomy.training_, "training", list(file.training())},
      {&taxonomy.qualifications_, "qualifications", qualification_codes},
      {&taxonomy.interests_, "interests", list(file.interests())},
      {&taxonomy.languages_, "languages", list(file.languages())},
  };
  for (Part& part : parts) {
    if (part.codes.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(part.name, ": the vocabulary is empty"));
    }
    absl::StatusOr<Vocabulary> vocabulary =
        Vocabulary::Create(part.name, std::move(part.codes));
    if (!vocabulary.ok()) return vocabulary.status();
    *part.target = *std::move(vocabulary);
  }
  return taxonomy;
}

}  // namespace pamatch
