// The pamatch.v1.Matcher gRPC service: the edge between the network and the
// engine. Each RPC checks the caller's API key (scope, expiry, rate), rejects
// unknown fields on the request wrapper, holds a key limited to some local
// authorities to them (below), forwards to pamatch::Engine and maps the
// engine's absl::Status to a gRPC status (ToGrpcStatus). Validation of the
// profiles, searches and policies themselves is the engine's.
//
// A key limited to local authorities (service/api_keys.h) may write, read
// and delete only profiles and jobs of those authorities (the record as
// sent and as stored), search and match jobs only with a local_authority
// of them and see only PAs and jobs of them (the engine's audience, so
// totals count nothing else), read and set only their policies, watch
// only their jobs, PAs and authorities, and neither read GetStats nor take
// a Backup (both span every authority). Refusals are PERMISSION_DENIED.
#ifndef PA_MATCH_SERVICE_MATCHER_SERVICE_H_
#define PA_MATCH_SERVICE_MATCHER_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "engine/sync.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/admission.h"
#include "service/api_keys.h"
#include "service/metrics.h"
#include "service/watch.h"

namespace pamatch {

// Items of one BulkUpsertProfiles or BulkUpsertJobs stream handed to the
// engine at once (one WriteBatch, one fsync).
inline constexpr size_t kBulkBatchSize = 512;
// Batches of one stream queued or being committed while the stream reads and
// validates the next: enough to keep the engine's commit thread busy, few
// enough to bound memory (and to push back on a fast sender).
inline constexpr int kBulkBatchesInFlight = 2;

// Callback-API implementation of pamatch.v1.Matcher (one reactor per call,
// no thread per request).
//
// Lifecycle: construct with the key store, register with a server, then
// attach the engine with SetEngine once it is open; until then every RPC
// fails with UNAVAILABLE. The key store and the engine must outlive the
// server's last call (shut the server down before destroying them). Watch
// streams never end by themselves: call StopWatches before shutting the
// server down, or the shutdown waits for them. The service registers an
// event listener with the attached engine and removes it on SetEngine(
// nullptr) or destruction, so the engine must outlive the service or be
// detached first.
// Thread-safety: gRPC calls the methods concurrently from its threads; the
// service's shared mutable state is the atomic engine pointer, the engine
// listener's registration (under a mutex) and the Watch hub (watch.h), and
// the engine, key store and metrics are themselves thread-safe. Reads run
// inline on the gRPC callback thread. Writes (profiles and jobs) never block
// it: they are validated there and handed to the engine's commit queue
// (Engine::UpsertAsync and friends), whose thread finishes the call once the
// write is synced; so any number of writers share one WAL fsync while
// gRPC's few callback threads keep serving. Watch streams wait for events
// without holding a thread (watch.h). SetEngine, StopWatches and
// open_watch_streams may be called from any thread.
class MatcherService final : public v1::Matcher::CallbackService {
 public:
  // An admitted call: the engine and what the caller's key may reach.
  struct Admitted {
    Engine* engine;
    KeyGrant grant;
  };

  // `metrics` (optional, not owned; must outlive the server's last call)
  // records every finished call.
  // `limits` bound the calls in flight per kind (admission.h).
  explicit MatcherService(const ApiKeyStore* keys,
                          RpcMetrics* metrics = nullptr,
                          WatchOptions watch = WatchOptions(),
                          CallLimits limits = CallLimits());
  ~MatcherService() override;

  // Makes the service answer with `engine` (nullptr: UNAVAILABLE again), and
  // moves the Watch streams' event listener to it.
  void SetEngine(Engine* engine);

  // Finishes every Watch stream with UNAVAILABLE ("reconnect with
  // after_sequence") and refuses new ones: call it before shutting the
  // server down. Not undone.
  void StopWatches();
  // Watch streams open (admitted, not yet done).
  int64_t open_watch_streams() const;
  // Calls of `kind` in flight (admission.h).
  int64_t in_flight(CallKind kind) const { return admission_.in_flight(kind); }

  grpc::ServerUnaryReactor* UpsertProfile(
      grpc::CallbackServerContext* context,
      const v1::UpsertProfileRequest* request,
      v1::UpsertProfileResponse* response) override;
  grpc::ServerReadReactor<v1::UpsertProfileRequest>* BulkUpsertProfiles(
      grpc::CallbackServerContext* context,
      v1::BulkUpsertProfilesResponse* response) override;
  grpc::ServerUnaryReactor* GetProfile(
      grpc::CallbackServerContext* context,
      const v1::GetProfileRequest* request,
      v1::GetProfileResponse* response) override;
  grpc::ServerUnaryReactor* DeleteProfile(
      grpc::CallbackServerContext* context,
      const v1::DeleteProfileRequest* request,
      v1::DeleteProfileResponse* response) override;
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* context,
                                   const v1::SearchRequest* request,
                                   v1::SearchResponse* response) override;
  grpc::ServerUnaryReactor* SetPolicy(grpc::CallbackServerContext* context,
                                      const v1::SetPolicyRequest* request,
                                      v1::Policy* response) override;
  grpc::ServerUnaryReactor* GetPolicy(grpc::CallbackServerContext* context,
                                      const v1::GetPolicyRequest* request,
                                      v1::Policy* response) override;
  grpc::ServerUnaryReactor* ListPolicies(
      grpc::CallbackServerContext* context,
      const v1::ListPoliciesRequest* request,
      v1::ListPoliciesResponse* response) override;
  grpc::ServerUnaryReactor* DeletePolicy(
      grpc::CallbackServerContext* context,
      const v1::DeletePolicyRequest* request,
      v1::DeletePolicyResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  // Online consistent backup (Engine::Backup); admin scope. Runs on the
  // callback thread: it flushes, hard-links and reads the backup back.
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override;

  // Jobs (MATCHING.md "Jobs"): writes as for profiles, GetJob and MatchJobs
  // inline.
  grpc::ServerUnaryReactor* UpsertJob(grpc::CallbackServerContext* context,
                                      const v1::UpsertJobRequest* request,
                                      v1::UpsertJobResponse* response) override;
  grpc::ServerReadReactor<v1::UpsertJobRequest>* BulkUpsertJobs(
      grpc::CallbackServerContext* context,
      v1::BulkUpsertJobsResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::GetJobResponse* response) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* context,
                                      const v1::DeleteJobRequest* request,
                                      v1::DeleteJobResponse* response) override;
  grpc::ServerUnaryReactor* MatchJobs(grpc::CallbackServerContext* context,
                                      const v1::MatchJobsRequest* request,
                                      v1::MatchJobsResponse* response) override;
  // Alerts (MATCHING.md "Alerts"): a stream per subscriber (watch.h).
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(
      grpc::CallbackServerContext* context,
      const v1::WatchRequest* request) override;

 private:
  // Replaces gRPC's handlers of the unary and server-streaming methods with
  // ones answering a request that cannot be parsed with INVALID_ARGUMENT
  // naming its type, not UNIMPLEMENTED (malformed_requests.h, where it is
  // defined). Called by the constructor.
  void AnswerMalformedRequests();

  // Authenticates the call for `scope`, rejects unknown fields on `request`
  // (if given) and returns the engine and the key's grant, or the error to
  // answer with.
  absl::StatusOr<Admitted> Admit(grpc::CallbackServerContext* context,
                                 Scope scope,
                                 const google::protobuf::Message* request) const;

  // Admit for a bulk stream (scope write), then its place among the writes
  // in flight, held for the stream's life; the error to finish with if
  // either is refused.
  std::pair<absl::StatusOr<Admitted>, std::optional<Admission::Ticket>>
  AdmitStream(grpc::CallbackServerContext* context);

  // After Admit, the call's deadline and its kind's bound (admission.h),
  // calls `begin(Engine&, const KeyGrant&, done)`, which starts the work
  // and has `done(absl::Status)` called once it is over, on any thread;
  // done finishes and records the call and frees its slot. An error before
  // `begin` finishes it at once.
  template <typename Begin>
  grpc::ServerUnaryReactor* ServeAsync(grpc::CallbackServerContext* context,
                                       RpcMethod method, Scope scope,
                                       const google::protobuf::Message& request,
                                       Begin begin);
  // ServeAsync for work done inline:
  // `handler(Engine&, const KeyGrant&) -> absl::Status`.
  template <typename Handler>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  RpcMethod method, Scope scope,
                                  const google::protobuf::Message& request,
                                  Handler handler);

  // OK unless `grant` is limited and `request` watches a job, a PA or an
  // authority outside it.
  static absl::Status CheckWatch(const Engine& engine, const KeyGrant& grant,
                                 const v1::WatchRequest& request);

  // Finishes a unary call of `method` begun at `start` with `status`, and
  // records it.
  void Finish(grpc::ServerUnaryReactor* reactor, RpcMethod method,
              RpcMetrics::Clock::time_point start,
              const absl::Status& status) const;

  const ApiKeyStore* const keys_;
  RpcMetrics* const metrics_;
  Admission admission_;
  std::atomic<Engine*> engine_{nullptr};
  // Shared with the engine's event listener, which may outlive a call.
  const std::shared_ptr<WatchHub> watch_hub_;
  Mutex listener_mu_;
  // The engine holding the listener, and its id there.
  Engine* listener_engine_ ABSL_GUARDED_BY(listener_mu_) = nullptr;
  int64_t listener_id_ ABSL_GUARDED_BY(listener_mu_) = 0;
};

}  // namespace pamatch

#endif  // PA_MATCH_SERVICE_MATCHER_SERVICE_H_
