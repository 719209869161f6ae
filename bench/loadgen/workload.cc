#include "bench/loadgen/workload.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "demo/demo_data.h"

namespace pamatch::loadgen {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

absl::string_view PhaseWorkloadName(PhaseWorkload workload) {
  switch (workload) {
    case PhaseWorkload::kHealth:
      return "health";
    case PhaseWorkload::kSearch:
      return "search";
    case PhaseWorkload::kMixed:
      return "mixed";
  }
  return "?";
}

const std::vector<std::string>& OpNames() {
  static const std::vector<std::string>* names = [] {
    auto* names = new std::vector<std::string>;
    for (bench::QueryKind kind : bench::AllQueryKinds()) {
      names->emplace_back(bench::QueryKindName(kind));
    }
    names->insert(names->end(), {"upsert", "delete", "health"});
    return names;
  }();
  return *names;
}

int OpCount() { return static_cast<int>(OpNames().size()); }
int UpsertOp() { return OpCount() - 3; }
int DeleteOp() { return OpCount() - 2; }
int HealthOp() { return OpCount() - 1; }
bool IsSearchOp(int op) { return op >= 0 && op < UpsertOp(); }

absl::StatusOr<std::vector<double>> ParseQueryWeights(absl::string_view text) {
  const size_t kinds = bench::AllQueryKinds().size();
  if (text.empty()) return std::vector<double>(kinds, 1.0);
  std::vector<double> weights(kinds, 0.0);
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, '=');
    double weight = 1;
    if (parts.size() > 2 ||
        (parts.size() == 2 &&
         (!absl::SimpleAtod(parts[1], &weight) || weight < 0))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--mix: expected kind=weight, got \"", item, "\""));
    }
    auto kind = bench::ParseQueryKind(
        std::string_view(parts[0].data(), parts[0].size()));
    if (!kind.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--mix: unknown query kind \"", parts[0],
                       "\" (dense_city, broad, rural, narrow, short_notice)"));
    }
    weights[static_cast<size_t>(*kind)] = weight;
  }
  if (*std::max_element(weights.begin(), weights.end()) <= 0) {
    return absl::InvalidArgumentError("--mix: every weight is 0");
  }
  return weights;
}

Workload::Workload(WorkloadOptions options)
    : options_(std::move(options)),
      base_version_(absl::ToUnixMicros(absl::Now())) {
  double total = 0;
  for (double weight : options_.query_weights) {
    total += weight;
    cumulative_weights_.push_back(total);
  }
  for (double& weight : cumulative_weights_) weight /= total;
}

double Workload::NextUniform() {
  const uint64_t draw = draws_.fetch_add(1, std::memory_order_relaxed);
  return static_cast<double>(SplitMix64(options_.seed ^ SplitMix64(draw)) >>
                             11) *
         0x1.0p-53;
}

PlannedOp Workload::Next(PhaseWorkload workload) {
  PlannedOp planned;
  if (workload == PhaseWorkload::kHealth) {
    planned.op = HealthOp();
    return planned;
  }
  if (workload == PhaseWorkload::kMixed &&
      NextUniform() < options_.write_fraction) {
    const bool want_delete = NextUniform() < options_.delete_fraction;
    MutexLock lock(&mu_);
    // Half of the upserts update a live id, the rest create one, so a long
    // run both grows the data set and rewrites what it made.
    if (!live_.empty() && (want_delete || NextUniform() < 0.5)) {
      const size_t at = static_cast<size_t>(NextUniform() * live_.size());
      LiveId id = live_[at];
      live_[at] = live_.back();
      live_.pop_back();
      planned.op = want_delete ? DeleteOp() : UpsertOp();
      planned.index = id.index;
      planned.version = id.version + 1;
      return planned;
    }
    planned.op = UpsertOp();
    planned.index = next_index_++;
    planned.version = base_version_;
    return planned;
  }
  const double pick = NextUniform();
  planned.op =
      static_cast<int>(std::upper_bound(cumulative_weights_.begin(),
                                        cumulative_weights_.end() - 1, pick) -
                       cumulative_weights_.begin());
  planned.variant = variants_.fetch_add(1, std::memory_order_relaxed);
  return planned;
}

v1::SearchRequest Workload::SearchRequestFor(const PlannedOp& op) const {
  return bench::StandardQuery(bench::AllQueryKinds()[op.op], op.variant);
}

std::string Workload::IdOf(int64_t index) const {
  return absl::StrFormat("%s%06d", options_.id_prefix, index);
}

v1::UpsertProfileRequest Workload::UpsertRequestFor(const PlannedOp& op) const {
  v1::UpsertProfileRequest request;
  *request.mutable_profile() = demo::GenerateDemoProfile(
      options_.seed, op.index, options_.now, options_.id_prefix);
  request.mutable_profile()->set_version(op.version);
  return request;
}

void Workload::Finish(const PlannedOp& op, bool ok) {
  MutexLock lock(&mu_);
  if (op.op == DeleteOp()) {
    if (ok) {
      ++deletes_ok_;
      last_deleted_ = op.index;
    } else {
      live_.push_back({op.index, op.version - 1});
    }
    return;
  }
  if (ok) {
    ++upserts_ok_;
    live_.push_back({op.index, op.version});
  } else if (op.version != base_version_) {
    live_.push_back({op.index, op.version - 1});  // still stored as before
  }
}

Workload::WriteTally Workload::Tally() const {
  MutexLock lock(&mu_);
  WriteTally tally;
  tally.upserts_ok = upserts_ok_;
  tally.deletes_ok = deletes_ok_;
  tally.live_ids = static_cast<int64_t>(live_.size());
  if (!live_.empty()) tally.sample_live_id = IdOf(live_.front().index);
  if (last_deleted_ >= 0) tally.sample_deleted_id = IdOf(last_deleted_);
  return tally;
}

}  // namespace pamatch::loadgen
