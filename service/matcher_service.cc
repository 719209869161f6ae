#include "service/matcher_service.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "service/grpc_status.h"

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

template <typename T>
absl::Status StoreResult(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

// One BulkUpsertProfiles call: reads the stream, upserts it kBulkBatchSize
// items at a time and answers with one result per item, in stream order.
// gRPC runs at most one of its callbacks at a time (one read outstanding),
// so it needs no lock. Deletes itself when the call is done.
class BulkUpsertReactor final
    : public grpc::ServerReadReactor<v1::UpsertProfileRequest> {
 public:
  // Finishes at once with the error if `engine` is not OK.
  BulkUpsertReactor(grpc::CallbackServerContext* context,
                    absl::StatusOr<Engine*> engine,
                    v1::BulkUpsertProfilesResponse* response)
      : context_(context), response_(response) {
    if (!engine.ok()) {
      Finish(ToGrpcStatus(engine.status()));
      return;
    }
    engine_ = *engine;
    StartRead(&item_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // End of the stream, or the call broke. A cancelled caller gets no
      // answer, so its unflushed tail is not stored either.
      if (context_->IsCancelled()) {
        Finish(grpc::Status::CANCELLED);
        return;
      }
      Flush();
      Finish(grpc::Status::OK);
      return;
    }
    Add();
    if (batch_.size() >= kBulkBatchSize) Flush();
    item_.Clear();
    StartRead(&item_);
  }

  void OnDone() override { delete this; }

 private:
  // Queues item_ for the next flush, or rejects it at once.
  void Add() {
    const int slot = response_->results_size();
    v1::BulkItemResult* result = response_->add_results();
    result->set_index(slot);
    result->set_id(item_.profile().id());
    if (absl::Status status = RejectUnknownFields(item_); !status.ok()) {
      Record(result, status, 0);
      return;
    }
    batch_.push_back(std::move(*item_.mutable_profile()));
    batch_slots_.push_back(slot);
  }

  void Flush() {
    if (batch_.empty()) return;
    std::vector<absl::StatusOr<v1::UpsertProfileResponse>> outcomes =
        engine_->BulkUpsert(batch_);
    for (size_t i = 0; i < batch_.size(); ++i) {
      v1::BulkItemResult* result = response_->mutable_results(batch_slots_[i]);
      if (i >= outcomes.size()) {
        Record(result, absl::InternalError("engine returned no result"), 0);
      } else if (outcomes[i].ok()) {
        Record(result, absl::OkStatus(), outcomes[i]->version());
      } else {
        Record(result, outcomes[i].status(), 0);
      }
    }
    batch_.clear();
    batch_slots_.clear();
  }

  void Record(v1::BulkItemResult* result, const absl::Status& status,
              int64_t version) {
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
  v1::BulkUpsertProfilesResponse* const response_;
  Engine* engine_ = nullptr;
  v1::UpsertProfileRequest item_;
  std::vector<v1::Profile> batch_;
  std::vector<int> batch_slots_;  // index in response_->results per batch_ item
};

}  // namespace

MatcherService::MatcherService(const ApiKeyStore* keys) : keys_(keys) {}

void MatcherService::SetEngine(Engine* engine) {
  engine_.store(engine, std::memory_order_release);
}

absl::StatusOr<Engine*> MatcherService::Admit(
    grpc::CallbackServerContext* context, Scope scope,
    const google::protobuf::Message* request) const {
  // Authentication comes first: an unknown caller learns nothing else.
  absl::StatusOr<std::string> key_name =
      keys_->Authorize(AuthorizationHeader(*context), scope);
  if (!key_name.ok()) return key_name.status();
  if (request != nullptr) {
    if (absl::Status status = RejectUnknownFields(*request); !status.ok()) {
      return status;
    }
  }
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) {
    return absl::UnavailableError("pa-matchd is starting up; retry shortly");
  }
  return engine;
}

template <typename Handler>
grpc::ServerUnaryReactor* MatcherService::Serve(
    grpc::CallbackServerContext* context, Scope scope,
    const google::protobuf::Message& request, Handler handler) {
  absl::StatusOr<Engine*> engine = Admit(context, scope, &request);
  const absl::Status status = engine.ok() ? handler(**engine) : engine.status();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

template <typename Handler>
grpc::ServerUnaryReactor* MatcherService::ServeBlocking(
    grpc::CallbackServerContext* context, Scope scope,
    const google::protobuf::Message& request, Handler handler) {
  absl::StatusOr<Engine*> engine = Admit(context, scope, &request);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!engine.ok()) {
    reactor->Finish(ToGrpcStatus(engine.status()));
    return reactor;
  }
  // The request and response live until Finish; so does the engine (the
  // server is shut down before it is detached).
  write_pool_.Run([reactor, handler, e = *engine]() mutable {
    reactor->Finish(ToGrpcStatus(handler(*e)));
  });
  return reactor;
}

grpc::ServerUnaryReactor* MatcherService::UpsertProfile(
    grpc::CallbackServerContext* context,
    const v1::UpsertProfileRequest* request,
    v1::UpsertProfileResponse* response) {
  return ServeBlocking(
      context, Scope::kWrite, *request, [request, response](Engine& engine) {
        return StoreResult(engine.Upsert(request->profile()), response);
      });
}

grpc::ServerReadReactor<v1::UpsertProfileRequest>*
MatcherService::BulkUpsertProfiles(grpc::CallbackServerContext* context,
                                   v1::BulkUpsertProfilesResponse* response) {
  return new BulkUpsertReactor(
      context, Admit(context, Scope::kWrite, /*request=*/nullptr), response);
}

grpc::ServerUnaryReactor* MatcherService::GetProfile(
    grpc::CallbackServerContext* context, const v1::GetProfileRequest* request,
    v1::GetProfileResponse* response) {
  return Serve(context, Scope::kSearch, *request, [&](Engine& engine) {
    return StoreResult(engine.GetProfile(request->id()), response);
  });
}

grpc::ServerUnaryReactor* MatcherService::DeleteProfile(
    grpc::CallbackServerContext* context,
    const v1::DeleteProfileRequest* request, v1::DeleteProfileResponse*) {
  return ServeBlocking(context, Scope::kWrite, *request,
                       [request](Engine& engine) {
                         return engine.DeleteProfile(request->id());
                       });
}

grpc::ServerUnaryReactor* MatcherService::Search(
    grpc::CallbackServerContext* context, const v1::SearchRequest* request,
    v1::SearchResponse* response) {
  return Serve(context, Scope::kSearch, *request, [&](Engine& engine) {
    return StoreResult(engine.Search(*request, absl::Now()), response);
  });
}

grpc::ServerUnaryReactor* MatcherService::SetPolicy(
    grpc::CallbackServerContext* context, const v1::SetPolicyRequest* request,
    v1::Policy* response) {
  return Serve(context, Scope::kAdmin, *request, [&](Engine& engine) {
    return StoreResult(engine.SetPolicy(request->policy(), absl::Now()),
                       response);
  });
}

grpc::ServerUnaryReactor* MatcherService::GetPolicy(
    grpc::CallbackServerContext* context, const v1::GetPolicyRequest* request,
    v1::Policy* response) {
  return Serve(context, Scope::kSearch, *request, [&](Engine& engine) {
    return StoreResult(engine.GetPolicy(request->local_authority()), response);
  });
}

grpc::ServerUnaryReactor* MatcherService::ListPolicies(
    grpc::CallbackServerContext* context,
    const v1::ListPoliciesRequest* request,
    v1::ListPoliciesResponse* response) {
  return Serve(context, Scope::kSearch, *request, [&](Engine& engine) {
    for (v1::Policy& policy : engine.ListPolicies()) {
      *response->add_policies() = std::move(policy);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MatcherService::DeletePolicy(
    grpc::CallbackServerContext* context,
    const v1::DeletePolicyRequest* request, v1::DeletePolicyResponse*) {
  return Serve(context, Scope::kAdmin, *request, [&](Engine& engine) {
    return engine.DeletePolicy(request->local_authority());
  });
}

grpc::ServerUnaryReactor* MatcherService::GetStats(
    grpc::CallbackServerContext* context, const v1::GetStatsRequest* request,
    v1::GetStatsResponse* response) {
  return Serve(context, Scope::kAdmin, *request, [&](Engine& engine) {
    *response = engine.Stats();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MatcherService::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  return Serve(context, Scope::kAdmin, *request, [&](Engine& engine) {
    return StoreResult(engine.Backup(request->destination_dir(), absl::Now()),
                       response);
  });
}

}  // namespace pamatch
