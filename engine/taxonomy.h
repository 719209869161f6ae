// The controlled vocabulary: local authorities, skills, training,
// qualifications, interests and languages, loaded from a JSON data file so
// operators can extend it without a rebuild.
//
// Each vocabulary maps its codes to dense ids 0..n-1 in file order; the
// engine stores and compares ids, and turns them back into codes for output.
// A Taxonomy is immutable after Load and safe to share between threads.
#ifndef PA_MATCH_ENGINE_TAXONOMY_H_
#define PA_MATCH_ENGINE_TAXONOMY_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace pamatch {

// Dense id of a code within its vocabulary.
using CodeId = uint16_t;

// One vocabulary: an ordered list of unique codes.
class Vocabulary {
 public:
  Vocabulary() = default;
  // Fails if a code is empty, malformed or repeated. `name` is used in
  // messages ("skills").
  static absl::StatusOr<Vocabulary> Create(std::string name,
                                           std::vector<std::string> codes);

  // The id of `code`, or -1 if the vocabulary has no such code.
  int Find(absl::string_view code) const;
  const std::string& code(CodeId id) const { return codes_[id]; }
  size_t size() const { return codes_.size(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<std::string> codes_;
  absl::flat_hash_map<std::string, CodeId> ids_;
};

struct LocalAuthority {
  std::string code;
  std::string name;
  double lat = 0;
  double lon = 0;
};

class Taxonomy {
 public:
  // Reads and checks the JSON file at `path`. Errors name the file and the
  // problem (unknown key, duplicate code, ...).
  static absl::StatusOr<Taxonomy> Load(const std::string& path);
  static absl::StatusOr<Taxonomy> Parse(absl::string_view json);

  const Vocabulary& local_authorities() const { return local_authorities_; }
  const Vocabulary& skills() const { return skills_; }
  const Vocabulary& training() const { return training_; }
  const Vocabulary& qualifications() const { return qualifications_; }
  const Vocabulary& interests() const { return interests_; }
  const Vocabulary& languages() const { return languages_; }

  const LocalAuthority& local_authority(CodeId id) const {
    return authorities_[id];
  }
  bool is_specialist(CodeId qualification) const {
    return specialist_[qualification];
  }

 private:
  Vocabulary local_authorities_, skills_, training_, qualifications_,
      interests_, languages_;
  std::vector<LocalAuthority> authorities_;
  std::vector<bool> specialist_;
};

}  // namespace pamatch

#endif  // PA_MATCH_ENGINE_TAXONOMY_H_
