// Erasure and backup against a real RocksDB in a temp dir: a deleted
// profile's bytes leave every file of the database within the erasure
// delay, also when the process ends before the purge ran; a backup taken
// while the engine serves restores into a new data dir with identical
// search results.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "engine/storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/engine_test_util.h"
#include "tests/storage_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::AllPages;
using ::pamatch::testing::FilesContaining;
using ::pamatch::testing::TempDir;
using ::testing::IsEmpty;
using ::testing::Not;

// High-entropy ids, so that they are stored literally even in compressed
// blocks (the positive control below checks that they are found at all).
constexpr char kSecretId[] = "erase-7f3a9c1e5b2d8046";
constexpr char kKeptId[] = "keep-4c8e2a6f0d1b3957";

std::unique_ptr<Engine> Open(const std::string& dir, absl::Duration delay) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = testing::TaxonomyPath();
  options.sync_writes = true;
  options.erasure_delay = delay;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

// Stores the secret profile in an SST (via a reopen, which flushes the
// recovered WAL) and a newer version of it in the WAL, with other profiles
// around it.
void StoreSecret(const std::string& dir) {
  {
    auto engine = Open(dir, absl::Hours(1));
    ASSERT_NE(engine, nullptr);
    for (int i = 0; i < 200; ++i) {
      v1::Profile other = testing::BaseProfile(absl::StrCat("other-", i));
      ASSERT_TRUE(engine->Upsert(other).ok());
    }
    ASSERT_TRUE(engine->Upsert(testing::BaseProfile(kSecretId)).ok());
    ASSERT_TRUE(engine->Upsert(testing::BaseProfile(kKeptId)).ok());
  }
  auto engine = Open(dir, absl::Hours(1));
  ASSERT_NE(engine, nullptr);
  v1::Profile newer = testing::BaseProfile(kSecretId);
  newer.set_version(2);
  ASSERT_TRUE(engine->Upsert(newer).ok());
  // Positive control: the bytes are findable before the delete.
  EXPECT_THAT(FilesContaining(dir + "/db", kSecretId), Not(IsEmpty()));
}

bool WaitUntilGone(const std::string& dir, const std::string& bytes,
                   absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (FilesContaining(dir, bytes).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return FilesContaining(dir, bytes).empty();
}

TEST(StorageErasureTest, DeletedProfileLeavesEveryFileWithinTheDelay) {
  TempDir dir;
  StoreSecret(dir.path());
  auto engine = Open(dir.path(), absl::Milliseconds(300));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->DeleteProfile(kSecretId).ok());

  // Gone from every API at once.
  EXPECT_TRUE(absl::IsNotFound(engine->GetProfile(kSecretId).status()));
  auto search = engine->Search(testing::BaseRequest(), testing::SomeNow());
  ASSERT_TRUE(search.ok()) << search.status();
  for (const v1::SearchResult& result : search->results()) {
    EXPECT_NE(result.id(), kSecretId);
  }
  // And from the files within the delay (+ one flush and compaction).
  EXPECT_TRUE(WaitUntilGone(dir.path() + "/db", kSecretId, absl::Seconds(20)))
      << "still in: "
      << ::testing::PrintToString(FilesContaining(dir.path() + "/db",
                                                  kSecretId));
  EXPECT_THAT(FilesContaining(dir.path() + "/db", kKeptId), Not(IsEmpty()));
  EXPECT_TRUE(engine->GetProfile(kKeptId).ok());
  EXPECT_EQ(engine->size(), 201);

  // Still gone after a restart.
  engine.reset();
  engine = Open(dir.path(), absl::Milliseconds(300));
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(absl::IsNotFound(engine->GetProfile(kSecretId).status()));
  EXPECT_EQ(engine->size(), 201);
}

TEST(StorageErasureTest, PurgeCutShortByTheProcessEndingIsRedoneAtOpen) {
  TempDir dir;
  StoreSecret(dir.path());
  {
    auto engine = Open(dir.path(), absl::Hours(1));
    ASSERT_NE(engine, nullptr);
    ASSERT_TRUE(engine->DeleteProfile(kSecretId).ok());
  }  // closed long before its purge was due
  EXPECT_THAT(FilesContaining(dir.path() + "/db", kSecretId), Not(IsEmpty()));
  auto engine = Open(dir.path(), absl::Milliseconds(100));
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(WaitUntilGone(dir.path() + "/db", kSecretId, absl::Seconds(20)))
      << "still in: "
      << ::testing::PrintToString(FilesContaining(dir.path() + "/db",
                                                  kSecretId));
  EXPECT_TRUE(engine->GetProfile(kKeptId).ok());
}

TEST(StorageErasureTest, PurgeDeletedNowIsSynchronous) {
  TempDir dir;
  StoreSecret(dir.path());
  auto engine = Open(dir.path(), absl::Hours(1));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->DeleteProfile(kSecretId).ok());
  ASSERT_TRUE(engine->PurgeDeleted().ok());
  EXPECT_THAT(FilesContaining(dir.path() + "/db", kSecretId), IsEmpty());
}

// A view (snapshot) taken before a delete still sees the deleted profile,
// and compaction keeps what a snapshot sees: the purge waits for such views
// to go, and fails (to be retried) rather than report bytes it left behind.
TEST(StorageErasureTest, PurgeWaitsForViewsOlderThanTheDelete) {
  TempDir dir;
  StoreOptions options;
  options.purge_delay = absl::Hours(1);  // purged by hand below
  options.snapshot_wait = absl::Milliseconds(200);
  auto store = Store::Open(dir.path() + "/db", options);
  ASSERT_TRUE(store.ok()) << store.status();
  const v1::Profile secret = testing::BaseProfile(kSecretId);
  const v1::Profile kept = testing::BaseProfile(kKeptId);
  ASSERT_TRUE((*store)->PutProfiles({&secret, &kept}).ok());
  std::shared_ptr<const StoreView> before = (*store)->TakeView();
  ASSERT_TRUE((*store)->DeleteProfile(kSecretId).ok());
  const std::shared_ptr<const StoreView> after = (*store)->TakeView();

  const absl::Status held = (*store)->PurgeDeleted();
  EXPECT_FALSE(held.ok());
  EXPECT_NE(held.message().find("older than the deletes"), std::string::npos)
      << held;
  EXPECT_EQ((*store)->purges(), 0);
  // The old view still reads the profile; the current one does not.
  EXPECT_TRUE((*store)->GetProfile(kSecretId, before.get())->has_value());
  EXPECT_FALSE((*store)->GetProfile(kSecretId, after.get())->has_value());

  before.reset();  // a view taken after the delete does not hold it up
  ASSERT_TRUE((*store)->PurgeDeleted().ok());
  EXPECT_EQ((*store)->purges(), 1);
  EXPECT_THAT(FilesContaining(dir.path() + "/db", kSecretId), IsEmpty());
  EXPECT_THAT(FilesContaining(dir.path() + "/db", kKeptId), Not(IsEmpty()));
}

TEST(StorageBackupTest, RestoredBackupGivesIdenticalSearchResults) {
  TempDir dir;
  auto engine = Open(dir.path(), absl::Seconds(60));
  ASSERT_NE(engine, nullptr);
  std::vector<v1::Profile> profiles;
  for (int i = 0; i < 1500; ++i) {
    profiles.push_back(
        demo::GenerateDemoProfile(7, i, testing::SomeNow(), "pa-"));
  }
  for (const auto& outcome : engine->BulkUpsert(profiles)) {
    ASSERT_TRUE(outcome.ok()) << outcome.status();
  }
  v1::Policy policy;
  policy.set_local_authority("E08000021");
  policy.set_min_register_level(1);
  ASSERT_TRUE(engine->SetPolicy(policy, testing::SomeNow()).ok());
  ASSERT_TRUE(engine->DeleteProfile("pa-000003").ok());

  // Writes keep going while the backup is taken.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      engine->Upsert(testing::BaseProfile(absl::StrCat("late-", i)))
          .IgnoreError();
    }
  });
  auto backup = engine->Backup(dir.path() + "/backup", absl::Now());
  stop = true;
  writer.join();
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->policies(), 1);
  EXPECT_GE(backup->profiles(), 1499);
  EXPECT_TRUE(absl::IsAlreadyExists(
      engine->Backup(dir.path() + "/backup", absl::Now()).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(
      engine->Backup(dir.path() + "/no/such/parent", absl::Now()).status()));

  // Restore as documented: copy the checkpoint to <new data dir>/db.
  TempDir restored_dir;
  std::filesystem::copy(backup->path(), restored_dir.path() + "/db",
                        std::filesystem::copy_options::recursive);
  auto restored = Open(restored_dir.path(), absl::Seconds(60));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->size(), backup->profiles());
  // Drop what was written after the backup from the live engine, so both
  // hold the same profiles.
  for (int i = 0;; ++i) {
    const std::string id = absl::StrCat("late-", i);
    if (!engine->GetProfile(id).ok()) break;
    if (!restored->GetProfile(id).ok()) {
      ASSERT_TRUE(engine->DeleteProfile(id).ok());
    }
  }
  ASSERT_EQ(engine->size(), restored->size());
  EXPECT_TRUE(absl::IsNotFound(restored->GetProfile("pa-000003").status()));
  EXPECT_EQ(restored->GetPolicy("E08000021")->min_register_level(), 1);

  std::vector<v1::SearchRequest> requests(3, testing::BaseRequest());
  requests[0].set_page_size(37);
  requests[1].set_local_authority("E08000021");
  requests[1].set_page_size(50);
  requests[2].set_max_distance_km(80);
  requests[2].set_page_size(100);
  requests[2].set_requires_driver(true);
  for (const v1::SearchRequest& request : requests) {
    auto search = [](const Engine& e) {
      return [&e](const v1::SearchRequest& r) {
        return e.Search(r, testing::SomeNow());
      };
    };
    std::string error;
    const std::vector<std::string> live =
        AllPages(request, search(*engine), &error);
    ASSERT_TRUE(error.empty()) << error;
    EXPECT_FALSE(live.empty());
    EXPECT_EQ(AllPages(request, search(*restored)), live);
  }
}

}  // namespace
}  // namespace pamatch
