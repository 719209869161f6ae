// Helpers shared by the fuzz harnesses (fuzz/*_fuzzer.cc; docs/SECURITY.md
// "Fuzzing"): reading an input as a protobuf message, the fixed clock, one
// real engine on a temporary store per process, and the check that stops a
// run.
//
// A harness runs on libFuzzer's one thread (or the replay main's); nothing
// here is meant for other threads.
#ifndef PA_MATCH_FUZZ_FUZZ_UTIL_H_
#define PA_MATCH_FUZZ_FUZZ_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/message.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/text_format.h"

// Fails the run (libFuzzer saves the input as crash-*) when `condition`
// does not hold: a harness's property of the code under test.
#define PA_FUZZ_CHECK(condition, ...)                                 \
  do {                                                                \
    if (!(condition)) {                                               \
      std::fprintf(stderr, "fuzz check failed: %s: %s\n", #condition, \
                   absl::StrCat(__VA_ARGS__).c_str());                \
      std::abort();                                                   \
    }                                                                 \
  } while (0)

namespace pamatch::fuzz {

inline absl::string_view Bytes(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// Silences protobuf's own log lines (invalid UTF-8 in a string field, ...):
// the harness checks the result, and a line per input would slow the run.
inline void QuietProtobufLogs() {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
}

// Reads the input as `message`: its protobuf wire format, else its text
// format (what the checked-in seeds are written in, so they stay readable).
// False when it is neither.
inline bool ParseInput(const uint8_t* data, size_t size,
                       google::protobuf::Message* message) {
  QuietProtobufLogs();
  if (message->ParseFromArray(data, static_cast<int>(size))) return true;
  message->Clear();
  class Silent : public google::protobuf::io::ErrorCollector {
   public:
    void AddError(int, int, const std::string&) override {}
  } silent;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&silent);
  return parser.ParseFromString(std::string(Bytes(data, size)), message);
}

// The harnesses' clock: a search without as_of is judged on 2026-06-01.
inline absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2026, 6, 1, 12, 0, 0),
                         absl::UTCTimeZone());
}

inline std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(PA_MATCH_SOURCE_DIR, "/", relative);
}

// A real engine (RocksDB in a fresh directory under /tmp, the default
// taxonomy, no fsync, no background passes) holding the first
// `demo_profiles` demo profiles, opened on the first call and reused by
// every later input, so that an execution costs one operation, not an
// Open. The directory is removed at a normal exit.
Engine& SharedEngine(int demo_profiles);

}  // namespace pamatch::fuzz

#endif  // PA_MATCH_FUZZ_FUZZ_UTIL_H_
