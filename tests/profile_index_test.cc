// ProfileIndex on its own: replacement, deletion, document id reuse, and
// candidate sets that never miss a match.
#include "engine/profile_index.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/query.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

class ProfileIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    taxonomy_ = testing::LoadTaxonomy();
    ASSERT_NE(taxonomy_, nullptr);
    index_ = std::make_unique<ProfileIndex>(*taxonomy_);
  }
  void Put(const v1::Profile& p) {
    ProfileIndex::ProfilePtr compiled = testing::CompileShared(*taxonomy_, p);
    ASSERT_NE(compiled, nullptr);
    index_->Put(std::move(compiled));
  }
  std::vector<std::string> Candidates(const v1::SearchRequest& request) {
    auto query = CompileQuery(*taxonomy_, request, nullptr, testing::SomeNow());
    EXPECT_TRUE(query.ok()) << query.status();
    std::vector<std::string> ids;
    index_->ForEachCandidate(*query, [&](const CompiledProfile& p) {
      ids.push_back(p.id);
    });
    return ids;
  }

  std::unique_ptr<Taxonomy> taxonomy_;
  std::unique_ptr<ProfileIndex> index_;
};

TEST_F(ProfileIndexTest, ReplacingAProfileMovesItsPostings) {
  v1::Profile p = testing::BaseProfile("a");
  p.add_skills("hoist_use");
  Put(p);
  v1::SearchRequest request = testing::BaseRequest();
  request.add_must_have_skills("hoist_use");
  EXPECT_EQ(Candidates(request), std::vector<std::string>{"a"});
  p.clear_skills();
  p.add_skills("shopping");
  p.set_version(2);
  Put(p);
  EXPECT_EQ(index_->size(), 1u);
  EXPECT_TRUE(Candidates(request).empty());
  EXPECT_EQ(index_->Find("a")->version, 2);
}

TEST_F(ProfileIndexTest, DeletedDocumentIdsAreReused) {
  for (int i = 0; i < 100; ++i) Put(testing::BaseProfile(absl::StrCat("p", i)));
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(index_->Erase(absl::StrCat("p", i)));
    }
    for (int i = 0; i < 50; ++i) Put(testing::BaseProfile(absl::StrCat("p", i)));
  }
  EXPECT_EQ(index_->size(), 100u);
  EXPECT_EQ(index_->document_slots(), 100u);
  EXPECT_FALSE(index_->Erase("missing"));
}

// The counts GetStats and the metrics read (no walk over the profiles)
// agree with a walk after every kind of write.
TEST_F(ProfileIndexTest, CountsByStatusAndLocalAuthorityFollowEveryWrite) {
  auto expect_counts_match_a_walk = [&](const char* after) {
    SCOPED_TRACE(after);
    std::vector<int64_t> by_la;
    size_t active = 0;
    index_->ForEach([&](const CompiledProfile& p) {
      if (p.local_authority >= by_la.size())
        by_la.resize(p.local_authority + 1);
      ++by_la[p.local_authority];
      active += p.active ? 1 : 0;
    });
    std::vector<int64_t> kept = index_->profiles_by_local_authority();
    kept.resize(std::max(kept.size(), by_la.size()));
    by_la.resize(kept.size());
    EXPECT_EQ(kept, by_la);
    EXPECT_EQ(index_->active_size(), active);
  };
  auto profile = [](int i, const char* la, bool paused) {
    v1::Profile p = testing::BaseProfile(absl::StrCat("p", i));
    p.set_local_authority(la);
    if (paused) p.set_status(v1::PAUSED);
    return p;
  };
  for (int i = 0; i < 30; ++i) {
    Put(profile(i, i % 3 == 0 ? "E08000021" : "E08000037", i % 4 == 0));
  }
  expect_counts_match_a_walk("puts");
  const int newcastle = taxonomy_->local_authorities().Find("E08000021");
  ASSERT_GE(newcastle, 0);
  EXPECT_EQ(index_->profiles_by_local_authority()[newcastle], 10);
  // A replacement that moves authority and status.
  Put(profile(0, "E08000037", false));
  Put(profile(1, "E08000021", true));
  expect_counts_match_a_walk("replacements");
  EXPECT_EQ(index_->profiles_by_local_authority()[newcastle], 10);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(index_->Erase(absl::StrCat("p", i)));
  expect_counts_match_a_walk("erases");
  // A rebuilt index, swapped in (as a relayout does).
  ProfileIndex rebuilt(*taxonomy_);
  rebuilt.BulkLoad(index_->Snapshot(), ProfileIndex::Profiles::kShare);
  Put(profile(99, "E08000021", false));
  index_->Swap(rebuilt);
  expect_counts_match_a_walk("swap");
  EXPECT_EQ(index_->size(), 20u);
}

TEST_F(ProfileIndexTest, GeoCellsNeverDropAPaJustInsideTheRadius) {
  // PAs on a ring of radius 9.99 km around the query, at many bearings,
  // across cell boundaries: all are candidates for a 10 km search; PAs at
  // 10.5 km are not needed but allowed (candidates are a superset).
  const double lat0 = 54.97, lon0 = -1.61;
  int n = 0;
  for (double bearing = 0; bearing < 360; bearing += 7.5, ++n) {
    const double rad = bearing * M_PI / 180;
    v1::Profile p = testing::BaseProfile(absl::StrCat("ring", n));
    p.mutable_location()->set_lat(lat0 + 9.99 / 111.195 * std::cos(rad));
    p.mutable_location()->set_lon(
        lon0 + 9.99 / (111.195 * std::cos(lat0 * M_PI / 180)) * std::sin(rad));
    Put(p);
  }
  v1::SearchRequest request = testing::BaseRequest();
  request.mutable_location()->set_lat(lat0);
  request.mutable_location()->set_lon(lon0);
  request.set_max_distance_km(10);
  EXPECT_EQ(Candidates(request).size(), static_cast<size_t>(n));
  request.set_max_distance_km(2);
  EXPECT_TRUE(Candidates(request).empty());
}

TEST_F(ProfileIndexTest, ChangesToACellLaidOutByTravelAreSeen) {
  // BulkLoad lays a cell out by descending travel and a search reads only
  // the PAs that travel far enough; a later change to the cell must not be
  // hidden by that order. Three PAs in one cell, the query 12 km north.
  auto at_home = [](const std::string& id, double travel_km) {
    v1::Profile p = testing::BaseProfile(id);
    p.set_max_travel_km(travel_km);
    return p;
  };
  std::vector<ProfileIndex::ProfilePtr> loaded;
  for (const v1::Profile& p :
       {at_home("a", 20), at_home("b", 5), at_home("c", 3)}) {
    loaded.push_back(testing::CompileShared(*taxonomy_, p));
    ASSERT_NE(loaded.back(), nullptr);
  }
  index_->BulkLoad(std::move(loaded));
  v1::SearchRequest request = testing::BaseRequest();
  request.mutable_location()->set_lat(testing::kNewcastleLat + 12 / 111.195);
  EXPECT_EQ(Candidates(request), std::vector<std::string>{"a"});

  // c, last in the cell's order, now travels furthest.
  v1::Profile c = at_home("c", 30);
  c.set_version(2);
  Put(c);
  std::vector<std::string> found = Candidates(request);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"a", "c"}));

  // a's slot, first in the cell, is freed and taken by a newcomer.
  ASSERT_TRUE(index_->Erase("a"));
  Put(at_home("d", 25));
  found = Candidates(request);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(index_->document_slots(), 3u);
}

}  // namespace
}  // namespace pamatch
