// Helpers for engine tests: a temporary data dir and a builder of valid
// profiles that each test then changes in the one respect it is about.
#ifndef PA_MATCH_TESTS_ENGINE_TEST_UTIL_H_
#define PA_MATCH_TESTS_ENGINE_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "engine/engine.h"
#include "engine/profile.h"
#include "engine/taxonomy.h"
#include "gtest/gtest.h"

namespace pamatch::testing {

// A fresh directory under /tmp, removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pa-match-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string TaxonomyPath() {
  return std::string(PA_MATCH_SOURCE_DIR) + "/taxonomy/north_east.json";
}

inline std::unique_ptr<Engine> OpenEngine(const std::string& dir,
                                          bool sync = false) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = TaxonomyPath();
  options.sync_writes = sync;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

// The default vocabulary (TaxonomyPath), or nullptr after failing the
// test.
inline std::unique_ptr<Taxonomy> LoadTaxonomy() {
  auto taxonomy = Taxonomy::Load(TaxonomyPath());
  EXPECT_TRUE(taxonomy.ok()) << taxonomy.status();
  return taxonomy.ok() ? std::make_unique<Taxonomy>(*std::move(taxonomy))
                       : nullptr;
}

// `profile` compiled for an index, or nullptr after failing the test.
inline std::shared_ptr<const CompiledProfile> CompileShared(
    const Taxonomy& taxonomy, const v1::Profile& profile) {
  auto compiled = CompileProfile(taxonomy, profile);
  EXPECT_TRUE(compiled.ok()) << compiled.status();
  return compiled.ok()
             ? std::make_shared<const CompiledProfile>(*std::move(compiled))
             : nullptr;
}

// Central Newcastle.
inline constexpr double kNewcastleLat = 54.9783, kNewcastleLon = -1.6178;

// A level-1, active PA in central Newcastle who travels 20 km, with no
// skills, training or availability.
inline v1::Profile BaseProfile(const std::string& id) {
  v1::Profile p;
  p.set_id(id);
  p.set_version(1);
  p.set_status(v1::ACTIVE);
  p.mutable_location()->set_lat(kNewcastleLat);
  p.mutable_location()->set_lon(kNewcastleLon);
  p.set_local_authority("E08000021");
  p.set_max_travel_km(20);
  p.mutable_checks()->set_identity_verified(true);
  p.mutable_checks()->set_code_of_conduct_signed(true);
  p.mutable_attributes()->set_gender(v1::GENDER_FEMALE);
  p.mutable_attributes()->set_age_band(v1::AGE_BAND_35_49);
  p.mutable_attributes()->add_languages("en");
  return p;
}

// A search from central Newcastle, as of 2026-06-15.
inline v1::SearchRequest BaseRequest() {
  v1::SearchRequest r;
  r.mutable_location()->set_lat(kNewcastleLat);
  r.mutable_location()->set_lon(kNewcastleLon);
  r.set_as_of("2026-06-15");
  r.set_page_size(100);
  return r;
}

inline void AddInterval(google::protobuf::RepeatedPtrField<v1::TimeInterval>* to,
                        v1::DayOfWeek day, const std::string& start,
                        const std::string& end) {
  v1::TimeInterval* interval = to->Add();
  interval->set_day(day);
  interval->set_start(start);
  interval->set_end(end);
}

inline absl::Time SomeNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                         absl::UTCTimeZone());
}

}  // namespace pamatch::testing

#endif  // PA_MATCH_TESTS_ENGINE_TEST_UTIL_H_
