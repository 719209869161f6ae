#include "bench/loadgen/driver.h"

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.grpc.pb.h"

namespace pamatch::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";
// grpc.health.v1.HealthCheckResponse{status: SERVING}: field 1, varint 1.
// Debian ships no health.proto stubs, and a generic call on raw bytes is
// also the cheapest possible client side for the no-op baseline.
constexpr char kHealthServingBytes[] = "\x08\x01";

int64_t ToNs(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

void AtomicMax(std::atomic<int64_t>& target, int64_t value) {
  int64_t seen = target.load(std::memory_order_relaxed);
  while (value > seen && !target.compare_exchange_weak(
                             seen, value, std::memory_order_relaxed)) {
  }
}

}  // namespace

struct LoadDriver::Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : matcher(v1::Matcher::NewStub(channel)), generic(channel) {}
  std::unique_ptr<v1::Matcher::Stub> matcher;
  grpc::GenericStub generic;
};

// One phase in progress: owns the recorder and every call in flight.
class LoadDriver::Phase {
 public:
  Phase(LoadDriver* driver, const PhaseSpec& spec)
      : driver_(driver),
        spec_(spec),
        warmup_end_ns_(ToNs(spec.warmup)),
        end_ns_(ToNs(spec.warmup + spec.duration)),
        recorder_(OpCount()) {}

  PhaseResult Run();

  // From the Watch streams (WatchStream), on gRPC's threads.
  void OnWatchEvent(const v1::WatchEvent& event, int64_t* last_sequence);
  void OnWatchDone(const grpc::Status& status);

 private:
  // Everything one call needs until its completion callback has run.
  struct Call {
    grpc::ClientContext context;
    PlannedOp op;
    int channel = 0;
    int64_t intended_ns = 0;
    v1::SearchRequest search;
    v1::SearchResponse search_response;
    v1::UpsertProfileRequest upsert;
    v1::UpsertProfileResponse upsert_response;
    v1::DeleteProfileRequest remove;
    v1::DeleteProfileResponse remove_response;
    v1::MatchJobsRequest match_jobs;
    v1::MatchJobsResponse match_jobs_response;
    v1::UpsertJobRequest job_upsert;
    v1::UpsertJobResponse job_upsert_response;
    v1::DeleteJobRequest job_remove;
    v1::DeleteJobResponse job_remove_response;
    grpc::ByteBuffer health_request;
    grpc::ByteBuffer health_response;
  };

  int64_t NowNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                                start_)
        .count();
  }
  void Start(int channel, int64_t intended_ns);
  void Done(Call* call, grpc::Status status);
  // The Watch streams of a watch phase.
  void StartWatchers();
  void StopWatchers();
  void RunOpenLoopSchedule();
  void Tick(double end_s);

  LoadDriver* const driver_;
  const PhaseSpec spec_;
  const int64_t warmup_end_ns_;
  const int64_t end_ns_;
  Clock::time_point start_;
  PhaseRecorder recorder_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> last_measured_done_ns_{0};
  // Orders Done's signal (in_flight_ reaching zero) with Run's wait on
  // drained_; in_flight_ itself is atomic.
  Mutex mu_;
  CondVar drained_;
  Mutex lag_mu_;
  LatencyHistogram send_lag_ ABSL_GUARDED_BY(lag_mu_);  // open loop only
  std::vector<std::unique_ptr<WatchStream>> watchers_;
  Mutex watch_mu_;
  CondVar watchers_done_;
  // Set before the cancels at the phase end: a CANCELLED stream then is ours.
  bool stopping_watchers_ ABSL_GUARDED_BY(watch_mu_) = false;
  int watchers_open_ ABSL_GUARDED_BY(watch_mu_) = 0;
  WatchStats watch_ ABSL_GUARDED_BY(watch_mu_);
};

// One Watch stream: reads events until cancelled or failed.
class LoadDriver::WatchStream
    : public grpc::ClientReadReactor<v1::WatchEvent> {
 public:
  WatchStream(Phase* phase, std::string authority) : phase_(phase) {
    request_.mutable_local_authorities()->add_codes(std::move(authority));
  }
  void Start(v1::Matcher::Stub* stub, const std::string& authorization) {
    if (!authorization.empty()) {
      context_.AddMetadata("authorization", authorization);
    }
    stub->async()->Watch(&context_, &request_, this);
    StartRead(&event_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    phase_->OnWatchEvent(event_, &last_sequence_);
    StartRead(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    phase_->OnWatchDone(status);
  }

 private:
  Phase* const phase_;
  grpc::ClientContext context_;
  v1::WatchRequest request_;
  v1::WatchEvent event_;
  int64_t last_sequence_ = 0;  // reads of one stream never overlap
};

void LoadDriver::Phase::StartWatchers() {
  if (spec_.workload != PhaseWorkload::kWatch || spec_.watchers <= 0 ||
      spec_.watch_authorities.empty()) {
    return;
  }
  {
    MutexLock lock(&watch_mu_);
    watch_.streams = spec_.watchers;
    watchers_open_ = spec_.watchers;
  }
  for (int k = 0; k < spec_.watchers; ++k) {
    watchers_.push_back(std::make_unique<WatchStream>(
        this, spec_.watch_authorities[k % spec_.watch_authorities.size()]));
  }
  for (size_t k = 0; k < watchers_.size(); ++k) {
    watchers_[k]->Start(
        driver_->stubs_[k % driver_->stubs_.size()]->matcher.get(),
        driver_->authorization_);
  }
}

void LoadDriver::Phase::StopWatchers() {
  if (watchers_.empty()) return;
  {
    MutexLock lock(&watch_mu_);
    stopping_watchers_ = true;
  }
  for (auto& stream : watchers_) stream->Cancel();
  MutexLock lock(&watch_mu_);
  while (watchers_open_ > 0) watchers_done_.Wait(&watch_mu_);
}

void LoadDriver::Phase::OnWatchEvent(const v1::WatchEvent& event,
                                     int64_t* last_sequence) {
  const int64_t received_ns = NowNs();
  const absl::Time sent = absl::FromUnixSeconds(event.time().seconds()) +
                          absl::Nanoseconds(event.time().nanos());
  const int64_t delay_ns =
      std::max<int64_t>(0, absl::ToInt64Nanoseconds(absl::Now() - sent));
  MutexLock lock(&watch_mu_);
  if (event.kind() == v1::WatchEvent::HEARTBEAT) {
    ++watch_.heartbeats;
    *last_sequence = std::max(*last_sequence, event.sequence());
    return;
  }
  if (event.sequence() <= *last_sequence) ++watch_.out_of_order;
  *last_sequence = event.sequence();
  ++watch_.events;
  if (event.kind() == v1::WatchEvent::MATCH_STARTED) ++watch_.started;
  if (event.kind() == v1::WatchEvent::MATCH_ENDED) ++watch_.ended;
  if (received_ns >= warmup_end_ns_ && received_ns < end_ns_) {
    ++watch_.measured_events;
    watch_.delay.Record(static_cast<uint64_t>(delay_ns));
  }
}

void LoadDriver::Phase::OnWatchDone(const grpc::Status& status) {
  MutexLock lock(&watch_mu_);
  const bool ours = stopping_watchers_ &&
                    status.error_code() == grpc::StatusCode::CANCELLED;
  if (!ours) {
    const std::string code = StatusCodeName(status.error_code());
    if (watch_.errors[code]++ == 0) {
      watch_.error_examples[code] = status.error_message();
    }
  }
  if (--watchers_open_ == 0) watchers_done_.SignalAll();
}

void LoadDriver::Phase::Start(int channel, int64_t intended_ns) {
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  auto* call = new Call;
  call->channel = channel;
  call->intended_ns = intended_ns;
  call->op = driver_->workload_->Next(spec_.workload);
  call->context.set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoNanoseconds(spec_.call_timeout));
  if (!driver_->authorization_.empty()) {
    call->context.AddMetadata("authorization", driver_->authorization_);
  }
  Stubs& stubs = *driver_->stubs_[channel];
  auto done = [this, call](grpc::Status status) {
    Done(call, std::move(status));
  };
  const int op = call->op.op;
  if (op == HealthOp()) {
    grpc::Slice empty("");
    call->health_request = grpc::ByteBuffer(&empty, 1);
    stubs.generic.UnaryCall(&call->context, kHealthCheckMethod,
                            grpc::StubOptions(), &call->health_request,
                            &call->health_response, std::move(done));
  } else if (op == UpsertOp()) {
    call->upsert = driver_->workload_->UpsertRequestFor(call->op);
    stubs.matcher->async()->UpsertProfile(
        &call->context, &call->upsert, &call->upsert_response, std::move(done));
  } else if (op == DeleteOp()) {
    call->remove.set_id(driver_->workload_->IdOf(call->op.index));
    stubs.matcher->async()->DeleteProfile(
        &call->context, &call->remove, &call->remove_response, std::move(done));
  } else if (op == MatchJobsOp()) {
    call->match_jobs = driver_->workload_->MatchJobsRequestFor(call->op);
    stubs.matcher->async()->MatchJobs(&call->context, &call->match_jobs,
                                      &call->match_jobs_response,
                                      std::move(done));
  } else if (op == JobUpsertOp()) {
    call->job_upsert = driver_->workload_->JobUpsertRequestFor(call->op);
    stubs.matcher->async()->UpsertJob(&call->context, &call->job_upsert,
                                      &call->job_upsert_response,
                                      std::move(done));
  } else if (op == JobDeleteOp()) {
    call->job_remove.set_id(driver_->workload_->JobIdOf(call->op.index));
    stubs.matcher->async()->DeleteJob(&call->context, &call->job_remove,
                                      &call->job_remove_response,
                                      std::move(done));
  } else {
    call->search = driver_->workload_->SearchRequestFor(call->op);
    stubs.matcher->async()->Search(&call->context, &call->search,
                                   &call->search_response, std::move(done));
  }
}

void LoadDriver::Phase::Done(Call* call, grpc::Status status) {
  const int64_t done_ns = NowNs();
  if (status.ok() && call->op.op == HealthOp()) {
    // A health answer other than SERVING is a failed call: the server is
    // not (or no longer) ready, so its speed says nothing.
    std::string bytes;
    std::vector<grpc::Slice> slices;
    if (call->health_response.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()),
                     slice.size());
      }
    }
    if (bytes != kHealthServingBytes) {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "health status is not SERVING");
    }
  }
  const bool measured =
      call->intended_ns >= warmup_end_ns_ && call->intended_ns < end_ns_;
  recorder_.Record(call->op.op,
                   static_cast<uint64_t>(done_ns - call->intended_ns),
                   status.error_code(), status.error_message(), measured);
  if (measured) AtomicMax(last_measured_done_ns_, done_ns);
  if (IsProfileWriteOp(call->op.op) || IsJobWriteOp(call->op.op)) {
    driver_->workload_->Finish(call->op, status.ok());
  }
  if (spec_.mode == LoopMode::kClosed) {
    const int64_t now_ns = NowNs();
    if (now_ns < end_ns_) Start(call->channel, now_ns);
  }
  delete call;
  // Under the lock: once Run sees zero it destroys this phase, so nothing
  // here may touch it after the unlock.
  MutexLock lock(&mu_);
  if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    drained_.SignalAll();
  }
}

void LoadDriver::Phase::RunOpenLoopSchedule() {
  const int channels = static_cast<int>(driver_->stubs_.size());
  const double interval_ns = 1e9 / spec_.rate_per_s;
  for (int64_t k = 0;; ++k) {
    const int64_t intended_ns = static_cast<int64_t>(k * interval_ns);
    if (intended_ns >= end_ns_) break;
    std::this_thread::sleep_until(start_ +
                                  std::chrono::nanoseconds(intended_ns));
    // Above the cap, wait; the wait still counts in the latency because it
    // is measured from the intended time.
    while (in_flight_.load(std::memory_order_relaxed) >= spec_.max_in_flight) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const int64_t lag_ns = NowNs() - intended_ns;
    {
      MutexLock lock(&lag_mu_);
      send_lag_.Record(static_cast<uint64_t>(std::max<int64_t>(0, lag_ns)));
    }
    Start(static_cast<int>(k % channels), intended_ns);
  }
}

void LoadDriver::Phase::Tick(double end_s) {
  const bool warmup = end_s <= absl::ToDoubleSeconds(spec_.warmup) + 1e-9;
  SecondSample sample = recorder_.TakeSecond(end_s, warmup);
  if (driver_->progress_) {
    driver_->progress_(spec_, sample,
                       in_flight_.load(std::memory_order_relaxed));
  }
}

PhaseResult LoadDriver::Phase::Run() {
  start_ = Clock::now();
  StartWatchers();
  const int channels = static_cast<int>(driver_->stubs_.size());
  std::thread scheduler;
  if (spec_.mode == LoopMode::kClosed) {
    for (int i = 0; i < spec_.concurrency; ++i) Start(i % channels, NowNs());
  } else {
    scheduler = std::thread([this] { RunOpenLoopSchedule(); });
  }
  // One sample per second of the warm-up and per second of the measurement,
  // each counted from its own start, so no sample straddles the two (the
  // last of each may be shorter).
  std::vector<int64_t> ticks_ns;
  for (int64_t from_ns : {int64_t{0}, warmup_end_ns_}) {
    const int64_t to_ns = from_ns == 0 ? warmup_end_ns_ : end_ns_;
    for (int64_t at_ns = from_ns; at_ns < to_ns;) {
      at_ns = std::min(at_ns + 1'000'000'000, to_ns);
      ticks_ns.push_back(at_ns);
    }
  }
  // CPU is sampled at the warm-up end and the phase end (the same ticks):
  // the machine's, this process's and the server's (if given) together.
  CpuSample cpu_from, cpu_to;
  if (warmup_end_ns_ == 0) cpu_from = SampleCpu(spec_.server_proc);
  for (int64_t at_ns : ticks_ns) {
    std::this_thread::sleep_until(start_ + std::chrono::nanoseconds(at_ns));
    if (at_ns == warmup_end_ns_) cpu_from = SampleCpu(spec_.server_proc);
    if (at_ns == end_ns_) cpu_to = SampleCpu(spec_.server_proc);
    Tick(at_ns / 1e9);
  }
  if (scheduler.joinable()) scheduler.join();
  {
    // Every call completes: at the latest when its deadline passes.
    MutexLock lock(&mu_);
    while (in_flight_.load(std::memory_order_acquire) != 0) {
      drained_.Wait(&mu_);
    }
  }
  // The tail: calls that completed after the phase end.
  if (recorder_.calls_since_last_sample() > 0) Tick(NowNs() / 1e9);
  StopWatchers();

  PhaseResult result;
  result.spec = spec_;
  result.channels = channels;
  result.measured_s = std::max(end_ns_, last_measured_done_ns_.load()) / 1e9 -
                      warmup_end_ns_ / 1e9;
  result.ops = recorder_.ops();
  result.series = recorder_.series();
  result.cpu = CpuBetween(cpu_from, cpu_to, (end_ns_ - warmup_end_ns_) / 1e9);
  if (!watchers_.empty()) {
    MutexLock lock(&watch_mu_);
    result.watch = watch_;
  }
  MutexLock lock(&lag_mu_);
  result.send_lag = send_lag_;
  return result;
}

LoadDriver::LoadDriver(std::vector<std::shared_ptr<grpc::Channel>> channels,
                       std::string api_key, Workload* workload,
                       ProgressFn progress)
    : authorization_(api_key.empty() ? "" : "Bearer " + api_key),
      workload_(workload),
      progress_(std::move(progress)) {
  for (const auto& channel : channels) {
    stubs_.push_back(std::make_unique<Stubs>(channel));
  }
}

LoadDriver::~LoadDriver() = default;

PhaseResult LoadDriver::Run(const PhaseSpec& spec) {
  Phase phase(this, spec);
  return phase.Run();
}

}  // namespace pamatch::loadgen
