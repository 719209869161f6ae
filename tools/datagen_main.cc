// pa-match-datagen: writes deterministic demo PA profiles as JSON Lines, one
// pamatch.v1.Profile per line (proto field names), or streams them straight
// into a pa-match server, for loading and benchmarking. See
// docs/DEMO-DATA.md.
//
//   pa-match-datagen --count 1000000 --seed 42 --now 2025-06-01 --out pas.jsonl
//   pa-match-datagen --scenario national --count 1000000 --now 2025-06-01
//       --server 127.0.0.1:50051 --api_key_file data/admin.key
//       [--tls_ca ca.pem [--tls_cert client.pem --tls_key client.key]]
//
// The profiles are a pure function of (--scenario, --count, --seed, --now,
// --id_prefix): the same flags give byte-identical files, whatever --threads
// is.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/program_help.h"
#include "demo/demo_data.h"
#include "google/protobuf/util/json_util.h"
#include "common/tls_channel.h"
#include "tools/datagen_upload.h"

ABSL_FLAG(int64_t, count, 2000, "number of profiles to write (>= 0)");
ABSL_FLAG(uint64_t, seed, 42, "data set seed; same seed, same profiles");
ABSL_FLAG(std::string, scenario, "north_east",
          "where the PAs live: north_east (taxonomy/north_east.json) or "
          "national (Great Britain, taxonomy/great_britain.json)");
ABSL_FLAG(std::string, now, "",
          "reference date YYYY-MM-DD (00:00 UTC) for expiries, DBS dates and "
          "last_active; default: today (UTC)");
ABSL_FLAG(std::string, out, "", "output file; empty or '-' = stdout");
ABSL_FLAG(std::string, id_prefix, "pa-",
          "profile id prefix, characters [A-Za-z0-9_.:-]");
ABSL_FLAG(int, threads, 0,
          "worker threads (0 = hardware concurrency, at most 16); does not "
          "change the output");
ABSL_FLAG(std::string, server, "",
          "host:port of a pa-match server: stream the profiles into it with "
          "BulkUpsertProfiles instead of writing JSON Lines");
ABSL_FLAG(std::string, api_key, "",
          "API key (write scope) for --server; default: --api_key_file, "
          "else $PA_MATCH_KEY");
ABSL_FLAG(std::string, api_key_file, "",
          "file holding the API key for --server, e.g. data/admin.key");
ABSL_FLAG(std::string, tls_ca, "", pamatch::kTlsCaHelp);
ABSL_FLAG(std::string, tls_cert, "", pamatch::kTlsCertHelp);
ABSL_FLAG(std::string, tls_key, "", pamatch::kTlsKeyHelp);
ABSL_FLAG(std::string, tls_server_name, "", pamatch::kTlsServerNameHelp);
ABSL_FLAG(int64_t, stream_timeout_ms, 300000,
          "deadline of each BulkUpsertProfiles stream (one chunk of 10,000 "
          "profiles)");

namespace {

constexpr int64_t kChunk = 10000;      // profiles per worker task / stream
constexpr int64_t kProgress = 100000;  // progress line interval

using Clock = std::chrono::steady_clock;

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

// What every profile is a function of, besides its index.
struct DataSet {
  pamatch::demo::DemoScenario scenario;
  uint64_t seed;
  absl::Time now;
  std::string prefix;

  pamatch::v1::Profile Profile(int64_t i) const {
    return pamatch::demo::GenerateScenarioProfile(scenario, seed, i, now,
                                                  prefix);
  }
};

// Generates profiles 0..count-1 in chunks of kChunk: up to `threads` chunks
// are rendered in parallel into their own buffers by `render(begin, end,
// buffer)`, then handed to `consume(begin, end, buffer)` in index order, so
// memory stays bounded and the result does not depend on the thread count.
// Stops early when render or consume returns false; returns false then.
template <typename Buffer>
bool ForEachChunk(
    int64_t count, int threads,
    const std::function<bool(int64_t, int64_t, Buffer&)>& render,
    const std::function<bool(int64_t, int64_t, Buffer&)>& consume) {
  int64_t done = 0;
  while (done < count) {
    std::vector<Buffer> buffers(threads);
    std::vector<std::thread> workers;
    std::atomic<bool> render_ok{true};
    for (int t = 0; t < threads; ++t) {
      const int64_t begin = done + t * kChunk;
      const int64_t end = std::min(count, begin + kChunk);
      if (begin >= end) break;
      workers.emplace_back([&, t, begin, end] {
        if (!render(begin, end, buffers[t])) render_ok = false;
      });
    }
    for (std::thread& w : workers) w.join();
    if (!render_ok) return false;
    for (size_t t = 0; t < workers.size(); ++t) {
      const int64_t begin = done;
      done = std::min(count, done + kChunk);
      if (!consume(begin, done, buffers[t])) return false;
    }
  }
  return true;
}

// Prints a progress line when `done` crosses a multiple of kProgress.
void Progress(int64_t before, int64_t done, int64_t count, const char* verb,
              Clock::time_point start) {
  if (done / kProgress == before / kProgress &&
      !(done == count && count >= kProgress)) {
    return;
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::fprintf(stderr, "pa-match-datagen: %lld/%lld profiles %s (%.0f/s)\n",
               static_cast<long long>(done), static_cast<long long>(count),
               verb, s > 0 ? static_cast<double>(done) / s : 0.0);
}

// Writes JSON Lines to `out_path` (empty or "-": stdout). Exit status.
int WriteJsonLines(const DataSet& data, int64_t count, int threads,
                   const std::string& out_path) {
  const bool to_stdout = out_path.empty() || out_path == "-";
  std::FILE* out = to_stdout ? stdout : std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    return Fail(1, "cannot open " + out_path + ": " + std::strerror(errno));
  }
  const Clock::time_point start = Clock::now();
  bool json_error = false;
  bool io_error = false;
  std::function<bool(int64_t, int64_t, std::string&)> render =
      [&data](int64_t begin, int64_t end, std::string& buf) {
        google::protobuf::util::JsonPrintOptions opts;
        opts.preserve_proto_field_names = true;
        std::string line;
        for (int64_t i = begin; i < end; ++i) {
          line.clear();
          if (!google::protobuf::util::MessageToJsonString(data.Profile(i),
                                                           &line, opts)
                   .ok()) {
            return false;  // a bug: every generated profile is valid
          }
          buf += line;
          buf += '\n';
        }
        return true;
      };
  std::function<bool(int64_t, int64_t, std::string&)> consume =
      [&](int64_t begin, int64_t end, std::string& buf) {
        io_error = std::fwrite(buf.data(), 1, buf.size(), out) != buf.size();
        Progress(begin, end, count, "written", start);
        return !io_error;
      };
  json_error = !ForEachChunk(count, threads, render, consume) && !io_error;
  if (json_error) return Fail(1, "JSON conversion failed");
  io_error = std::fflush(out) != 0 || std::ferror(out) != 0 || io_error;
  if (!to_stdout) io_error = std::fclose(out) != 0 || io_error;
  if (io_error) {
    return Fail(1, "write to " +
                       (to_stdout ? std::string("stdout") : out_path) +
                       " failed: " + std::strerror(errno));
  }
  return 0;
}

// The API key: --api_key, else the first line of --api_key_file, else
// $PA_MATCH_KEY, else none. nullopt if the key file cannot be read.
std::optional<std::string> ResolveApiKey() {
  std::string key = absl::GetFlag(FLAGS_api_key);
  const std::string file = absl::GetFlag(FLAGS_api_key_file);
  if (key.empty() && !file.empty()) {
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) return std::nullopt;
    char buf[512];
    const size_t n = std::fread(buf, 1, sizeof(buf), f);
    std::fclose(f);
    key.assign(buf, n);
    key = key.substr(0, key.find('\n'));
  } else if (key.empty() && std::getenv("PA_MATCH_KEY") != nullptr) {
    key = std::getenv("PA_MATCH_KEY");
  }
  return std::string(absl::StripAsciiWhitespace(key));
}

// Streams the profiles into `server`, one BulkUpsertProfiles stream per
// chunk. Exit status: 0 all accepted, 1 any rejected or a stream failed.
int Upload(const DataSet& data, int64_t count, int threads,
           const std::string& server, std::shared_ptr<grpc::Channel> channel,
           const std::string& key) {
  pamatch::tools::ProfileUploader uploader(
      std::move(channel), key, absl::GetFlag(FLAGS_stream_timeout_ms));
  const Clock::time_point start = Clock::now();
  grpc::Status failure;
  using Batch = std::vector<pamatch::v1::Profile>;
  std::function<bool(int64_t, int64_t, Batch&)> render =
      [&data](int64_t begin, int64_t end, Batch& batch) {
        batch.reserve(static_cast<size_t>(end - begin));
        for (int64_t i = begin; i < end; ++i) batch.push_back(data.Profile(i));
        return true;
      };
  std::function<bool(int64_t, int64_t, Batch&)> consume =
      [&](int64_t begin, int64_t end, Batch& batch) {
        failure = uploader.SendChunk(batch);
        Progress(begin, end, count, "sent", start);
        return failure.ok();
      };
  ForEachChunk(count, threads, render, consume);
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "%lld profiles to %s: %lld accepted, %lld rejected, %lld unconfirmed "
      "in %.1f s (%.0f/s)\n",
      static_cast<long long>(count), server.c_str(),
      static_cast<long long>(uploader.accepted()),
      static_cast<long long>(uploader.rejected()),
      static_cast<long long>(uploader.unconfirmed()), s,
      s > 0 ? static_cast<double>(uploader.accepted()) / s : 0.0);
  for (const std::string& r : uploader.first_rejections()) {
    std::printf("rejected %s\n", r.c_str());
  }
  if (!failure.ok()) {
    return Fail(1, absl::StrFormat("stream failed: code %d: %s",
                                   static_cast<int>(failure.error_code()),
                                   failure.error_message()));
  }
  return uploader.rejected() > 0 ? 1 : 0;
}

}  // namespace

// Parses and checks the flags, then writes or uploads. Exit: 0 ok, 1 I/O
// error or rejected profiles, 2 usage.
int main(int argc, char** argv) {
  pamatch::SetUpProgramHelp(
      "Writes deterministic demo PA profiles (North East England or Great "
      "Britain) as JSON Lines, or streams them into a server.\nUsage: "
      "pa-match-datagen [--scenario north_east|national] [--count N] "
      "[--seed S] [--now YYYY-MM-DD] [--out FILE | --server HOST:PORT "
      "--api_key_file F]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    return Fail(2, std::string("unexpected argument: ") + args[1]);
  }

  const int64_t count = absl::GetFlag(FLAGS_count);
  if (count < 0) return Fail(2, "--count must be >= 0");
  DataSet data;
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  if (!pamatch::demo::ParseDemoScenario(scenario, &data.scenario)) {
    return Fail(2, "--scenario must be north_east or national, got \"" +
                       scenario + "\"");
  }
  data.seed = absl::GetFlag(FLAGS_seed);
  data.prefix = absl::GetFlag(FLAGS_id_prefix);
  const int digits = static_cast<int>(std::max<size_t>(
      6, std::to_string(std::max<int64_t>(count - 1, 0)).size()));
  if (!ValidPrefix(data.prefix) || data.prefix.size() + digits > 64) {
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
  data.now = absl::FromCivil(day, absl::UTCTimeZone());
  int threads = absl::GetFlag(FLAGS_threads);
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
  }
  threads = std::clamp(threads, 1, 16);

  const std::string server = absl::GetFlag(FLAGS_server);
  if (server.empty()) {
    return WriteJsonLines(data, count, threads, absl::GetFlag(FLAGS_out));
  }
  if (!absl::GetFlag(FLAGS_out).empty()) {
    return Fail(2, "--out and --server are exclusive");
  }
  if (absl::GetFlag(FLAGS_stream_timeout_ms) <= 0) {
    return Fail(2, "--stream_timeout_ms must be > 0");
  }
  const std::optional<std::string> key = ResolveApiKey();
  if (!key.has_value()) {
    return Fail(
        2, "cannot read --api_key_file " + absl::GetFlag(FLAGS_api_key_file));
  }
  pamatch::ClientTlsOptions tls;
  tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  tls.key_file = absl::GetFlag(FLAGS_tls_key);
  tls.server_name = absl::GetFlag(FLAGS_tls_server_name);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      pamatch::CreateClientChannel(server, tls);
  if (!channel.ok()) return Fail(2, std::string(channel.status().message()));
  return Upload(data, count, threads, server, *std::move(channel), *key);
}
