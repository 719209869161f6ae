// Fuzz target: the taxonomy file (the input is the file's text) through
// Taxonomy::Parse. Properties: it loads or fails with a status, never
// crashes; a loaded taxonomy finds each of its codes at its own id.
#include <cstdint>

#include "engine/taxonomy.h"
#include "fuzz/fuzz_util.h"

namespace {

void CheckVocabulary(const pamatch::Vocabulary& vocabulary) {
  for (size_t id = 0; id < vocabulary.size(); ++id) {
    const std::string& code = vocabulary.code(static_cast<pamatch::CodeId>(id));
    PA_FUZZ_CHECK(vocabulary.Find(code) == static_cast<int>(id),
                  vocabulary.name(), " ", code);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<pamatch::Taxonomy> taxonomy =
      pamatch::Taxonomy::Parse(pamatch::fuzz::Bytes(data, size));
  if (!taxonomy.ok()) {
    PA_FUZZ_CHECK(!taxonomy.status().message().empty(), "an error says why");
    return 0;
  }
  CheckVocabulary(taxonomy->local_authorities());
  CheckVocabulary(taxonomy->skills());
  CheckVocabulary(taxonomy->training());
  CheckVocabulary(taxonomy->qualifications());
  for (size_t id = 0; id < taxonomy->qualifications().size(); ++id) {
    taxonomy->is_specialist(static_cast<pamatch::CodeId>(id));
  }
  CheckVocabulary(taxonomy->interests());
  CheckVocabulary(taxonomy->languages());
  for (size_t id = 0; id < taxonomy->local_authorities().size(); ++id) {
    const auto la = static_cast<pamatch::CodeId>(id);
    PA_FUZZ_CHECK(taxonomy->local_authority(la).code ==
                      taxonomy->local_authorities().code(la),
                  "");
  }
  return 0;
}
