// The API key store (service/api_keys.h): file format, hashing, scope
// checks, first-start bootstrap and keygen.
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/api_keys.h"
#include "tests/engine_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

constexpr uint32_t kSearch = static_cast<uint32_t>(Scope::kSearch);
constexpr uint32_t kWrite = static_cast<uint32_t>(Scope::kWrite);
constexpr uint32_t kAdmin = static_cast<uint32_t>(Scope::kAdmin);

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

int Mode(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int>(info.st_mode & 0777);
}

std::string Bearer(const std::string& key) { return "Bearer " + key; }

TEST(ServiceApiKeysTest, HashIsLowercaseHexSha256) {
  EXPECT_EQ(HashApiKey("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ServiceApiKeysTest, GeneratedKeysArePrefixedRandomHex) {
  const std::string a = *GenerateApiKey(), b = *GenerateApiKey();
  EXPECT_EQ(a.size(), 4u + 64u);
  EXPECT_EQ(a.substr(0, 4), "pam_");
  EXPECT_NE(a, b);
}

TEST(ServiceApiKeysTest, ScopesParseAndFormat) {
  EXPECT_EQ(*ParseScopes("search,write"), kSearch | kWrite);
  EXPECT_EQ(*ParseScopes(" admin "), kAdmin);
  EXPECT_FALSE(ParseScopes("").ok());
  EXPECT_FALSE(ParseScopes("search,").ok());
  EXPECT_FALSE(ParseScopes("read").ok());
  EXPECT_EQ(FormatScopes(kAdmin | kSearch), "search,admin");
  const uint32_t metrics = static_cast<uint32_t>(Scope::kMetrics);
  EXPECT_EQ(*ParseScopes("metrics"), metrics);
  EXPECT_EQ(FormatScopes(*ParseScopes("admin,metrics,write,search")),
            "search,write,metrics,admin");
  EXPECT_THAT(ParseScopes("read").status().message(),
              ::testing::HasSubstr("metrics"));
}

TEST(ServiceApiKeysTest, AuthorizeChecksKeyAndScope) {
  const std::string reader = *GenerateApiKey(), boss = *GenerateApiKey();
  auto store = ApiKeyStore::FromText(
      "# comment\n\n" + FormatKeyLine("reader", kSearch, HashApiKey(reader)) +
          "\r\n" + FormatKeyLine("boss", kAdmin, HashApiKey(boss)) + "\n",
      "keys");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->size(), 2u);

  EXPECT_EQ((*store)->Authorize(Bearer(reader), Scope::kSearch)->name(), "reader");
  EXPECT_EQ((*store)->Authorize("bearer  " + reader + " ", Scope::kSearch)->name(),
            "reader");
  absl::StatusOr<KeyGrant> denied =
      (*store)->Authorize(Bearer(reader), Scope::kWrite);
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status()));
  EXPECT_THAT(denied.status().message(), HasSubstr("\"write\""));
  for (Scope scope : {Scope::kSearch, Scope::kWrite, Scope::kAdmin}) {
    EXPECT_TRUE((*store)->Authorize(Bearer(boss), scope).ok());
  }
  for (const std::string& bad :
       {Bearer(*GenerateApiKey()), std::string("Bearer"), reader,
        "Token " + reader, Bearer(reader.substr(1))}) {
    absl::StatusOr<KeyGrant> result =
        (*store)->Authorize(bad, Scope::kSearch);
    EXPECT_TRUE(absl::IsUnauthenticated(result.status())) << bad;
    EXPECT_EQ(result.status().message(), "missing or invalid API key");
  }
  EXPECT_TRUE(absl::IsUnauthenticated(
      (*store)->Authorize(std::nullopt, Scope::kSearch).status()));
}

TEST(ServiceApiKeysTest, MalformedFilesAreRefused) {
  const std::string hash = HashApiKey("k");
  struct Case {
    std::string text, message;
  } cases[] = {
      {"", "no API key"},
      {"# only a comment\n", "no API key"},
      {"a search " + hash + "\n", "line 1"},
      {"a\tsearch\n", "line 1"},
      {"#\na\tread\t" + hash + "\n", "line 2: unknown scope"},
      {"a\tsearch\t" + hash.substr(1) + "\n", "64 hex"},
      {"bad name\tsearch\t" + hash + "\n", "name"},
      {"a\tsearch\t" + hash + "\na\twrite\t" + HashApiKey("j") + "\n",
       "duplicate key name"},
      {"a\tsearch\t" + hash + "\nb\twrite\t" + hash + "\n",
       "duplicate key hash"},
  };
  for (const Case& c : cases) {
    auto store = ApiKeyStore::FromText(c.text, "keys");
    EXPECT_FALSE(store.ok()) << c.text;
    EXPECT_THAT(store.status().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST(ServiceApiKeysTest, FirstStartCreatesAdminKeyOnce) {
  TempDir dir;
  const std::string keys_path = dir.path() + "/api_keys.txt";
  const std::string admin_path = dir.path() + "/admin.key";
  auto created = CreateKeysFileIfMissing(keys_path, admin_path);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(created->has_value());
  const std::string key = **created;
  EXPECT_EQ(Mode(keys_path), 0600);
  EXPECT_EQ(Mode(admin_path), 0600);
  EXPECT_EQ(ReadAll(admin_path), key + "\n");
  EXPECT_THAT(ReadAll(keys_path),
              HasSubstr("admin\tadmin\t" + HashApiKey(key) + "\n"));
  EXPECT_THAT(ReadAll(keys_path), ::testing::Not(HasSubstr(key)));

  auto store = ApiKeyStore::Open(keys_path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Authorize(Bearer(key), Scope::kWrite)->name(), "admin");

  const std::string before = ReadAll(keys_path);
  auto again = CreateKeysFileIfMissing(keys_path, admin_path);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  EXPECT_EQ(ReadAll(keys_path), before);
  EXPECT_EQ(ReadAll(admin_path), key + "\n");
}

TEST(ServiceApiKeysTest, AppendedKeyWorksAfterReload) {
  TempDir dir;
  const std::string keys_path = dir.path() + "/api_keys.txt";
  ASSERT_TRUE(
      CreateKeysFileIfMissing(keys_path, dir.path() + "/admin.key").ok());
  auto store = ApiKeyStore::Open(keys_path);
  ASSERT_TRUE(store.ok());

  absl::StatusOr<std::string> key =
      AppendApiKey(keys_path, "portal", kSearch | kWrite);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(absl::IsUnauthenticated(
      (*store)->Authorize(Bearer(*key), Scope::kSearch).status()));
  ASSERT_TRUE((*store)->Reload().ok());
  EXPECT_EQ((*store)->size(), 2u);
  EXPECT_EQ((*store)->Authorize(Bearer(*key), Scope::kWrite)->name(), "portal");
  EXPECT_TRUE(absl::IsPermissionDenied(
      (*store)->Authorize(Bearer(*key), Scope::kAdmin).status()));

  EXPECT_TRUE(absl::IsAlreadyExists(
      AppendApiKey(keys_path, "portal", kSearch).status()));
  EXPECT_FALSE(AppendApiKey(keys_path, "no spaces", kSearch).ok());

  // A broken file on reload leaves the loaded keys in place.
  std::ofstream(keys_path, std::ios::app) << "garbage\n";
  EXPECT_FALSE((*store)->Reload().ok());
  EXPECT_EQ((*store)->Authorize(Bearer(*key), Scope::kSearch)->name(), "portal");
}

TEST(ServiceApiKeysTest, AppendCreatesAMissingFile) {
  TempDir dir;
  const std::string keys_path = dir.path() + "/keys.txt";
  absl::StatusOr<std::string> key = AppendApiKey(keys_path, "ci", kSearch);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(Mode(keys_path), 0600);
  auto store = ApiKeyStore::Open(keys_path);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Authorize(Bearer(*key), Scope::kSearch)->name(), "ci");
}

}  // namespace
}  // namespace pamatch
