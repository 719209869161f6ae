// The index relayout (engine/index_relayout.h): which documents count as
// unsorted, that a relayout restores the travel order without changing any
// search's answer, that writes made during each step of a relayout are
// kept, and that the engine runs it in the background when, and only when,
// enough profiles are unsorted.
//
// Waiting. What a test expects to happen it waits for, polling a condition
// with a deadline (WaitUntil), never for a fixed time: a slow machine
// takes longer, a fast one no longer than needed. What a test expects NOT
// to happen for a while is a claim about time; each such test says in a
// comment why its check is sound.
#include "engine/index_relayout.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "engine/profile_index.h"
#include "engine/query.h"
#include "engine/scoring.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

using ProfilePtr = ProfileIndex::ProfilePtr;

constexpr double kLat = testing::kNewcastleLat, kLon = testing::kNewcastleLon;

// Polls `done` every 10 ms until it holds (true) or 30 s have passed
// (false).
template <typename Done>
bool WaitUntil(Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class IndexRelayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    taxonomy_ = testing::LoadTaxonomy();
    ASSERT_NE(taxonomy_, nullptr);
    live_ = std::make_unique<LiveIndex>(*taxonomy_);
    index_ = &Unlocked();
  }
  // The live index without its lock, as index_: for the test's own thread
  // while no relayout runs; writes that race a relayout take live_->mu()
  // (Put, Erase below), as the engine's commit thread does.
  ProfileIndex& Unlocked() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return live_->mutable_index();
  }
  ProfilePtr Compile(const v1::Profile& p) {
    return testing::CompileShared(*taxonomy_, p);
  }
  // Background options that make a relayout due at once, polled often,
  // with no pause between runs (max_duty 1: a second run could follow the
  // first at once if one were due).
  static RelayoutOptions Eager() {
    RelayoutOptions options;
    options.unsorted_fraction = 0;
    options.min_unsorted_documents = 0;
    options.poll = absl::Milliseconds(10);
    options.max_duty = 1;
    return options;
  }
  // What WriteSteadily saw.
  struct Stream {
    bool done = false;           // `done` held; false: 30 s passed first
    IndexRelayout::Stats stats;  // read after the last write
    absl::Duration elapsed;      // from the start to that read
    // The longest the index can have gone without a write, up to that
    // read. Each write happens between the times taken just before and
    // just after its Put, so the time between two writes is at most from
    // before the first Put to after the second.
    absl::Duration longest_gap;
  };
  // A steady stream of writes: a new profile every 5 ms (the sleep paces
  // the writes, it waits for nothing) until done(elapsed, stats), asked
  // after each write, holds, or 30 s have passed.
  template <typename Done>
  Stream WriteSteadily(const IndexRelayout& relayout, Done&& done) {
    Stream stream;
    const absl::Time start = absl::Now();
    absl::Time previous = start;  // before the previous Put
    for (int i = 0; absl::Now() - start < absl::Seconds(30); ++i) {
      const absl::Time before = absl::Now();
      Put(Demo(1000 + i));
      stream.stats = relayout.stats();
      const absl::Time after = absl::Now();
      stream.elapsed = after - start;
      stream.longest_gap = std::max(stream.longest_gap, after - previous);
      previous = before;
      if (done(stream.elapsed, stream.stats)) {
        stream.done = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return stream;
  }
  // A North East demo profile; `seed` other than 42 gives the same id
  // with other contents (an update).
  v1::Profile Demo(int64_t i, uint64_t seed = 42) {
    v1::Profile p =
        demo::GenerateDemoProfile(seed, i, testing::SomeNow(), "pa-");
    p.set_version(static_cast<int64_t>(seed));
    return p;
  }
  void Load(int count) {
    std::vector<ProfilePtr> all;
    for (int i = 0; i < count; ++i) all.push_back(Compile(Demo(i)));
    index_->BulkLoad(std::move(all));
  }
  // Writes as the commit thread does: under the exclusive lock.
  void Put(const v1::Profile& p) {
    ProfilePtr compiled = Compile(p);
    WriterLock lock(&live_->mu());
    index_->Put(std::move(compiled));
  }
  void Erase(const std::string& id) {
    WriterLock lock(&live_->mu());
    ASSERT_TRUE(index_->Erase(id)) << id;
  }

  // Searches of several shapes over the North East.
  static std::vector<v1::SearchRequest> Requests() {
    std::vector<v1::SearchRequest> requests;
    auto at = [](double lat, double lon, double km) {
      v1::SearchRequest r = testing::BaseRequest();
      r.mutable_location()->set_lat(lat);
      r.mutable_location()->set_lon(lon);
      r.set_max_distance_km(km);
      r.set_page_size(20);
      return r;
    };
    requests.push_back(at(kLat, kLon, 5));          // dense, near
    requests.push_back(at(kLat, kLon, 30));         // broad
    requests.push_back(at(54.906, -1.381, 15));     // Sunderland
    requests.push_back(at(54.776, -1.575, 200));    // Durham, all reach
    v1::SearchRequest skills = at(kLat, kLon, 25);
    skills.add_must_have_skills("personal_care");
    skills.add_nice_to_have_skills("shopping");
    requests.push_back(skills);
    v1::SearchRequest hours = at(54.57, -1.23, 40);  // Middlesbrough
    testing::AddInterval(hours.mutable_schedule(), v1::MONDAY,
                         "09:00", "12:00");
    requests.push_back(hours);
    return requests;
  }
  // The index's answer to `request`, serialized.
  std::string IndexAnswer(const ProfileIndex& index,
                          const v1::SearchRequest& request) {
    auto query = CompileQuery(*taxonomy_, request, nullptr, testing::SomeNow());
    EXPECT_TRUE(query.ok()) << query.status();
    SearchCollector collector(*query, *taxonomy_);
    index.Search(*query, collector);
    return collector.Finish().SerializeAsString();
  }
  // The reference scan's: every profile against every filter.
  std::string ScanAnswer(const ProfileIndex& index,
                         const v1::SearchRequest& request) {
    auto query = CompileQuery(*taxonomy_, request, nullptr, testing::SomeNow());
    EXPECT_TRUE(query.ok()) << query.status();
    SearchCollector collector(*query, *taxonomy_);
    index.ForEach([&](const CompiledProfile& p) { collector.Consider(p); });
    v1::SearchResponse response = collector.Finish();
    EXPECT_GT(response.total_matches(), 0) << request.ShortDebugString();
    return response.SerializeAsString();
  }
  std::vector<std::string> Answers(const ProfileIndex& index) {
    std::vector<std::string> answers;
    for (const v1::SearchRequest& r : Requests()) {
      answers.push_back(IndexAnswer(index, r));
      EXPECT_EQ(answers.back(), ScanAnswer(index, r)) << r.ShortDebugString();
    }
    return answers;
  }
  std::set<std::string> Ids(const ProfileIndex& index) {
    std::set<std::string> ids;
    index.ForEach([&](const CompiledProfile& p) { ids.insert(p.id); });
    return ids;
  }

  std::unique_ptr<Taxonomy> taxonomy_;
  std::unique_ptr<LiveIndex> live_;
  ProfileIndex* index_ = nullptr;
};

TEST_F(IndexRelayoutTest, UnsortedDocumentsCountTheCellsWritesTouched) {
  // Cells are 0.05 degrees of latitude high: rows 0.1 apart never share one.
  auto at = [](const std::string& id, double row) {
    v1::Profile p = testing::BaseProfile(id);
    p.mutable_location()->set_lat(kLat + 0.1 * row);
    return p;
  };
  std::vector<ProfilePtr> loaded;
  for (int i = 0; i < 5; ++i) loaded.push_back(Compile(at(absl::StrCat("a", i), 0)));
  for (int i = 0; i < 3; ++i) loaded.push_back(Compile(at(absl::StrCat("b", i), 1)));
  for (int i = 0; i < 2; ++i) loaded.push_back(Compile(at(absl::StrCat("c", i), 2)));
  index_->BulkLoad(std::move(loaded));
  EXPECT_EQ(index_->unsorted_documents(), 0u);
  index_->Put(Compile(at("a5", 0)));  // cell a: 6 documents, now unsorted
  EXPECT_EQ(index_->unsorted_documents(), 6u);
  index_->Put(Compile(at("b0", 1)));  // replaced in place: all of b too
  EXPECT_EQ(index_->unsorted_documents(), 9u);
  index_->Put(Compile(at("a0", 0)));  // a is already counted
  EXPECT_EQ(index_->unsorted_documents(), 9u);
  ASSERT_TRUE(index_->Erase("c0"));   // c keeps one document
  EXPECT_EQ(index_->unsorted_documents(), 10u);
  index_->Put(Compile(at("d0", 3)));  // a new cell
  EXPECT_EQ(index_->unsorted_documents(), 11u);
  ASSERT_TRUE(index_->Erase("d0"));   // and gone again
  EXPECT_EQ(index_->unsorted_documents(), 10u);
  index_->Put(Compile(at("b1", 0)));  // moves from b to a
  EXPECT_EQ(index_->unsorted_documents(), 10u);
  EXPECT_EQ(index_->size(), 10u);
}

TEST_F(IndexRelayoutTest, RelayoutRestoresOrderAndKeepsEveryAnswer) {
  Load(3000);
  for (int i = 3000; i < 3200; ++i) Put(Demo(i));       // new
  for (int i = 0; i < 300; i += 3) Put(Demo(i, 7));      // updated
  for (int i = 1; i < 300; i += 3) Erase(Demo(i).id());  // deleted
  const size_t size = index_->size();
  ASSERT_EQ(size, 3100u);
  ASSERT_GT(index_->document_slots(), size);  // new ones did not all fit
  ASSERT_GT(index_->unsorted_documents(), 1000u);
  const std::vector<std::string> before = Answers(*index_);
  const std::set<std::string> ids = Ids(*index_);
  const CompiledProfile* updated = index_->Find("pa-000000");

  RelayoutOptions options;
  options.background = false;
  IndexRelayout relayout(live_.get(), options);
  relayout.RunNow();

  EXPECT_EQ(index_->unsorted_documents(), 0u);
  EXPECT_EQ(index_->size(), size);
  EXPECT_EQ(index_->document_slots(), size);  // deleted slots reclaimed
  EXPECT_EQ(Ids(*index_), ids);
  EXPECT_EQ(Answers(*index_), before);
  // The same profile objects, shared rather than copied.
  EXPECT_EQ(index_->Find("pa-000000"), updated);
  EXPECT_EQ(updated->version, 7);
  EXPECT_EQ(relayout.stats().runs, 1);
  EXPECT_EQ(relayout.stats().replayed, 0);
}

TEST_F(IndexRelayoutTest, WritesDuringEachStepAreKept) {
  Load(2000);
  // Distinct contents for an id: a different seed moves the PA elsewhere.
  RelayoutOptions options;
  options.background = false;
  options.after_step = [&](int step) {
    if (step == 2) {  // the fresh index is built from the snapshot
      Put(Demo(5000));             // new
      Put(Demo(10, 2));            // updated
      Erase(Demo(11).id());        // deleted
      Put(Demo(5001));             // new, then deleted in the same window
      Erase(Demo(5001).id());
    } else if (step == 3) {  // the fresh index has caught up once
      Put(Demo(5002));             // new
      Put(Demo(10, 3));            // updated again
      Erase(Demo(12).id());        // deleted
      Put(Demo(11, 4));            // deleted before, back now
    }
  };
  IndexRelayout relayout(live_.get(), options);
  relayout.RunNow();

  // What the index should now hold, built from nothing.
  ProfileIndex expected(*taxonomy_);
  {
    std::vector<ProfilePtr> all;
    for (int i = 0; i < 2000; ++i) {
      if (i == 10) {
        all.push_back(Compile(Demo(10, 3)));
      } else if (i == 11) {
        all.push_back(Compile(Demo(11, 4)));
      } else if (i != 12) {
        all.push_back(Compile(Demo(i)));
      }
    }
    all.push_back(Compile(Demo(5000)));
    all.push_back(Compile(Demo(5002)));
    expected.BulkLoad(std::move(all));
  }
  EXPECT_EQ(index_->size(), 2001u);
  EXPECT_EQ(Ids(*index_), Ids(expected));
  EXPECT_EQ(index_->Find(Demo(10).id())->version, 3);
  EXPECT_EQ(index_->Find(Demo(11).id())->version, 4);
  EXPECT_EQ(index_->Find(Demo(12).id()), nullptr);
  EXPECT_EQ(index_->Find(Demo(5001).id()), nullptr);
  EXPECT_EQ(Answers(*index_), Answers(expected));
  // Step 3 replayed 10, 11, 5000 and 5001; step 4 10, 11, 12 and 5002.
  EXPECT_EQ(relayout.stats().replayed, 8);
  EXPECT_EQ(relayout.stats().replayed_exclusive, 4);
  // Only the cells those writes touched are unsorted.
  EXPECT_GT(index_->unsorted_documents(), 0u);
  EXPECT_LT(index_->unsorted_documents(), index_->size() / 4);
  // Tracking stopped: later writes are not noted for a relayout.
  Put(Demo(5003));
  EXPECT_TRUE(index_->TakeChanges(/*keep_tracking=*/false).empty());
}

// The background policy: a due relayout waits for writes to pause for
// `quiet`, or runs anyway once it has waited max_wait.
//
// That it does NOT run while writes go on is a claim about time, made
// sound rather than hoped for. The writes go on for twice `quiet` (so a
// relayout that ignored the writes, or timed `quiet` from the first one,
// would have run) and then until the thread has looked 5 more times
// (Stats::polls: a thread that never got the CPU would prove nothing). A
// run then fails the test only if the index never went `quiet` without a
// write (Stream::longest_gap). If the writer itself was held up that long
// (a very loaded machine), a run would be right, so that attempt proves
// nothing and a fresh index tries again, 3 attempts at most.
TEST_F(IndexRelayoutTest, BackgroundRelayoutWaitsForWritesToPause) {
  RelayoutOptions options = Eager();
  options.quiet = absl::Milliseconds(400);
  options.max_wait = absl::Hours(1);
  for (int attempt = 1;; ++attempt) {
    live_ = std::make_unique<LiveIndex>(*taxonomy_);
    index_ = &Unlocked();
    Load(500);
    IndexRelayout relayout(live_.get(), options);
    int64_t polls_at_span = -1;
    const Stream stream = WriteSteadily(
        relayout,
        [&](absl::Duration elapsed, const IndexRelayout::Stats& stats) {
          if (elapsed < 2 * options.quiet) return false;
          if (polls_at_span < 0) polls_at_span = stats.polls;
          return stats.polls >= polls_at_span + 5;
        });
    ASSERT_TRUE(stream.done) << "the relayout thread did not look 5 times";
    if (stream.longest_gap >= options.quiet) {
      ASSERT_LT(attempt, 3)
          << "the writer was held up for " << stream.longest_gap
          << " (>= quiet) in every attempt";
      continue;
    }
    EXPECT_EQ(stream.stats.runs, 0)
        << "ran during " << stream.elapsed << " of writes at most "
        << stream.longest_gap << " apart";
    // Then quiet: it runs once, and not again. After the run it looks 5
    // more times, free to run again at once (Eager), and finds nothing
    // unsorted.
    int64_t polls = 0;
    ASSERT_TRUE(WaitUntil([&] {
      const IndexRelayout::Stats stats = relayout.stats();
      polls = stats.polls;
      return stats.runs > 0;
    }));
    ASSERT_TRUE(WaitUntil([&] { return relayout.stats().polls >= polls + 5; }));
    EXPECT_EQ(relayout.stats().runs, 1);
    ReaderLock lock(&live_->mu());
    EXPECT_EQ(index_->unsorted_documents(), 0u);
    return;
  }
}

// Under writes that never pause for `quiet` (an hour), a due relayout runs
// once it has been due for max_wait, and not before: it cannot be due
// before the first write, after the stream began.
TEST_F(IndexRelayoutTest, BackgroundRelayoutRunsAfterMaxWaitUnderSteadyWrites) {
  Load(500);
  RelayoutOptions options = Eager();
  options.quiet = absl::Hours(1);
  options.max_wait = absl::Milliseconds(200);
  IndexRelayout relayout(live_.get(), options);
  const Stream stream = WriteSteadily(
      relayout, [](absl::Duration, const IndexRelayout::Stats& stats) {
        return stats.runs > 0;
      });
  ASSERT_TRUE(stream.done) << "no relayout in 30 s of writes";
  EXPECT_GE(stream.elapsed, options.max_wait);
}

// The engine's background thread, end to end (writes through the commit
// queue, stats through Engine::Stats).
std::unique_ptr<Engine> OpenWithRelayout(const std::string& dir,
                                         double fraction) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = testing::TaxonomyPath();
  options.sync_writes = false;
  options.relayout_unsorted_fraction = fraction;
  options.relayout_min_unsorted = 100;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

void WriteDemoProfiles(Engine& engine, int first, int count) {
  demo::DemoOptions options;
  options.count = first + count;
  options.now = testing::SomeNow();
  std::vector<v1::Profile> all = demo::GenerateDemoProfiles(options);
  all.erase(all.begin(), all.begin() + first);
  for (const auto& result : engine.BulkUpsert(all)) {
    ASSERT_TRUE(result.ok()) << result.status();
  }
}

// How long after its last write an engine's background thread has run any
// relayout that is due: writes paused for `quiet`, seen within a `poll`,
// looked at again within another (the engine uses RelayoutOptions'
// defaults: 2 s, 0.5 s). That a relayout does NOT run, the engine tests
// below can only show by waiting this long: Engine gives no hook to know
// that its thread has looked, and its quiet and poll are not options. A
// machine too slow to run the thread in time can make such a check miss a
// fault, never fail a correct engine.
absl::Duration EngineRelayoutDeadline() {
  const RelayoutOptions defaults;
  return defaults.quiet + 2 * defaults.poll;
}

// Sleeps until `deadline` (no-op if it has passed).
void SleepUntil(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left > absl::ZeroDuration()) {
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(left));
  }
}

TEST(EngineRelayoutTest, BackgroundRelayoutRunsOnceEnoughProfilesAreUnsorted) {
  testing::TempDir dir, other_dir;
  {
    // 50 writes into an empty index: under relayout_min_unsorted (100), so
    // never due: no relayout even once writes have paused.
    auto engine = OpenWithRelayout(dir.path(), 0.1);
    ASSERT_NE(engine, nullptr);
    WriteDemoProfiles(*engine, 0, 50);
    const absl::Time written = absl::Now();
    // Meanwhile (both waits at once), 500 into another empty index: due
    // (over 100, and over 10% of all), run once writes pause.
    auto other = OpenWithRelayout(other_dir.path(), 0.1);
    ASSERT_NE(other, nullptr);
    WriteDemoProfiles(*other, 0, 500);
    ASSERT_GT(other->Stats().unsorted_profiles(), 100);
    v1::GetStatsResponse stats;
    ASSERT_TRUE(WaitUntil([&] {
      stats = other->Stats();
      return stats.index_relayouts() > 0;
    }));
    EXPECT_EQ(stats.index_relayouts(), 1);
    EXPECT_EQ(stats.unsorted_profiles(), 0);
    EXPECT_EQ(stats.profiles(), 500);
    EXPECT_GT(stats.last_relayout_seconds(), 0);
    EXPECT_GT(stats.last_relayout_pause_seconds(), 0);
    EXPECT_LT(stats.last_relayout_pause_seconds(),
              stats.last_relayout_seconds());
    SleepUntil(written + EngineRelayoutDeadline());
    EXPECT_EQ(engine->Stats().unsorted_profiles(), 50);
    EXPECT_EQ(engine->Stats().index_relayouts(), 0);
  }
  // Reopened, the 50 are rebuilt in order: none is unsorted.
  auto engine = OpenWithRelayout(dir.path(), 0.1);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().profiles(), 50);
  EXPECT_EQ(engine->Stats().unsorted_profiles(), 0);
}

TEST(EngineRelayoutTest, NegativeFractionNeverRelayoutsInTheBackground) {
  testing::TempDir dir;
  auto engine = OpenWithRelayout(dir.path(), -1);
  ASSERT_NE(engine, nullptr);
  WriteDemoProfiles(*engine, 0, 500);
  // Past the time by which a started thread would have run (above).
  SleepUntil(absl::Now() + EngineRelayoutDeadline());
  EXPECT_EQ(engine->Stats().index_relayouts(), 0);
  EXPECT_EQ(engine->Stats().unsorted_profiles(), 500);
  // An explicit relayout still runs.
  engine->RelayoutIndex();
  EXPECT_EQ(engine->Stats().index_relayouts(), 1);
  EXPECT_EQ(engine->Stats().unsorted_profiles(), 0);
}

}  // namespace
}  // namespace pamatch
