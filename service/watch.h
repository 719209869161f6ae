// Watch (MATCHING.md "Alerts") at the gRPC edge: one server-streaming
// reactor per subscriber, and the hub that wakes idle streams when the
// engine has committed new events.
//
// A stream reads the engine's event log from its cursor (Engine::StartWatch,
// Engine::ReadEvents) and writes each event that concerns it, one write at a
// time, so a slow subscriber only slows itself (gRPC flow control holds its
// next write). Once caught up it waits without a thread of its own: it parks
// on a one-shot grpc::Alarm set for its next heartbeat. Two things end the
// wait early by cancelling that alarm, which runs its callback at once:
//   - new events: the service registers one listener with the engine
//     (Engine::AddEventListener) that calls WatchHub::Notify on the engine's
//     commit thread; Notify only flags the parked streams that are behind and
//     cancels their alarms (no engine call, no I/O), as the listener must be
//     quick;
//   - the end of the call (OnCancel) or of the server (WatchHub::StopAll).
// A heartbeat is due after WatchOptions::heartbeat_period without a message.
// Why an alarm and not a ticker thread of our own: the alarm's callback runs
// on gRPC's executor, so many streams woken at once read the log in parallel
// rather than one after another on one thread, and a stream with nothing to
// do costs one timer, not a thread or a poll.
//
// The first message of a stream with nothing to replay is a HEARTBEAT whose
// sequence is where the stream starts: the subscriber then knows the watch
// is in place and may save that position.
//
// Threads: Notify may be called from any thread (the engine's commit thread
// in practice); StopAll and open_streams from any thread. Everything else is
// called by gRPC (MatcherService::Watch starts a stream) and by the streams'
// own alarms.
#ifndef PA_MATCH_SERVICE_WATCH_H_
#define PA_MATCH_SERVICE_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.pb.h"
#include "service/metrics.h"

namespace pamatch {

struct WatchOptions {
  // A HEARTBEAT goes out after this long without a message (the proto says
  // "about every 10 s"; tests shorten it).
  absl::Duration heartbeat_period = absl::Seconds(10);
  // Events asked of Engine::ReadEvents at a time.
  size_t read_batch = 256;
};

class WatchReactor;

// The open Watch streams of one service.
class WatchHub {
 public:
  // `metrics` (optional, not owned) must outlive every stream.
  WatchHub(WatchOptions options, RpcMetrics* metrics);
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Starts a stream of `request` over `engine`, or one that finishes at once
  // with the error if `engine` is not OK (Admit's answer: key, scope,
  // unknown fields, not ready). gRPC owns the reactor until its OnDone.
  // `request` is read during the call only.
  grpc::ServerWriteReactor<v1::WatchEvent>* Start(
      const v1::WatchRequest& request, absl::StatusOr<Engine*> engine);

  // The engine has committed events up to `last_sequence`: wakes the
  // streams that are waiting behind it. Quick (the hub's lock, each
  // stream's lock, alarm cancellations); for the engine's event listener.
  void Notify(int64_t last_sequence);

  // Finishes every open stream with UNAVAILABLE (telling the subscriber to
  // reconnect with its last sequence) and every later one at once, so that
  // a server shutdown does not wait for streams that never end. For
  // shutdown only: there is no undoing it.
  void StopAll();

  // Streams admitted and not yet done.
  int64_t open_streams() const;

  const WatchOptions& options() const { return options_; }
  RpcMetrics* metrics() const { return metrics_; }

 private:
  friend class WatchReactor;
  // False (and not added) once StopAll has run.
  bool Add(WatchReactor* stream);
  void Remove(WatchReactor* stream);

  const WatchOptions options_;
  RpcMetrics* const metrics_;
  mutable Mutex mu_;
  absl::flat_hash_set<WatchReactor*> streams_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_WATCH_H_
