#include "bench/loadgen/recorder.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace pamatch::loadgen {

int64_t OpStats::failed() const {
  int64_t total = 0;
  for (const auto& [code, count] : errors) total += count;
  return total;
}

void OpStats::Merge(const OpStats& other) {
  latency.Merge(other.latency);
  for (const auto& [code, count] : other.errors) errors[code] += count;
  for (const auto& [code, message] : other.error_examples) {
    error_examples.emplace(code, message);  // keeps ours if present
  }
}

std::string StatusCodeName(int code) {
  // gRPC's status codes and absl::StatusCode share numbers and names.
  if (code < 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::StrCat("CODE_", code);
  }
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

PhaseRecorder::PhaseRecorder(int op_count) : ops_(op_count) {}

void PhaseRecorder::Record(int op, uint64_t latency_ns, int code,
                           const std::string& message, bool measured) {
  MutexLock lock(&mu_);
  ++second_calls_;
  if (code == 0) {
    second_.Record(latency_ns);
  } else {
    ++second_errors_;
  }
  if (!measured) return;
  OpStats& stats = ops_[op];
  if (code == 0) {
    stats.latency.Record(latency_ns);
    return;
  }
  const std::string name = StatusCodeName(code);
  ++stats.errors[name];
  stats.error_examples.emplace(name, message);
}

SecondSample PhaseRecorder::TakeSecond(double end_s, bool warmup) {
  MutexLock lock(&mu_);
  SecondSample sample;
  sample.start_s = series_.empty() ? 0 : series_.back().end_s;
  sample.end_s = end_s;
  sample.warmup = warmup;
  sample.calls = second_calls_;
  sample.errors = second_errors_;
  sample.p50_ns = second_.ValueAtQuantile(0.50);
  sample.p90_ns = second_.ValueAtQuantile(0.90);
  sample.p99_ns = second_.ValueAtQuantile(0.99);
  sample.max_ns = second_.max_ns();
  second_.Clear();
  second_calls_ = 0;
  second_errors_ = 0;
  series_.push_back(sample);
  return sample;
}

int64_t PhaseRecorder::calls_since_last_sample() const {
  MutexLock lock(&mu_);
  return second_calls_;
}

std::vector<OpStats> PhaseRecorder::ops() const {
  MutexLock lock(&mu_);
  return ops_;
}

std::vector<SecondSample> PhaseRecorder::series() const {
  MutexLock lock(&mu_);
  return series_;
}

}  // namespace pamatch::loadgen
