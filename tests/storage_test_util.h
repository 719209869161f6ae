// Helpers for the storage tests: searching a directory's files for bytes,
// collecting every page of a search, and a small tmpfs mount.
#ifndef PA_MATCH_TESTS_STORAGE_TEST_UTIL_H_
#define PA_MATCH_TESTS_STORAGE_TEST_UTIL_H_

#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pamatch/v1/matcher.pb.h"

namespace pamatch::testing {

inline std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Paths of the regular files under `dir` (recursively) that contain `bytes`.
inline std::vector<std::string> FilesContaining(const std::string& dir,
                                                const std::string& bytes) {
  std::vector<std::string> found;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (FileBytes(entry.path().string()).find(bytes) != std::string::npos) {
      found.push_back(entry.path().filename().string());
    }
  }
  return found;
}

// Every page of a search, as the serialized results in order, using
// `search` (an engine or an RPC). Empty with *error set on failure.
inline std::vector<std::string> AllPages(
    v1::SearchRequest request,
    const std::function<absl::StatusOr<v1::SearchResponse>(
        const v1::SearchRequest&)>& search,
    std::string* error = nullptr) {
  std::vector<std::string> results;
  for (int page = 0; page < 10000; ++page) {
    absl::StatusOr<v1::SearchResponse> response = search(request);
    if (!response.ok()) {
      if (error != nullptr) *error = response.status().ToString();
      return {};
    }
    for (const v1::SearchResult& result : response->results()) {
      results.push_back(result.SerializeAsString());
    }
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  return results;
}

// A tmpfs of `size` mounted on a fresh directory (root only); unmounted on
// destruction. mounted() is false where mounting is not permitted.
class ScopedTmpfs {
 public:
  ScopedTmpfs(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    const std::string data = "size=" + size;
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, data.c_str()) == 0;
  }
  ~ScopedTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool RemountReadOnly() {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY,
                   nullptr) == 0;
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

}  // namespace pamatch::testing

#endif  // PA_MATCH_TESTS_STORAGE_TEST_UTIL_H_
