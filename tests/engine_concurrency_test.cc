// Writers against searchers on one Engine: the engine's own concurrency,
// run under ThreadSanitizer in CI (label "tsan"). Each writer owns a patch
// of map where only its profiles live, so after every acknowledged write it
// can check that a search sees exactly what it has written.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

constexpr int kWriters = 3;
constexpr int kSearchers = 2;
constexpr int kOpsPerWriter = 150;
constexpr int kIdsPerWriter = 12;
// With relayouts, each writer goes on past kOpsPerWriter until the
// relayout thread has finished kRelayouts runs (on a loaded machine it may
// start late), but never past kMaxOpsPerWriter.
constexpr int kRelayouts = 3;
constexpr int kMaxOpsPerWriter = 100000;

// Writer w's patch: a point on the Northumberland coast, 0.05 degrees of
// latitude (~5.6 km) apart, with PAs who travel at most 1 km.
v1::Profile WriterProfile(int writer, int slot, int64_t version) {
  v1::Profile p = testing::BaseProfile(absl::StrCat("w", writer, "-", slot));
  p.set_version(version);
  p.mutable_location()->set_lat(55.0 + 0.05 * writer);
  p.mutable_location()->set_lon(-1.6);
  p.set_max_travel_km(1);
  if (version % 2 == 0) p.add_skills("shopping");
  return p;
}

v1::SearchRequest PatchRequest(int writer) {
  v1::SearchRequest r = testing::BaseRequest();
  r.mutable_location()->set_lat(55.0 + 0.05 * writer);
  r.mutable_location()->set_lon(-1.6);
  r.set_max_distance_km(1);
  return r;
}

// Writers and searchers on `engine` (above); with `relayouts`, one more
// thread lays the index out again and again meanwhile, so writes land in
// every step of a relayout (engine/index_relayout.h).
void WritersAgainstSearchers(Engine* engine, bool relayouts) {
  std::atomic<bool> writers_done{false};
  std::atomic<int> failures{0};
  std::atomic<int> runs{0};  // relayouts finished

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::set<std::string> live;
      std::vector<int64_t> versions(kIdsPerWriter, 0);
      for (int op = 0;
           op < kMaxOpsPerWriter &&
           (op < kOpsPerWriter || (relayouts && runs.load() < kRelayouts));
           ++op) {
        const int slot = (op * 7 + w) % kIdsPerWriter;
        const std::string id = absl::StrCat("w", w, "-", slot);
        if (op % 5 == 4 && live.contains(id)) {
          if (!engine->DeleteProfile(id).ok()) ++failures;
          live.erase(id);
        } else {
          auto result = engine->Upsert(WriterProfile(w, slot, ++versions[slot]));
          if (!result.ok()) ++failures;
          live.insert(id);
        }
        auto response = engine->Search(PatchRequest(w), testing::SomeNow());
        if (!response.ok()) {
          ++failures;
          continue;
        }
        std::set<std::string> seen;
        for (const auto& r : response->results()) seen.insert(r.id());
        if (seen != live || response->total_matches() !=
                                static_cast<int64_t>(live.size())) {
          ++failures;
        }
      }
    });
  }
  for (int s = 0; s < kSearchers; ++s) {
    threads.emplace_back([&] {
      v1::SearchRequest request = testing::BaseRequest();
      request.set_max_distance_km(100);
      request.add_nice_to_have_skills("shopping");
      while (!writers_done.load()) {
        auto response = engine->Search(request, testing::SomeNow());
        if (!response.ok()) {
          ++failures;
          continue;
        }
        // Results stay in order: score desc, then distance asc.
        for (int i = 1; i < response->results_size(); ++i) {
          const auto& a = response->results(i - 1);
          const auto& b = response->results(i);
          if (a.score() < b.score() ||
              (a.score() == b.score() && a.distance_km() > b.distance_km())) {
            ++failures;
          }
        }
        engine->Stats();
      }
    });
  }
  if (relayouts) {
    threads.emplace_back([&] {
      while (!writers_done.load()) {
        engine->RelayoutIndex();
        ++runs;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writers_done = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(failures.load(), 0);
  if (relayouts) {
    // The writers outlasted kRelayouts runs (unless kMaxOpsPerWriter
    // stopped them first: a relayout that never ends).
    EXPECT_GE(runs.load(), kRelayouts);
    // Plus any the engine's own background thread ran.
    EXPECT_GE(engine->Stats().index_relayouts(), runs.load());
  }
}

TEST(EngineConcurrencyTest, SearchesSeeEveryAcknowledgedWrite) {
  testing::TempDir dir;
  auto engine = testing::OpenEngine(dir.path(), /*sync=*/false);
  ASSERT_NE(engine, nullptr);
  WritersAgainstSearchers(engine.get(), /*relayouts=*/false);
}

TEST(EngineConcurrencyTest, SearchesSeeEveryAcknowledgedWriteThroughRelayouts) {
  testing::TempDir dir;
  auto engine = testing::OpenEngine(dir.path(), /*sync=*/false);
  ASSERT_NE(engine, nullptr);
  // 3,000 PAs around Durham, away from the writers' patches, so that a
  // relayout takes long enough for writes to land during its steps, not
  // only between relayouts.
  demo::DemoOptions options;
  options.count = 3000;
  options.now = testing::SomeNow();
  std::vector<v1::Profile> filler = demo::GenerateDemoProfiles(options);
  for (v1::Profile& p : filler) {
    p.mutable_location()->set_lat(54.70 + 0.1 * (p.location().lat() - 54.9));
    p.mutable_location()->set_lon(-1.55);
    p.set_local_authority("E06000047");
    p.set_max_travel_km(std::min(p.max_travel_km(), 5.0));
  }
  for (const auto& result : engine->BulkUpsert(filler)) {
    ASSERT_TRUE(result.ok()) << result.status();
  }
  WritersAgainstSearchers(engine.get(), /*relayouts=*/true);
}

// A stress test: whether a wrong interleaving happens is up to the
// scheduler (without the published view it failed 5 runs of 5 on two
// cores, 2 of 5 pinned to one); CommitQueueDirectTest.
// VisibleViewMovesWithTheIndex is the deterministic guard of the view.
//
// GetProfile and Search show one state of a profile: a reader that calls
// GetProfile and then Search never sees Search behind GetProfile (MATCHING.md
// "a delete removes the profile from every API at once"; the store is
// written before the index, so GetProfile must read the store as the index
// has it, not as it is).
TEST(EngineConcurrencyTest, GetProfileNeverRunsAheadOfSearch) {
  testing::TempDir dir;
  auto engine = testing::OpenEngine(dir.path(), /*sync=*/false);
  ASSERT_NE(engine, nullptr);
  // Version v stands v * 1e-5 degrees north of the search (1.1 m a
  // version), so a search's distance (full precision) tells which version
  // it saw.
  constexpr double kLat = 55.3, kLon = -1.6;
  constexpr double kKmPerVersion = 6371.0088 * 1e-5 * M_PI / 180;
  // The writer goes on past kOps until the readers have made kReads
  // reads (under a sanitizer they start slowly), but never past kMaxOps.
  constexpr int kOps = 600, kReads = 300, kMaxOps = 100000;
  auto version_profile = [&](int64_t version) {
    v1::Profile p = testing::BaseProfile("x");
    p.set_version(version);
    p.mutable_location()->set_lat(kLat + 1e-5 * static_cast<double>(version));
    p.mutable_location()->set_lon(kLon);
    p.set_max_travel_km(200);
    return p;
  };
  std::atomic<int64_t> acked{0};  // the last upsert acknowledged
  std::atomic<bool> done{false};
  std::atomic<int> behind{0}, resurrected{0}, reads{0};
  std::thread writer([&] {
    int64_t version = 0;
    for (int op = 0; op < kMaxOps && (op < kOps || reads.load() < kReads);
         ++op) {
      if (op % 3 == 2) {
        EXPECT_TRUE(engine->DeleteProfile("x").ok());
      } else {
        EXPECT_TRUE(engine->Upsert(version_profile(++version)).ok());
        acked.store(version);
      }
    }
    done.store(true);
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      v1::SearchRequest request = testing::BaseRequest();
      request.mutable_location()->set_lat(kLat);
      request.mutable_location()->set_lon(kLon);
      while (!done.load()) {
        const int64_t acked_before = acked.load();
        auto got = engine->GetProfile("x");
        const int64_t get_version =
            got.ok() ? got->profile().version() : 0;  // 0: absent
        auto found = engine->Search(request, testing::SomeNow());
        ASSERT_TRUE(found.ok()) << found.status();
        int64_t search_version = 0;
        if (found->results_size() > 0) {
          search_version =
              std::llround(found->results(0).distance_km() / kKmPerVersion);
        }
        ++reads;
        // Search showed an older version than GetProfile before it.
        if (get_version > 0 && search_version > 0 &&
            search_version < get_version) {
          ++behind;
        }
        // GetProfile saw a delete of an acknowledged version that Search,
        // after it, still shows.
        if (get_version == 0 && search_version > 0 &&
            search_version <= acked_before) {
          ++resurrected;
        }
      }
    });
  }
  writer.join();
  for (std::thread& t : readers) t.join();
  EXPECT_GE(reads.load(), kReads);
  EXPECT_EQ(behind.load(), 0);
  EXPECT_EQ(resurrected.load(), 0);
}

TEST(EngineConcurrencyTest, ConcurrentWritersToOneIdKeepVersionsExact) {
  testing::TempDir dir;
  auto engine = testing::OpenEngine(dir.path(), /*sync=*/false);
  ASSERT_NE(engine, nullptr);
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        v1::Profile p = testing::BaseProfile("shared");
        p.set_version(0);  // stored + 1: never stale, each gets its own
        if (engine->Upsert(p).ok()) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), kThreads * kEach);
  EXPECT_EQ(engine->GetProfile("shared")->profile().version(), kThreads * kEach);
}

}  // namespace
}  // namespace pamatch
