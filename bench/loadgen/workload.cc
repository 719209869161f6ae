#include "bench/loadgen/workload.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/job_mix.h"
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
    case PhaseWorkload::kMatchJobs:
      return "match_jobs";
    case PhaseWorkload::kJobs:
      return "jobs";
    case PhaseWorkload::kWrites:
      return "writes";
    case PhaseWorkload::kWatch:
      return "watch";
  }
  return "?";
}

std::optional<PhaseWorkload> ParsePhaseWorkload(absl::string_view name) {
  for (PhaseWorkload workload :
       {PhaseWorkload::kHealth, PhaseWorkload::kSearch, PhaseWorkload::kMixed,
        PhaseWorkload::kMatchJobs, PhaseWorkload::kJobs,
        PhaseWorkload::kWrites, PhaseWorkload::kWatch}) {
    if (PhaseWorkloadName(workload) == name) return workload;
  }
  return std::nullopt;
}

bool SendsMatchJobs(PhaseWorkload workload) {
  return workload == PhaseWorkload::kMatchJobs ||
         workload == PhaseWorkload::kJobs;
}

const std::vector<std::string>& OpNames() {
  static const std::vector<std::string>* names = [] {
    auto* names = new std::vector<std::string>;
    for (bench::QueryKind kind : bench::AllQueryKinds()) {
      names->emplace_back(bench::QueryKindName(kind));
    }
    names->insert(names->end(), {"upsert", "delete", "health", "match_jobs",
                                 "job_upsert", "job_delete"});
    return names;
  }();
  return *names;
}

int OpCount() { return static_cast<int>(OpNames().size()); }
int UpsertOp() { return static_cast<int>(bench::AllQueryKinds().size()); }
int DeleteOp() { return UpsertOp() + 1; }
int HealthOp() { return UpsertOp() + 2; }
int MatchJobsOp() { return UpsertOp() + 3; }
int JobUpsertOp() { return UpsertOp() + 4; }
int JobDeleteOp() { return UpsertOp() + 5; }
bool IsSearchOp(int op) { return op >= 0 && op < UpsertOp(); }
bool IsProfileWriteOp(int op) { return op == UpsertOp() || op == DeleteOp(); }
bool IsJobWriteOp(int op) { return op == JobUpsertOp() || op == JobDeleteOp(); }

bool IsPrimaryOp(PhaseWorkload workload, int op) {
  switch (workload) {
    case PhaseWorkload::kHealth:
      return op == HealthOp();
    case PhaseWorkload::kSearch:
    case PhaseWorkload::kMixed:
      return IsSearchOp(op);
    case PhaseWorkload::kMatchJobs:
    case PhaseWorkload::kJobs:
      return op == MatchJobsOp();
    case PhaseWorkload::kWrites:
    case PhaseWorkload::kWatch:
      return IsProfileWriteOp(op);
  }
  return false;
}

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

absl::StatusOr<std::vector<std::string>> ParseAuthorities(
    absl::string_view text) {
  std::vector<std::string> codes;
  for (absl::string_view code : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    bool ok = code.size() == 9 && code[0] >= 'A' && code[0] <= 'Z';
    for (size_t i = 1; ok && i < code.size(); ++i) {
      ok = code[i] >= '0' && code[i] <= '9';
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--watch_authorities: \"", code,
          "\" is not a local authority code (a letter and 8 digits)"));
    }
    codes.emplace_back(code);
  }
  if (codes.empty()) {
    return absl::InvalidArgumentError("--watch_authorities: none given");
  }
  return codes;
}

const std::vector<std::string>& NorthEastAuthorities() {
  static const std::vector<std::string>* codes = new std::vector<std::string>{
      "E06000047", "E06000005", "E08000037", "E06000001",
      "E06000002", "E08000021", "E08000022", "E06000057",
      "E06000003", "E08000023", "E06000004", "E08000024"};
  return *codes;
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

PlannedOp Workload::NextWrite(IdPool& pool, int upsert_op, int delete_op) {
  const bool want_delete = NextUniform() < options_.delete_fraction;
  PlannedOp planned;
  // Half of the upserts update a live id, the rest create one, so a long
  // run both grows the data set and rewrites what it made.
  if (!pool.live.empty() && (want_delete || NextUniform() < 0.5)) {
    const size_t at = static_cast<size_t>(NextUniform() * pool.live.size());
    LiveId id = pool.live[at];
    pool.live[at] = pool.live.back();
    pool.live.pop_back();
    planned.op = want_delete ? delete_op : upsert_op;
    planned.index = id.index;
    planned.version = id.version + 1;
    return planned;
  }
  planned.op = upsert_op;
  planned.index = pool.next_index++;
  planned.version = base_version_;
  return planned;
}

PlannedOp Workload::Next(PhaseWorkload workload) {
  PlannedOp planned;
  switch (workload) {
    case PhaseWorkload::kHealth:
      planned.op = HealthOp();
      return planned;
    case PhaseWorkload::kWrites:
    case PhaseWorkload::kWatch: {
      MutexLock lock(&mu_);
      return NextWrite(profiles_, UpsertOp(), DeleteOp());
    }
    case PhaseWorkload::kMixed:
      if (NextUniform() < options_.write_fraction) {
        MutexLock lock(&mu_);
        return NextWrite(profiles_, UpsertOp(), DeleteOp());
      }
      break;
    case PhaseWorkload::kJobs:
      if (NextUniform() < options_.job_write_fraction) {
        MutexLock lock(&mu_);
        return NextWrite(jobs_, JobUpsertOp(), JobDeleteOp());
      }
      [[fallthrough]];
    case PhaseWorkload::kMatchJobs:
      planned.op = MatchJobsOp();
      planned.index = static_cast<int64_t>(
          NextUniform() * static_cast<double>(std::max<int64_t>(1, options_.pa_count)));
      return planned;
    case PhaseWorkload::kSearch:
      break;
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

v1::MatchJobsRequest Workload::MatchJobsRequestFor(const PlannedOp& op) const {
  v1::MatchJobsRequest request = bench::StandardMatchJobs(PaIdOf(op.index));
  request.clear_as_of();
  return request;
}

std::string Workload::PaIdOf(int64_t index) const {
  return absl::StrFormat("%s%06d", options_.pa_prefix, index);
}

v1::UpsertJobRequest Workload::JobUpsertRequestFor(const PlannedOp& op) const {
  v1::UpsertJobRequest request;
  *request.mutable_job() =
      bench::StandardJob(options_.job_scenario, options_.seed, op.index,
                         options_.now, options_.job_id_prefix);
  request.mutable_job()->set_version(op.version);
  return request;
}

std::string Workload::JobIdOf(int64_t index) const {
  return absl::StrFormat("%s%06d", options_.job_id_prefix, index);
}

void Workload::FinishWrite(IdPool& pool, const PlannedOp& op, bool is_delete,
                           bool ok, int64_t base_version) {
  if (is_delete) {
    if (ok) {
      ++pool.deletes_ok;
      pool.last_deleted = op.index;
    } else {
      pool.live.push_back({op.index, op.version - 1});
    }
    return;
  }
  if (ok) {
    ++pool.upserts_ok;
    pool.live.push_back({op.index, op.version});
  } else if (op.version != base_version) {
    pool.live.push_back({op.index, op.version - 1});  // still stored as before
  }
}

void Workload::Finish(const PlannedOp& op, bool ok) {
  MutexLock lock(&mu_);
  if (IsProfileWriteOp(op.op)) {
    FinishWrite(profiles_, op, op.op == DeleteOp(), ok, base_version_);
  } else if (IsJobWriteOp(op.op)) {
    FinishWrite(jobs_, op, op.op == JobDeleteOp(), ok, base_version_);
  }
}

Workload::WriteTally Workload::Tally() const {
  MutexLock lock(&mu_);
  WriteTally tally;
  tally.upserts_ok = profiles_.upserts_ok;
  tally.deletes_ok = profiles_.deletes_ok;
  tally.live_ids = static_cast<int64_t>(profiles_.live.size());
  if (!profiles_.live.empty()) {
    tally.sample_live_id = IdOf(profiles_.live.front().index);
  }
  if (profiles_.last_deleted >= 0) {
    tally.sample_deleted_id = IdOf(profiles_.last_deleted);
  }
  tally.job_upserts_ok = jobs_.upserts_ok;
  tally.job_deletes_ok = jobs_.deletes_ok;
  tally.live_job_ids = static_cast<int64_t>(jobs_.live.size());
  return tally;
}

}  // namespace pamatch::loadgen
