// pa-match-datagen: writes deterministic demo PA profiles as JSON Lines, one
// pamatch.v1.Profile per line (proto field names), for loading and
// benchmarking a pa-match server. See docs/DEMO-DATA.md.
//
//   pa-match-datagen --count 1000000 --seed 42 --now 2025-06-01 --out pas.jsonl
//
// The output is a pure function of (--count, --seed, --now, --id_prefix):
// the same flags give byte-identical files, whatever --threads is.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/demo_data.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(int64_t, count, 2000, "number of profiles to write (>= 0)");
ABSL_FLAG(uint64_t, seed, 42, "data set seed; same seed, same profiles");
ABSL_FLAG(std::string, now, "",
          "reference date YYYY-MM-DD (00:00 UTC) for expiries, DBS dates and "
          "last_active; default: today (UTC)");
ABSL_FLAG(std::string, out, "", "output file; empty or '-' = stdout");
ABSL_FLAG(std::string, id_prefix, "pa-",
          "profile id prefix, characters [A-Za-z0-9_.:-]");
ABSL_FLAG(int, threads, 0,
          "worker threads (0 = hardware concurrency, at most 16); does not "
          "change the output");

namespace {

constexpr int64_t kChunk = 10000;      // profiles per worker task
constexpr int64_t kProgress = 100000;  // progress line interval

// Prints "pa-match-datagen: <message>" to stderr and returns `code`.
int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "pa-match-datagen: %s\n", message.c_str());
  return code;
}

// True if every character of `prefix` may appear in a profile id.
bool ValidPrefix(const std::string& prefix) {
  return std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
           c == '-';
  });
}

// Appends profiles [begin, end) as JSON lines to `out`; false on a JSON
// conversion error (which would be a bug).
bool RenderChunk(uint64_t seed, int64_t begin, int64_t end, absl::Time now,
                 const std::string& prefix, std::string& out) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string line;
  for (int64_t i = begin; i < end; ++i) {
    const pamatch::v1::Profile p =
        pamatch::GenerateDemoProfile(seed, i, now, prefix);
    line.clear();
    if (!google::protobuf::util::MessageToJsonString(p, &line, opts).ok()) {
      return false;
    }
    out += line;
    out += '\n';
  }
  return true;
}

}  // namespace

// Parses and checks the flags, then renders chunks of profiles on worker
// threads and writes them in index order. Exit: 0 ok, 1 I/O error, 2 usage.
int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes deterministic demo PA profiles (North East England) as JSON "
      "Lines.\nUsage: pa-match-datagen [--count N] [--seed S] "
      "[--now YYYY-MM-DD] [--out FILE]");
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "datagen_main.cc");
  };
  absl::SetFlagsUsageConfig(usage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    return Fail(2, std::string("unexpected argument: ") + args[1]);
  }

  const int64_t count = absl::GetFlag(FLAGS_count);
  if (count < 0) return Fail(2, "--count must be >= 0");
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const std::string prefix = absl::GetFlag(FLAGS_id_prefix);
  const int digits = static_cast<int>(std::max<size_t>(
      6, std::to_string(std::max<int64_t>(count - 1, 0)).size()));
  if (!ValidPrefix(prefix) || prefix.size() + digits > 64) {
    return Fail(2,
                "--id_prefix must be [A-Za-z0-9_.:-] and leave ids <= 64 "
                "characters");
  }
  absl::CivilDay day = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const std::string now_flag = absl::GetFlag(FLAGS_now);
  if (!now_flag.empty() && (!absl::ParseCivilTime(now_flag, &day) ||
                            absl::FormatCivilTime(day) != now_flag)) {
    return Fail(
        2, "--now must be a valid date YYYY-MM-DD, got \"" + now_flag + "\"");
  }
  const absl::Time now = absl::FromCivil(day, absl::UTCTimeZone());
  int threads = absl::GetFlag(FLAGS_threads);
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
  }
  threads = std::clamp(threads, 1, 16);

  const std::string out_path = absl::GetFlag(FLAGS_out);
  const bool to_stdout = out_path.empty() || out_path == "-";
  std::FILE* out = to_stdout ? stdout : std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    return Fail(1, "cannot open " + out_path + ": " + std::strerror(errno));
  }

  std::atomic<bool> json_error{false};
  int64_t written = 0;
  bool io_error = false;
  while (written < count && !io_error) {
    // One batch: up to `threads` chunks rendered in parallel, then written
    // in order, so memory stays bounded and the output does not depend on
    // the thread count.
    std::vector<std::string> bufs(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      const int64_t begin = written + t * kChunk;
      const int64_t end = std::min(count, begin + kChunk);
      if (begin >= end) break;
      workers.emplace_back([&, t, begin, end] {
        if (!RenderChunk(seed, begin, end, now, prefix, bufs[t])) {
          json_error = true;
        }
      });
    }
    for (std::thread& w : workers) w.join();
    if (json_error) return Fail(1, "JSON conversion failed");
    for (size_t t = 0; t < workers.size() && !io_error; ++t) {
      io_error =
          std::fwrite(bufs[t].data(), 1, bufs[t].size(), out) != bufs[t].size();
      const int64_t before = written;
      written = std::min(count, written + kChunk);
      if (written / kProgress != before / kProgress ||
          (written == count && count >= kProgress)) {
        std::fprintf(stderr, "pa-match-datagen: %lld/%lld profiles\n",
                     static_cast<long long>(written),
                     static_cast<long long>(count));
      }
    }
  }
  io_error = std::fflush(out) != 0 || std::ferror(out) != 0 || io_error;
  if (!to_stdout) io_error = std::fclose(out) != 0 || io_error;
  if (io_error) {
    return Fail(1, "write to " +
                       (to_stdout ? std::string("stdout") : out_path) +
                       " failed: " + std::strerror(errno));
  }
  return 0;
}
