#include "service/matcher_service.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "engine/sync.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "service/grpc_status.h"
#include "service/malformed_requests.h"

namespace pamatch {
namespace {

// The value of the caller's single `authorization` header, if any. Several
// such headers are ambiguous and count as none.
std::optional<absl::string_view> AuthorizationHeader(
    const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto range = metadata.equal_range("authorization");
  if (range.first == range.second || std::next(range.first) != range.second) {
    return std::nullopt;
  }
  return absl::string_view(range.first->second.data(),
                           range.first->second.size());
}

// Rejects fields the request wrapper does not define. Messages handed to the
// engine whole (Profile, SearchRequest, Policy) are checked again, in depth,
// by the engine.
absl::Status RejectUnknownFields(const google::protobuf::Message& request) {
  const google::protobuf::UnknownFieldSet& unknown =
      request.GetReflection()->GetUnknownFields(request);
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("request: unknown field number ", unknown.field(0).number(),
                   " in ", request.GetDescriptor()->full_name(),
                   " (the service stores matching data only)"));
}

// ---- Keys limited to local authorities (matcher_service.h) ----------------

// PERMISSION_DENIED unless `grant` reaches `local_authority`, a code the
// caller sent in `field`.
absl::Status CheckAuthority(const KeyGrant& grant, absl::string_view field,
                            absl::string_view local_authority) {
  if (grant.Allows(local_authority)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      field, ": local authority \"", local_authority.substr(0, 64),
      "\" is outside those of API key \"", grant.name(), "\" (",
      grant.AuthorityList(), ")"));
}

// PERMISSION_DENIED unless `grant` reaches a stored record's authority.
// The message names the key's authorities, not the record's: a key learns
// nothing of another authority's records but that the id is taken.
absl::Status CheckStored(const KeyGrant& grant, absl::string_view what,
                         absl::string_view id,
                         absl::string_view local_authority) {
  if (grant.Allows(local_authority)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      what, " \"", id.substr(0, 64),
      "\" belongs to a local authority outside those of API key \"",
      grant.name(), "\" (", grant.AuthorityList(), ")"));
}

// Whether a limited key may touch the stored profile `id` (absent: yes, the
// write or read then answers NOT_FOUND or creates it).
absl::Status CheckProfileAccess(const Engine& engine, const KeyGrant& grant,
                                absl::string_view id) {
  if (grant.all_authorities()) return absl::OkStatus();
  absl::StatusOr<v1::GetProfileResponse> stored = engine.GetProfile(id);
  if (!stored.ok()) {
    return absl::IsNotFound(stored.status()) ? absl::OkStatus()
                                             : stored.status();
  }
  return CheckStored(grant, "profile", id, stored->profile().local_authority());
}

absl::Status CheckProfileWrite(const Engine& engine, const KeyGrant& grant,
                               const v1::Profile& profile) {
  if (grant.all_authorities()) return absl::OkStatus();
  if (absl::Status status = CheckAuthority(grant, "profile.local_authority",
                                           profile.local_authority());
      !status.ok()) {
    return status;
  }
  return CheckProfileAccess(engine, grant, profile.id());
}

absl::Status CheckJobAccess(const Engine& engine, const KeyGrant& grant,
                            absl::string_view id) {
  if (grant.all_authorities()) return absl::OkStatus();
  absl::StatusOr<v1::GetJobResponse> stored = engine.GetJob(id, absl::Now());
  if (!stored.ok()) {
    return absl::IsNotFound(stored.status()) ? absl::OkStatus()
                                             : stored.status();
  }
  return CheckStored(grant, "job", id,
                     stored->job().request().local_authority());
}

absl::Status CheckJobWrite(const Engine& engine, const KeyGrant& grant,
                           const v1::Job& job) {
  if (grant.all_authorities()) return absl::OkStatus();
  if (absl::Status status = CheckAuthority(
          grant, "job.request.local_authority", job.request().local_authority());
      !status.ok()) {
    return status;
  }
  return CheckJobAccess(engine, grant, job.id());
}

// PERMISSION_DENIED for a call that spans every authority.
absl::Status CheckUnlimited(const KeyGrant& grant, absl::string_view method) {
  if (grant.all_authorities()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      method, ": spans every local authority; API key \"", grant.name(),
      "\" is limited to ", grant.AuthorityList()));
}

template <typename T>
absl::Status StoreResult(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

// What a bulk stream of profiles or of jobs differs in.
struct ProfileBulk {
  using Request = v1::UpsertProfileRequest;
  using Response = v1::BulkUpsertProfilesResponse;
  using Item = v1::Profile;
  using Outcome = v1::UpsertProfileResponse;
  static constexpr RpcMethod kMethod = RpcMethod::kBulkUpsertProfiles;
  static const Item& ItemOf(const Request& request) {
    return request.profile();
  }
  static absl::Status CheckWrite(const Engine& engine, const KeyGrant& grant,
                                 const Item& item) {
    return CheckProfileWrite(engine, grant, item);
  }
  static void SetMark(Request& request, Item* mark) {
    request.unsafe_arena_set_allocated_profile(mark);
  }
  static bool TakeMark(Request& request, const Item* mark) {
    if (!request.has_profile() || &request.profile() != mark) return false;
    request.unsafe_arena_release_profile();
    return true;
  }
  template <typename Done>
  static void Submit(Engine& engine, const std::vector<const Item*>& items,
                     Done done) {
    engine.BulkUpsertAsync(items, std::move(done));
  }
};
struct JobBulk {
  using Request = v1::UpsertJobRequest;
  using Response = v1::BulkUpsertJobsResponse;
  using Item = v1::Job;
  using Outcome = v1::UpsertJobResponse;
  static constexpr RpcMethod kMethod = RpcMethod::kBulkUpsertJobs;
  static const Item& ItemOf(const Request& request) { return request.job(); }
  static absl::Status CheckWrite(const Engine& engine, const KeyGrant& grant,
                                 const Item& item) {
    return CheckJobWrite(engine, grant, item);
  }
  static void SetMark(Request& request, Item* mark) {
    request.unsafe_arena_set_allocated_job(mark);
  }
  static bool TakeMark(Request& request, const Item* mark) {
    if (!request.has_job() || &request.job() != mark) return false;
    request.unsafe_arena_release_job();
    return true;
  }
  template <typename Done>
  static void Submit(Engine& engine, const std::vector<const Item*>& items,
                     Done done) {
    engine.BulkUpsertJobsAsync(items, std::move(done));
  }
};

// One BulkUpsertProfiles or BulkUpsertJobs call (Kind: ProfileBulk or
// JobBulk): reads the stream and upserts it kBulkBatchSize items at a time
// through Engine::BulkUpsertAsync / BulkUpsertJobsAsync, answering with one
// result per item, in stream order. Up to kBulkBatchesInFlight batches are
// being committed while the next is read and validated; past that the
// reactor stops reading until a batch completes, which pushes back on the
// sender through gRPC flow control. Deletes itself when the call is done.
//
// An item that cannot be parsed (malformed protobuf) ends the read loop as
// the stream's end would: gRPC reports both as OnReadDone(false). To tell
// them apart, each read's message is marked first with unread_mark_ as its
// item; a parse, failed or not, clears the message (and the mark) before it
// reads, and the end of the stream leaves it as it was. A malformed item N
// cuts the stream there: the items before it are processed as usual and
// the call answers INVALID_ARGUMENT naming item N, never OK for a silently
// truncated stream.
//
// Memory: each batch's items are parsed into one protobuf arena, freed in one
// go right after the engine has validated and serialized them (perf showed
// glibc malloc/free, malloc_consolidate above all, as the largest cost of a
// bulk import when every item was a heap message).
//
// Threads: gRPC runs OnReadDone (one read outstanding at a time) on its
// callback threads; OnBatchDone runs on the engine's commit thread. Both
// touch the counters and response_, under mu_. StartRead and Finish are
// called outside mu_ (gRPC may run a reaction inline), and the engine is
// called outside it too (it validates a whole batch on the calling thread).
template <typename Kind>
class BulkUpsertReactor final
    : public grpc::ServerReadReactor<typename Kind::Request> {
 public:
  using Request = typename Kind::Request;
  using Response = typename Kind::Response;
  using Item = typename Kind::Item;
  using Outcome = typename Kind::Outcome;

  // Finishes at once with the error if `engine` is not OK; `slot` (the
  // stream's place among the writes in flight) is held until the call is
  // done.
  BulkUpsertReactor(grpc::CallbackServerContext* context,
                    absl::StatusOr<MatcherService::Admitted> admitted,
                    Response* response,
                    RpcMetrics* metrics,
                    std::optional<Admission::Ticket> slot)
      : context_(context),
        response_(response),
        metrics_(metrics),
        slot_(std::move(slot)) {
    if (!admitted.ok()) {
      if (metrics_ != nullptr) {
        metrics_->Record(Kind::kMethod, admitted.status().code(), start_);
      }
      this->Finish(ToGrpcStatus(admitted.status()));
      return;
    }
    engine_ = admitted->engine;
    grant_.emplace(std::move(admitted->grant));
    Request* first = nullptr;
    {
      MutexLock lock(&mu_);
      batch_ = NewBatch();
      first = item_ = NewItem();
    }
    this->StartRead(first);
  }

  void OnReadDone(bool ok) override {
    // A limited key's reach is checked outside mu_ (it reads the engine).
    // No read is in progress, so the item is not written meanwhile.
    absl::Status allowed;
    if (ok && !grant_->all_authorities()) {
      const Request* item = nullptr;
      {
        MutexLock lock(&mu_);
        item = item_;
      }
      allowed = Kind::CheckWrite(*engine_, *grant_, Kind::ItemOf(*item));
    }
    Batch full;
    {
      MutexLock lock(&mu_);
      if (ok) {
        Add(allowed);
        if (batch_.items.size() >= kBulkBatchSize) full = TakeBatch();
      } else {
        // End of the stream, or the call broke. A cancelled caller gets no
        // answer, so its unsubmitted tail is not stored either.
        reading_done_ = true;
        cancelled_ = context_->IsCancelled();
        if (!Kind::TakeMark(*item_, &unread_mark_)) {
          malformed_item_ = response_->results_size();
        }
        if (!cancelled_) full = TakeBatch();
      }
    }
    if (!full.items.empty()) Submit(std::move(full));
    bool read = false, finish = false, cancelled = false;
    Request* next = nullptr;
    {
      MutexLock lock(&mu_);
      if (!reading_done_) {
        next = item_ = NewItem();
        read = in_flight_ < kBulkBatchesInFlight;
        read_deferred_ = !read;
      } else {
        finish = ReadyToFinish();
      }
      cancelled = cancelled_;
    }
    if (read) this->StartRead(next);
    if (finish) FinishCall(cancelled);
  }

  void OnDone() override { delete this; }

 private:
  struct Batch {
    std::unique_ptr<google::protobuf::Arena> arena;  // owns the items
    std::vector<const Item*> items;
    std::vector<int> slots;  // index in response_->results per item
  };

  static Batch NewBatch() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 64 << 10;  // a few blocks per batch, all
    options.max_block_size = 64 << 10;    // below glibc's mmap threshold
    Batch batch;
    batch.arena = std::make_unique<google::protobuf::Arena>(options);
    batch.items.reserve(kBulkBatchSize);
    batch.slots.reserve(kBulkBatchSize);
    return batch;
  }
  // The message the next read fills, in the current batch's arena, marked
  // as unread.
  Request* NewItem() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Request* item =
        google::protobuf::Arena::CreateMessage<Request>(batch_.arena.get());
    Kind::SetMark(*item, &unread_mark_);
    return item;
  }

  // Queues *item_ for the next batch, or rejects it at once (`allowed`:
  // whether the key reaches it).
  void Add(const absl::Status& allowed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int slot = response_->results_size();
    v1::BulkItemResult* result = response_->add_results();
    result->set_index(slot);
    result->set_id(Kind::ItemOf(*item_).id());
    if (absl::Status status = RejectUnknownFields(*item_); !status.ok()) {
      Record(result, status, 0);
      return;
    }
    if (!allowed.ok()) {
      Record(result, allowed, 0);
      return;
    }
    batch_.items.push_back(&Kind::ItemOf(*item_));
    batch_.slots.push_back(slot);
  }

  // The pending batch, counted in flight if not empty; a new one (and arena)
  // takes its place.
  Batch TakeBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Batch taken = std::move(batch_);
    batch_ = NewBatch();
    if (!taken.items.empty()) ++in_flight_;
    return taken;
  }

  // The engine reads the items only during the call, so `batch` and its
  // arena are freed on return, on the thread that allocated them.
  void Submit(Batch batch) {
    Kind::Submit(*engine_, batch.items,
                 [this, slots = std::move(batch.slots)](
                     std::vector<absl::StatusOr<Outcome>> outcomes) {
                   OnBatchDone(slots, outcomes);
                 });
  }

  void OnBatchDone(const std::vector<int>& slots,
                   const std::vector<absl::StatusOr<Outcome>>& outcomes) {
    bool read = false, finish = false, cancelled = false;
    Request* next = nullptr;
    {
      MutexLock lock(&mu_);
      for (size_t i = 0; i < slots.size(); ++i) {
        v1::BulkItemResult* result = response_->mutable_results(slots[i]);
        if (i >= outcomes.size()) {
          Record(result, absl::InternalError("engine returned no result"), 0);
        } else if (outcomes[i].ok()) {
          Record(result, absl::OkStatus(), outcomes[i]->version());
        } else {
          Record(result, outcomes[i].status(), 0);
        }
      }
      --in_flight_;
      read = read_deferred_;
      read_deferred_ = false;
      next = item_;
      finish = ReadyToFinish();
      cancelled = cancelled_;
    }
    if (read) this->StartRead(next);
    if (finish) FinishCall(cancelled);
  }

  // True once, when the stream has ended and every batch is done: only then
  // may the call finish (OnDone deletes this, and batches refer to it).
  bool ReadyToFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!reading_done_ || in_flight_ > 0 || finishing_) return false;
    finishing_ = true;
    return true;
  }

  // `cancelled`: cancelled_, read when ReadyToFinish said yes (it no longer
  // changes then).
  void FinishCall(bool cancelled) {
    absl::Status status;
    {
      MutexLock lock(&mu_);
      if (cancelled) {
        status = absl::CancelledError();
      } else if (malformed_item_ >= 0) {
        status = absl::InvalidArgumentError(absl::StrCat(
            "item ", malformed_item_, " of the stream: ",
            MalformedRequestMessage(Request::descriptor()->full_name()),
            "; the stream was cut there: the ", malformed_item_,
            " items before it were processed (", response_->accepted(),
            " accepted, ", response_->rejected(),
            " rejected), nothing after it was read; resend from item ",
            malformed_item_));
      }
      if (metrics_ != nullptr) {
        metrics_->RecordBulkItems(Kind::kMethod, response_->accepted(),
                                  response_->rejected());
      }
    }
    if (metrics_ != nullptr) {
      metrics_->Record(Kind::kMethod, status.code(), start_);
    }
    this->Finish(ToGrpcStatus(status));
  }

  void Record(v1::BulkItemResult* result, const absl::Status& status,
              int64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // google.rpc.Code and absl::StatusCode share their numbering.
    result->set_code(static_cast<int32_t>(status.code()));
    if (status.ok()) {
      result->set_version(version);
      response_->set_accepted(response_->accepted() + 1);
    } else {
      result->set_error(std::string(status.message()));
      response_->set_rejected(response_->rejected() + 1);
    }
  }

  grpc::CallbackServerContext* const context_;
  Response* const response_ ABSL_PT_GUARDED_BY(mu_);
  RpcMetrics* const metrics_;  // may be null
  const RpcMetrics::Clock::time_point start_ = RpcMetrics::Clock::now();
  Engine* engine_ = nullptr;
  std::optional<KeyGrant> grant_;  // set with engine_
  Mutex mu_;
  Batch batch_ ABSL_GUARDED_BY(mu_);
  // In batch_'s arena (or the one just taken from it): written by the read
  // in progress, read by its OnReadDone.
  Request* item_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Released when the reactor is deleted (OnDone).
  std::optional<Admission::Ticket> slot_;
  // The item each read's message holds until a parse clears it (above).
  Item unread_mark_;
  // Index of the item that could not be parsed, or -1.
  int malformed_item_ ABSL_GUARDED_BY(mu_) = -1;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_deferred_ ABSL_GUARDED_BY(mu_) = false;  // waiting for a batch
  bool reading_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

MatcherService::MatcherService(const ApiKeyStore* keys, RpcMetrics* metrics,
                               WatchOptions watch, CallLimits limits)
    : keys_(keys),
      metrics_(metrics),
      admission_(limits),
      watch_hub_(std::make_shared<WatchHub>(watch, metrics)) {
  AnswerMalformedRequests();
}

MatcherService::~MatcherService() { SetEngine(nullptr); }

void MatcherService::SetEngine(Engine* engine) {
  engine_.store(engine, std::memory_order_release);
  MutexLock lock(&listener_mu_);
  if (listener_engine_ == engine) return;
  if (listener_engine_ != nullptr) {
    listener_engine_->RemoveEventListener(listener_id_);
  }
  listener_engine_ = engine;
  if (engine != nullptr) {
    // The hub, not the service, is captured: a listener call the engine has
    // begun when the service goes away still finds it.
    listener_id_ = engine->AddEventListener(
        [hub = watch_hub_](int64_t last_sequence) {
          hub->Notify(last_sequence);
        });
  }
}

void MatcherService::StopWatches() { watch_hub_->StopAll(); }

int64_t MatcherService::open_watch_streams() const {
  return watch_hub_->open_streams();
}

namespace {

CallKind KindOf(RpcMethod method) {
  switch (method) {
    case RpcMethod::kSearch:
    case RpcMethod::kMatchJobs:
    case RpcMethod::kGetProfile:
    case RpcMethod::kGetJob:
    case RpcMethod::kWatch:
      return CallKind::kRead;
    case RpcMethod::kUpsertProfile:
    case RpcMethod::kBulkUpsertProfiles:
    case RpcMethod::kDeleteProfile:
    case RpcMethod::kUpsertJob:
    case RpcMethod::kBulkUpsertJobs:
    case RpcMethod::kDeleteJob:
      return CallKind::kWrite;
    case RpcMethod::kSetPolicy:
    case RpcMethod::kGetPolicy:
    case RpcMethod::kListPolicies:
    case RpcMethod::kDeletePolicy:
    case RpcMethod::kGetStats:
    case RpcMethod::kBackup:
      return CallKind::kAdmin;
  }
  return CallKind::kAdmin;
}

}  // namespace

absl::StatusOr<MatcherService::Admitted> MatcherService::Admit(
    grpc::CallbackServerContext* context, Scope scope,
    const google::protobuf::Message* request) const {
  // Authentication comes first: an unknown caller learns nothing else.
  absl::StatusOr<KeyGrant> grant =
      keys_->Authorize(AuthorizationHeader(*context), scope);
  if (!grant.ok()) {
    if (metrics_ != nullptr &&
        grant.status().code() == absl::StatusCode::kResourceExhausted) {
      metrics_->RecordRateLimited();
    }
    return grant.status();
  }
  if (request != nullptr) {
    if (absl::Status status = RejectUnknownFields(*request); !status.ok()) {
      return status;
    }
  }
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) {
    return absl::UnavailableError("pa-matchd is starting up; retry shortly");
  }
  return Admitted{engine, *std::move(grant)};
}

void MatcherService::Finish(grpc::ServerUnaryReactor* reactor,
                            RpcMethod method,
                            RpcMetrics::Clock::time_point start,
                            const absl::Status& status) const {
  if (metrics_ != nullptr) metrics_->Record(method, status.code(), start);
  reactor->Finish(ToGrpcStatus(status));
}

template <typename Begin>
grpc::ServerUnaryReactor* MatcherService::ServeAsync(
    grpc::CallbackServerContext* context, RpcMethod method, Scope scope,
    const google::protobuf::Message& request, Begin begin) {
  const RpcMetrics::Clock::time_point start = RpcMetrics::Clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Admitted> admitted = Admit(context, scope, &request);
  if (!admitted.ok()) {
    Finish(reactor, method, start, admitted.status());
    return reactor;
  }
  if (absl::Status late = CheckDeadline(context->deadline(),
                                        std::chrono::system_clock::now());
      !late.ok()) {
    Finish(reactor, method, start, late);
    return reactor;
  }
  absl::StatusOr<Admission::Ticket> ticket = admission_.Enter(KindOf(method));
  if (!ticket.ok()) {
    Finish(reactor, method, start, ticket.status());
    return reactor;
  }
  // The slot is held until the call is finished (done may be copied).
  auto slot =
      std::make_shared<std::optional<Admission::Ticket>>(*std::move(ticket));
  // The request and response live until Finish; the engine and the service
  // outlive the server's calls.
  begin(*admitted->engine, admitted->grant,
        [this, reactor, method, start, slot](const absl::Status& status) {
          slot->reset();
          Finish(reactor, method, start, status);
        });
  return reactor;
}

template <typename Handler>
grpc::ServerUnaryReactor* MatcherService::Serve(
    grpc::CallbackServerContext* context, RpcMethod method, Scope scope,
    const google::protobuf::Message& request, Handler handler) {
  return ServeAsync(context, method, scope, request,
                    [&](Engine& engine, const KeyGrant& grant, auto done) {
                      done(handler(engine, grant));
                    });
}

grpc::ServerUnaryReactor* MatcherService::UpsertProfile(
    grpc::CallbackServerContext* context,
    const v1::UpsertProfileRequest* request,
    v1::UpsertProfileResponse* response) {
  return ServeAsync(
      context, RpcMethod::kUpsertProfile, Scope::kWrite, *request,
      [request, response](Engine& engine, const KeyGrant& grant, auto done) {
        if (absl::Status allowed =
                CheckProfileWrite(engine, grant, request->profile());
            !allowed.ok()) {
          done(allowed);
          return;
        }
        engine.UpsertAsync(
            request->profile(),
            [response, done](absl::StatusOr<v1::UpsertProfileResponse> result) {
              done(StoreResult(std::move(result), response));
            });
      });
}

std::pair<absl::StatusOr<MatcherService::Admitted>,
          std::optional<Admission::Ticket>>
MatcherService::AdmitStream(grpc::CallbackServerContext* context) {
  absl::StatusOr<Admitted> admitted =
      Admit(context, Scope::kWrite, /*request=*/nullptr);
  std::optional<Admission::Ticket> slot;
  if (admitted.ok()) {
    absl::StatusOr<Admission::Ticket> entered =
        admission_.Enter(CallKind::kWrite);
    if (entered.ok()) {
      slot.emplace(*std::move(entered));
    } else {
      admitted = entered.status();
    }
  }
  return {std::move(admitted), std::move(slot)};
}

grpc::ServerReadReactor<v1::UpsertProfileRequest>*
MatcherService::BulkUpsertProfiles(grpc::CallbackServerContext* context,
                                   v1::BulkUpsertProfilesResponse* response) {
  auto [admitted, slot] = AdmitStream(context);
  return new BulkUpsertReactor<ProfileBulk>(context, std::move(admitted),
                                            response, metrics_,
                                            std::move(slot));
}

grpc::ServerUnaryReactor* MatcherService::GetProfile(
    grpc::CallbackServerContext* context, const v1::GetProfileRequest* request,
    v1::GetProfileResponse* response) {
  return Serve(context, RpcMethod::kGetProfile, Scope::kSearch, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 absl::StatusOr<v1::GetProfileResponse> found =
                     engine.GetProfile(request->id());
                 if (found.ok()) {
                   if (absl::Status allowed =
                           CheckStored(grant, "profile", request->id(),
                                       found->profile().local_authority());
                       !allowed.ok()) {
                     return allowed;
                   }
                 }
                 return StoreResult(std::move(found), response);
               });
}

grpc::ServerUnaryReactor* MatcherService::DeleteProfile(
    grpc::CallbackServerContext* context,
    const v1::DeleteProfileRequest* request, v1::DeleteProfileResponse*) {
  return ServeAsync(
      context, RpcMethod::kDeleteProfile, Scope::kWrite, *request,
      [request](Engine& engine, const KeyGrant& grant, auto done) {
        if (absl::Status allowed =
                CheckProfileAccess(engine, grant, request->id());
            !allowed.ok()) {
          done(allowed);
          return;
        }
        engine.DeleteProfileAsync(request->id(), done);
      });
}

grpc::ServerUnaryReactor* MatcherService::Search(
    grpc::CallbackServerContext* context, const v1::SearchRequest* request,
    v1::SearchResponse* response) {
  return Serve(context, RpcMethod::kSearch, Scope::kSearch, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 if (absl::Status allowed =
                         CheckAuthority(grant, "local_authority",
                                        request->local_authority());
                     !allowed.ok()) {
                   return allowed;
                 }
                 return StoreResult(engine.Search(*request, absl::Now(),
                                                  grant.authorities()),
                                    response);
               });
}

grpc::ServerUnaryReactor* MatcherService::SetPolicy(
    grpc::CallbackServerContext* context, const v1::SetPolicyRequest* request,
    v1::Policy* response) {
  return Serve(context, RpcMethod::kSetPolicy, Scope::kAdmin, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 if (absl::Status allowed =
                         CheckAuthority(grant, "policy.local_authority",
                                        request->policy().local_authority());
                     !allowed.ok()) {
                   return allowed;
                 }
                 return StoreResult(
                     engine.SetPolicy(request->policy(), absl::Now()),
                     response);
               });
}

grpc::ServerUnaryReactor* MatcherService::GetPolicy(
    grpc::CallbackServerContext* context, const v1::GetPolicyRequest* request,
    v1::Policy* response) {
  return Serve(context, RpcMethod::kGetPolicy, Scope::kSearch, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 if (absl::Status allowed =
                         CheckAuthority(grant, "local_authority",
                                        request->local_authority());
                     !allowed.ok()) {
                   return allowed;
                 }
                 return StoreResult(
                     engine.GetPolicy(request->local_authority()), response);
               });
}

grpc::ServerUnaryReactor* MatcherService::ListPolicies(
    grpc::CallbackServerContext* context,
    const v1::ListPoliciesRequest* request,
    v1::ListPoliciesResponse* response) {
  return Serve(context, RpcMethod::kListPolicies, Scope::kSearch, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 // A limited key lists its own authorities' policies only.
                 for (v1::Policy& policy : engine.ListPolicies()) {
                   if (!grant.Allows(policy.local_authority())) continue;
                   *response->add_policies() = std::move(policy);
                 }
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* MatcherService::DeletePolicy(
    grpc::CallbackServerContext* context,
    const v1::DeletePolicyRequest* request, v1::DeletePolicyResponse*) {
  return Serve(context, RpcMethod::kDeletePolicy, Scope::kAdmin, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 if (absl::Status allowed =
                         CheckAuthority(grant, "local_authority",
                                        request->local_authority());
                     !allowed.ok()) {
                   return allowed;
                 }
                 return engine.DeletePolicy(request->local_authority());
               });
}

grpc::ServerUnaryReactor* MatcherService::GetStats(
    grpc::CallbackServerContext* context, const v1::GetStatsRequest* request,
    v1::GetStatsResponse* response) {
  return Serve(context, RpcMethod::kGetStats, Scope::kAdmin, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 if (absl::Status allowed = CheckUnlimited(grant, "GetStats");
                     !allowed.ok()) {
                   return allowed;
                 }
                 *response = engine.Stats();
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* MatcherService::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  return Serve(context, RpcMethod::kBackup, Scope::kAdmin, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 if (absl::Status allowed = CheckUnlimited(grant, "Backup");
                     !allowed.ok()) {
                   return allowed;
                 }
                 return StoreResult(
                     engine.Backup(request->destination_dir(), absl::Now()),
                     response);
               });
}

grpc::ServerUnaryReactor* MatcherService::UpsertJob(
    grpc::CallbackServerContext* context, const v1::UpsertJobRequest* request,
    v1::UpsertJobResponse* response) {
  return ServeAsync(
      context, RpcMethod::kUpsertJob, Scope::kWrite, *request,
      [request, response](Engine& engine, const KeyGrant& grant, auto done) {
        if (absl::Status allowed = CheckJobWrite(engine, grant, request->job());
            !allowed.ok()) {
          done(allowed);
          return;
        }
        engine.UpsertJobAsync(
            request->job(),
            [response, done](absl::StatusOr<v1::UpsertJobResponse> result) {
              done(StoreResult(std::move(result), response));
            });
      });
}

grpc::ServerReadReactor<v1::UpsertJobRequest>* MatcherService::BulkUpsertJobs(
    grpc::CallbackServerContext* context,
    v1::BulkUpsertJobsResponse* response) {
  auto [admitted, slot] = AdmitStream(context);
  return new BulkUpsertReactor<JobBulk>(context, std::move(admitted), response,
                                        metrics_, std::move(slot));
}

grpc::ServerUnaryReactor* MatcherService::GetJob(
    grpc::CallbackServerContext* context, const v1::GetJobRequest* request,
    v1::GetJobResponse* response) {
  return Serve(context, RpcMethod::kGetJob, Scope::kSearch, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 absl::StatusOr<v1::GetJobResponse> found =
                     engine.GetJob(request->id(), absl::Now());
                 if (found.ok()) {
                   if (absl::Status allowed = CheckStored(
                           grant, "job", request->id(),
                           found->job().request().local_authority());
                       !allowed.ok()) {
                     return allowed;
                   }
                 }
                 return StoreResult(std::move(found), response);
               });
}

grpc::ServerUnaryReactor* MatcherService::DeleteJob(
    grpc::CallbackServerContext* context, const v1::DeleteJobRequest* request,
    v1::DeleteJobResponse*) {
  return ServeAsync(
      context, RpcMethod::kDeleteJob, Scope::kWrite, *request,
      [request](Engine& engine, const KeyGrant& grant, auto done) {
        if (absl::Status allowed = CheckJobAccess(engine, grant, request->id());
            !allowed.ok()) {
          done(allowed);
          return;
        }
        engine.DeleteJobAsync(request->id(), done);
      });
}

grpc::ServerUnaryReactor* MatcherService::MatchJobs(
    grpc::CallbackServerContext* context, const v1::MatchJobsRequest* request,
    v1::MatchJobsResponse* response) {
  return Serve(context, RpcMethod::kMatchJobs, Scope::kSearch, *request,
               [&](Engine& engine, const KeyGrant& grant) {
                 return StoreResult(engine.MatchJobs(*request, absl::Now(),
                                                     grant.authorities()),
                                    response);
               });
}

// What a limited key may watch: its own jobs, PAs and authorities.
absl::Status MatcherService::CheckWatch(const Engine& engine,
                                        const KeyGrant& grant,
                                        const v1::WatchRequest& request) {
  if (grant.all_authorities()) return absl::OkStatus();
  switch (request.target_case()) {
    case v1::WatchRequest::kJobId:
      return CheckJobAccess(engine, grant, request.job_id());
    case v1::WatchRequest::kProfileId:
      return CheckProfileAccess(engine, grant, request.profile_id());
    case v1::WatchRequest::kLocalAuthorities:
      for (const std::string& code : request.local_authorities().codes()) {
        if (absl::Status allowed =
                CheckAuthority(grant, "local_authorities.codes", code);
            !allowed.ok()) {
          return allowed;
        }
      }
      return absl::OkStatus();
    case v1::WatchRequest::TARGET_NOT_SET:
      break;
  }
  return absl::OkStatus();  // the engine refuses a request without a target
}

grpc::ServerWriteReactor<v1::WatchEvent>* MatcherService::Watch(
    grpc::CallbackServerContext* context, const v1::WatchRequest* request) {
  absl::StatusOr<Admitted> admitted = Admit(context, Scope::kSearch, request);
  absl::StatusOr<Engine*> engine =
      admitted.ok() ? absl::StatusOr<Engine*>(admitted->engine)
                    : absl::StatusOr<Engine*>(admitted.status());
  if (admitted.ok()) {
    if (absl::Status allowed =
            CheckWatch(*admitted->engine, admitted->grant, *request);
        !allowed.ok()) {
      engine = allowed;
    }
  }
  return watch_hub_->Start(*request, std::move(engine));
}

}  // namespace pamatch
