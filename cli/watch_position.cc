// Implementation of the watch request and position file (see
// watch_position.h).
#include "cli/watch_position.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/config.h"

namespace pamatch::cli {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes all of `data` to `fd`.
bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

const std::vector<FlagSpec>& WatchFlagSpecs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"job_id", true, "ID", "follow one job"},
      {"profile_id", true, "ID", "follow one PA"},
      {"local_authorities", true, "A,B",
       "follow every job whose request names one of these ONS codes"},
      {"after_sequence", true, "N",
       "send every event after N (default: the position file's, else "
       "start with the next event)"},
      {"position_file", true, "FILE",
       "resume from the sequence saved here, and save each one seen"},
      {"heartbeats", false, "", "print heartbeats too"},
      {"max_events", true, "N", "exit 0 after N events (default: never)"},
  };
  return *specs;
}

absl::StatusOr<std::optional<int64_t>> ReadWatchPosition(
    const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<int64_t>();
  std::optional<std::string> data = ReadWholeFile(path);
  if (!data.has_value()) {
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  }
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*data), &sequence) ||
      sequence < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--position_file: ", path,
        " does not hold a sequence number; delete it to start from now"));
  }
  return std::optional<int64_t>(sequence);
}

absl::Status SaveWatchPosition(const std::string& path, int64_t sequence) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Errno("cannot create", temporary);
  const bool written = WriteAll(fd, absl::StrCat(sequence, "\n")) &&
                       ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    errno = saved_errno;
    return Errno("cannot write", temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return Errno("cannot rename to", path);
  }
  // The rename itself survives a crash once the directory is synced.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const int dir_fd = ::open(parent.empty() ? "." : parent.c_str(),
                            O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return absl::OkStatus();
}

absl::StatusOr<pamatch::v1::WatchRequest> BuildWatchRequest(
    const ParsedFlags& flags, std::optional<int64_t> saved) {
  pamatch::v1::WatchRequest request;
  const int targets = static_cast<int>(flags.Has("job_id")) +
                      static_cast<int>(flags.Has("profile_id")) +
                      static_cast<int>(flags.Has("local_authorities"));
  if (targets != 1) {
    return absl::InvalidArgumentError(
        "watch needs exactly one of --job_id, --profile_id and "
        "--local_authorities");
  }
  if (flags.Has("job_id")) {
    request.set_job_id(flags.Get("job_id"));
  } else if (flags.Has("profile_id")) {
    request.set_profile_id(flags.Get("profile_id"));
  } else {
    const std::vector<std::string> codes =
        flags.GetList("local_authorities").value_or(std::vector<std::string>());
    if (codes.empty()) {
      return absl::InvalidArgumentError(
          "--local_authorities: give at least one ONS code");
    }
    for (const std::string& code : codes) {
      request.mutable_local_authorities()->add_codes(code);
    }
  }
  auto after = flags.GetInt("after_sequence");
  if (!after.ok()) return after.status();
  if (after->has_value()) {
    if (**after < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--after_sequence: must be >= 0, got ", **after));
    }
    request.set_after_sequence(**after);
  } else if (saved.has_value()) {
    request.set_after_sequence(*saved);
  }
  return request;
}

}  // namespace pamatch::cli
