// Data dirs that must not open as an empty index: a newer schema, truncated
// or corrupt files, a missing CURRENT, a missing parent, an existing install
// whose database vanished, a read-only file system; and a full disk on
// write. Real RocksDB files; the read-only and full-disk cases mount a small
// tmpfs and are skipped where mounting is not permitted.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/storage_test_util.h"

namespace pamatch {
namespace {

namespace fs = std::filesystem;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

absl::Status OpenStatus(const std::string& db_dir,
                        bool create_if_missing = true) {
  EngineOptions options;
  options.data_dir = db_dir;
  options.taxonomy_path = testing::TaxonomyPath();
  options.create_if_missing = create_if_missing;
  return Engine::Open(options).status();
}

// A database with 300 profiles, all in SST files (the reopen flushes the
// recovered WAL).
std::string MakeDb(const std::string& dir) {
  {
    auto engine = testing::OpenEngine(dir, /*sync=*/true);
    for (int i = 0; i < 300; ++i) {
      EXPECT_TRUE(
          engine->Upsert(testing::BaseProfile(absl::StrCat("p-", i))).ok());
    }
  }
  testing::OpenEngine(dir).reset();
  return dir + "/db";
}

std::string LargestSst(const std::string& db) {
  std::string best;
  uintmax_t size = 0;
  for (const auto& entry : fs::directory_iterator(db)) {
    if (entry.path().extension() == ".sst" && entry.file_size() > size) {
      size = entry.file_size();
      best = entry.path().string();
    }
  }
  return best;
}

TEST(StorageBadDirsTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string db = MakeDb(dir.path());
  {
    rocksdb::DBOptions options;
    // Every family the store made (RocksDB opens none unless all are
    // named), the meta family among them.
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, db, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    size_t meta = names.size();
    for (size_t i = 0; i < names.size(); ++i) {
      families.push_back({names[i], {}});
      if (names[i] == "meta") meta = i;
    }
    ASSERT_LT(meta, names.size());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, db, families, &handles, &raw).ok());
    ASSERT_TRUE(
        raw->Put(rocksdb::WriteOptions(), handles[meta], "schema_version", "2")
            .ok());
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
  }
  const absl::Status status = OpenStatus(db);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("has schema version 2, newer than this pa-match "
                        "understands (1)"));
}

TEST(StorageBadDirsTest, TruncatedSstIsRefused) {
  TempDir dir;
  const std::string db = MakeDb(dir.path());
  const std::string sst = LargestSst(db);
  ASSERT_FALSE(sst.empty());
  fs::resize_file(sst, fs::file_size(sst) / 2);
  const absl::Status status = OpenStatus(db);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("cannot open data dir " + db));
  EXPECT_THAT(status.message(), HasSubstr("Corruption"));
}

TEST(StorageBadDirsTest, CorruptSstBytesAreCaughtByTheLoadScan) {
  TempDir dir;
  const std::string db = MakeDb(dir.path());
  const std::string sst = LargestSst(db);
  ASSERT_FALSE(sst.empty());
  {
    std::fstream file(sst, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
  }
  const absl::Status status = OpenStatus(db);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("Corruption"));
}

TEST(StorageBadDirsTest, EmptiedCurrentFileIsRefused) {
  TempDir dir;
  const std::string db = MakeDb(dir.path());
  fs::resize_file(db + "/CURRENT", 0);
  const absl::Status status = OpenStatus(db);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("cannot open data dir " + db));
  EXPECT_THAT(status.message(), HasSubstr("CURRENT"));
}

TEST(StorageBadDirsTest, MissingCurrentFileIsRefusedNotRecreated) {
  TempDir dir;
  const std::string db = MakeDb(dir.path());
  fs::remove(db + "/CURRENT");
  const absl::Status status = OpenStatus(db);
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("has database files but no CURRENT file"));
}

TEST(StorageBadDirsTest, MissingParentIsRefused) {
  TempDir dir;
  const absl::Status status = OpenStatus(dir.path() + "/nope/db");
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("its parent directory " + dir.path() +
                        "/nope does not exist"));
}

TEST(StorageBadDirsTest, ExistingInstallWithoutDatabaseIsRefused) {
  TempDir dir;
  const absl::Status status =
      OpenStatus(dir.path() + "/db", /*create_if_missing=*/false);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(),
              HasSubstr("refusing to start with an empty database"));
}

TEST(StorageBadDirsTest, DaemonRefusesAnInstallWhoseDatabaseVanished) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::vector<std::string> args = {"--listen=127.0.0.1:0",
                                   "--data_dir=" + data,
                                   "--taxonomy=" + testing::TaxonomyPath(),
                                   "--demo_profiles=5"};
  {
    Daemon first(dir.path(), args);
    ASSERT_NE(first.WaitServing(), nullptr);
  }
  fs::remove_all(data + "/db");
  Daemon second(dir.path(), args);
  const int exit_status = second.Wait(std::chrono::seconds(60));
  ASSERT_TRUE(WIFEXITED(exit_status)) << second.err();
  EXPECT_NE(WEXITSTATUS(exit_status), 0);
  EXPECT_THAT(second.err(),
              HasSubstr("refusing to start with an empty database"));
  EXPECT_FALSE(fs::exists(data + "/db"));
  // The documented way out.
  args.push_back("--allow_new_db");
  Daemon third(dir.path(), args);
  EXPECT_NE(third.WaitServing(), nullptr);
}

TEST(StorageBadDirsTest, ReadOnlyFileSystemIsRefused) {
  TempDir dir;
  testing::ScopedTmpfs tmpfs(dir.path() + "/mnt", "64m");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  const std::string db = MakeDb(dir.path() + "/mnt");
  ASSERT_TRUE(tmpfs.RemountReadOnly());
  const absl::Status status = OpenStatus(db);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("cannot open data dir " + db));
  EXPECT_THAT(status.message(), HasSubstr("Read-only file system"));
}

TEST(StorageBadDirsTest, FullDiskFailsWritesClearlyAndLosesNothing) {
  TempDir dir;
  testing::ScopedTmpfs tmpfs(dir.path() + "/mnt", "4m");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here";
  auto engine = testing::OpenEngine(dir.path() + "/mnt", /*sync=*/true);
  ASSERT_NE(engine, nullptr);
  absl::Status failed;
  int64_t acked = 0;
  for (int batch = 0; batch < 1000 && failed.ok(); ++batch) {
    std::vector<v1::Profile> profiles;
    for (int i = 0; i < 200; ++i) {
      v1::Profile p = testing::BaseProfile(absl::StrCat("full-", batch, "-", i));
      profiles.push_back(p);
    }
    for (const auto& outcome : engine->BulkUpsert(profiles)) {
      if (outcome.ok()) {
        ++acked;
      } else if (failed.ok()) {
        failed = outcome.status();
      }
    }
  }
  ASSERT_FALSE(failed.ok()) << "the 4 MiB tmpfs never filled up";
  EXPECT_TRUE(absl::IsResourceExhausted(failed)) << failed;
  EXPECT_THAT(failed.message(), HasSubstr("No space left on device"));
  // Later writes fail too, and reads of what was acknowledged still work.
  EXPECT_FALSE(engine->Upsert(testing::BaseProfile("after-full")).ok());
  EXPECT_EQ(engine->size(), acked);
  EXPECT_TRUE(engine->GetProfile("full-0-0").ok());
}

}  // namespace
}  // namespace pamatch
