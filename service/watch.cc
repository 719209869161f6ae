#include "service/watch.h"

#include <grpcpp/alarm.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "engine/validation.h"
#include "google/protobuf/util/time_util.h"
#include "service/grpc_status.h"

namespace pamatch {

// One Watch call. See watch.h for how it waits.
//
// The token: at any moment exactly one party may read the log and write to
// the stream: the constructor first, then the reaction or alarm callback it
// handed over to (Step ends by starting a write, whose OnWriteDone continues;
// by parking, whose alarm callback continues; or by Finish). cursor_,
// batch_, next_, heartbeat_ and next_heartbeat_ belong to the token holder
// and need no lock; the flags that other threads set (the hub's wake-ups,
// OnCancel) and the parked alarm are under mu_.
//
// Lifetime: holds_ counts gRPC's hold (released in OnDone) and one per
// alarm callback or Park still running; the last release deletes the
// reactor. Nothing touches the reactor after Finish except through a hold.
//
// Locks: the hub's mutex may be held when mu_ is taken (Notify, StopAll,
// Add, Remove), never the other way round. No gRPC or engine call is made
// under mu_ (an alarm's Set and Cancel are made after releasing it).
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchEvent> {
 public:
  WatchReactor(WatchHub* hub, const v1::WatchRequest& request,
               absl::StatusOr<Engine*> engine)
      : hub_(hub), metrics_(hub->metrics()) {
    absl::Status status = engine.status();
    if (status.ok() && request.has_local_authorities()) {
      // Admit checked the wrapper; the set is read here, not by a
      // validator that checks in depth.
      status =
          CheckNoUnknownFields(request.local_authorities(), "local_authorities");
    }
    if (!status.ok()) {
      FinishCall(status);
      return;
    }
    engine_ = *engine;
    registered_ = hub_->Add(this);
    if (!registered_) {
      FinishCall(ShuttingDown());
      return;
    }
    absl::StatusOr<WatchCursor> cursor = engine_->StartWatch(request);
    if (!cursor.ok()) {
      FinishCall(cursor.status());
      return;
    }
    cursor_ = *std::move(cursor);
    streaming_ = true;
    if (metrics_ != nullptr) metrics_->WatchStarted();
    // Nothing to replay: the first message is a heartbeat at once.
    next_heartbeat_ = absl::Now();
    Step();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      // The stream broke (the caller cancelled or went away).
      FinishCall(absl::CancelledError("the subscriber went away"));
      return;
    }
    if (metrics_ != nullptr) metrics_->RecordWatchMessage(written_kind_);
    Step();
  }

  void OnCancel() override {
    std::shared_ptr<grpc::Alarm> wake;
    {
      MutexLock lock(&mu_);
      cancelled_ = true;
      wake = TakeAlarmToCancel();
    }
    if (wake != nullptr) wake->Cancel();
  }

  void OnDone() override {
    if (registered_) hub_->Remove(this);
    if (streaming_ && metrics_ != nullptr) metrics_->WatchEnded();
    Release();
  }

  // From the hub, under its lock (so the reactor is alive): events up to
  // `last_sequence` are durable; `stop`: the server is going away. Returns
  // the parked alarm to cancel, for the hub to cancel after unlocking.
  std::shared_ptr<grpc::Alarm> Wake(int64_t last_sequence, bool stop) {
    MutexLock lock(&mu_);
    if (stop) stopping_ = true;
    // A parked stream has read everything up to parked_after_; a stream
    // that is not parked re-reads before it parks (wanted_).
    if (alarm_ == nullptr || last_sequence > parked_after_) wanted_ = true;
    return TakeAlarmToCancel();
  }

 private:
  static absl::Status ShuttingDown() {
    return absl::UnavailableError(
        "pa-matchd is shutting down; reconnect with after_sequence set to "
        "the last sequence received");
  }

  // Runs with the token and passes it on before returning: to a write
  // (OnWriteDone), to an alarm (Park) or to no one (Finish).
  void Step() {
    for (;;) {
      bool cancelled = false, stopping = false;
      {
        MutexLock lock(&mu_);
        cancelled = cancelled_;
        stopping = stopping_;
      }
      if (cancelled) {
        FinishCall(absl::CancelledError("cancelled by the subscriber"));
        return;
      }
      if (stopping) {
        FinishCall(ShuttingDown());
        return;
      }
      if (next_ == batch_.size()) {
        {
          // Every event notified before this point is read below.
          MutexLock lock(&mu_);
          wanted_ = false;
        }
        absl::StatusOr<std::vector<v1::WatchEvent>> events =
            engine_->ReadEvents(&cursor_, hub_->options().read_batch);
        if (!events.ok()) {
          // OUT_OF_RANGE (events dropped by the retention) tells the
          // subscriber to resynchronise; the engine's message says so.
          FinishCall(events.status());
          return;
        }
        batch_ = *std::move(events);
        next_ = 0;
      }
      const absl::Time now = absl::Now();
      if (next_ < batch_.size()) {
        next_heartbeat_ = now + hub_->options().heartbeat_period;
        Write(batch_[next_++]);
        return;
      }
      if (now >= next_heartbeat_) {
        next_heartbeat_ = now + hub_->options().heartbeat_period;
        heartbeat_.Clear();
        heartbeat_.set_sequence(cursor_.after);
        heartbeat_.set_kind(v1::WatchEvent::HEARTBEAT);
        *heartbeat_.mutable_time() =
            google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
                absl::ToUnixNanos(now));
        Write(heartbeat_);
        return;
      }
      if (Park()) return;
      // Woken while parking: read again.
    }
  }

  void Write(const v1::WatchEvent& event) {
    written_kind_ = event.kind();
    StartWrite(&event);
  }

  // Waits for the next heartbeat or a wake-up on a fresh one-shot alarm.
  // False, without waiting, if a wake-up came since the last read.
  bool Park() {
    auto alarm = std::make_shared<grpc::Alarm>();
    {
      MutexLock lock(&mu_);
      if (wanted_ || cancelled_ || stopping_) return false;
      alarm_ = alarm;
      armed_ = false;
      kicked_ = false;
      parked_after_ = cursor_.after;
      holds_ += 2;  // the alarm's callback, and the rest of this function
    }
    alarm->Set(absl::ToChronoTime(next_heartbeat_),
               [this](bool /*expired*/) { OnAlarm(); });
    // The token is the alarm's now. A wake-up between the unlock and Set
    // could not cancel the alarm yet (armed_ was false); do it for it.
    bool cancel = false;
    {
      MutexLock lock(&mu_);
      if (alarm_ == alarm) {
        armed_ = true;
        cancel = TakeAlarmToCancel() != nullptr;
      }
    }
    if (cancel) alarm->Cancel();
    Release();
    return true;
  }

  // The parked alarm if it should be cancelled now (set, not yet cancelled,
  // and a reason to wake), marking it cancelled.
  std::shared_ptr<grpc::Alarm> TakeAlarmToCancel()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (alarm_ == nullptr || !armed_ || kicked_) return nullptr;
    if (!wanted_ && !cancelled_ && !stopping_) return nullptr;
    kicked_ = true;
    return alarm_;
  }

  // The parked alarm expired (heartbeat due) or was cancelled (woken): the
  // token is back. Runs on gRPC's executor.
  void OnAlarm() {
    std::shared_ptr<grpc::Alarm> fired;  // freed last: the alarm may be
    {                                    // destroyed inside its callback
      MutexLock lock(&mu_);
      fired = std::move(alarm_);  // leaves alarm_ null: not parked
    }
    Step();
    Release();
  }

  // Finishes the call once (only the token holder calls it).
  void FinishCall(const absl::Status& status) {
    if (metrics_ != nullptr) {
      metrics_->Record(RpcMethod::kWatch, status.code(), start_);
    }
    Finish(ToGrpcStatus(status));
  }

  void Release() {
    bool last = false;
    {
      MutexLock lock(&mu_);
      last = --holds_ == 0;
    }
    if (last) delete this;
  }

  WatchHub* const hub_;
  RpcMetrics* const metrics_;  // may be null
  const RpcMetrics::Clock::time_point start_ = RpcMetrics::Clock::now();
  // Set by the constructor, read by OnDone (which follows it).
  Engine* engine_ = nullptr;
  bool registered_ = false;  // in hub_
  bool streaming_ = false;   // counted in metrics_' open streams

  // The token holder's (see the class comment).
  WatchCursor cursor_;
  std::vector<v1::WatchEvent> batch_;  // read, written up to next_
  size_t next_ = 0;
  v1::WatchEvent heartbeat_;           // the heartbeat being written
  v1::WatchEvent::Kind written_kind_ = v1::WatchEvent::KIND_UNSPECIFIED;
  absl::Time next_heartbeat_;

  Mutex mu_;
  int holds_ ABSL_GUARDED_BY(mu_) = 1;  // gRPC's, until OnDone
  // The hub saw events this stream has not read.
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // While parked: the alarm, whether its Set has returned (only then may
  // another thread cancel it), whether it has been cancelled, and the
  // cursor it parked at.
  std::shared_ptr<grpc::Alarm> alarm_ ABSL_GUARDED_BY(mu_);
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  int64_t parked_after_ ABSL_GUARDED_BY(mu_) = 0;
};

WatchHub::WatchHub(WatchOptions options, RpcMetrics* metrics)
    : options_(options), metrics_(metrics) {}

grpc::ServerWriteReactor<v1::WatchEvent>* WatchHub::Start(
    const v1::WatchRequest& request, absl::StatusOr<Engine*> engine) {
  return new WatchReactor(this, request, std::move(engine));
}

void WatchHub::Notify(int64_t last_sequence) {
  std::vector<std::shared_ptr<grpc::Alarm>> wake;
  {
    MutexLock lock(&mu_);
    for (WatchReactor* stream : streams_) {
      if (auto alarm = stream->Wake(last_sequence, /*stop=*/false)) {
        wake.push_back(std::move(alarm));
      }
    }
  }
  // Outside the locks: a cancelled alarm's callback takes the stream's lock.
  for (const auto& alarm : wake) alarm->Cancel();
}

void WatchHub::StopAll() {
  std::vector<std::shared_ptr<grpc::Alarm>> wake;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    for (WatchReactor* stream : streams_) {
      if (auto alarm = stream->Wake(0, /*stop=*/true)) {
        wake.push_back(std::move(alarm));
      }
    }
  }
  for (const auto& alarm : wake) alarm->Cancel();
}

int64_t WatchHub::open_streams() const {
  MutexLock lock(&mu_);
  return static_cast<int64_t>(streams_.size());
}

bool WatchHub::Add(WatchReactor* stream) {
  MutexLock lock(&mu_);
  if (stopping_) return false;
  streams_.insert(stream);
  return true;
}

void WatchHub::Remove(WatchReactor* stream) {
  MutexLock lock(&mu_);
  streams_.erase(stream);
}

}  // namespace pamatch
