// Storage benchmarks (docs/PERFORMANCE.md "Storage"). A plain timed main:
//   write_bench upserts [CLIENTS=16] [SECONDS=10]
//       CLIENTS concurrent gRPC clients (one connection each) doing single
//       UpsertProfile against the Matcher service with sync (fsync'd WAL)
//       writes, on loopback, in this process: acknowledged upserts/s.
//   write_bench engine_upserts [THREADS=16] [SECONDS=10]
//       the same straight on Engine::Upsert, without gRPC.
//   write_bench bulk [PROFILES=200000]
//       one BulkUpsertProfiles stream of demo profiles: profiles/s.
//   write_bench restart [PROFILES=1000000]
//       loads PROFILES demo profiles through Engine::BulkUpsert (sync off),
//       then times Engine::Open on them, then pa-matchd's time from exec to
//       health SERVING on the same data dir (its "serving:" log line).
// Data dirs go to $PA_MATCH_BENCH_DIR (default /tmp) and are removed.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "demo/demo_data.h"
#include "engine/engine.h"
#include "service/api_keys.h"
#include "service/matcher_service.h"
#include "service/server.h"

extern char** environ;

namespace pamatch {
namespace {

std::string BenchDir(const std::string& name) {
  const char* base = std::getenv("PA_MATCH_BENCH_DIR");
  std::string dir = absl::StrCat(base ? base : "/tmp", "/pa-match-bench-",
                                 name, "-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::unique_ptr<Engine> OpenEngine(const std::string& dir, bool sync) {
  EngineOptions options;
  options.data_dir = dir + "/db";
  options.taxonomy_path = PA_MATCH_TAXONOMY;
  options.sync_writes = sync;
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(engine);
}

// An engine behind the Matcher service on a loopback port.
struct Served {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ApiKeyStore> keys;
  std::unique_ptr<MatcherService> service;
  StartedServer server;
  std::string key;
  std::string address;
};

std::unique_ptr<Served> Serve(const std::string& dir) {
  auto served = std::make_unique<Served>();
  served->engine = OpenEngine(dir, /*sync=*/true);
  auto created =
      CreateKeysFileIfMissing(dir + "/api_keys.txt", dir + "/admin.key");
  served->key = **created;
  served->keys = *ApiKeyStore::Open(dir + "/api_keys.txt");
  served->service = std::make_unique<MatcherService>(served->keys.get());
  served->service->SetEngine(served->engine.get());
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  served->server = *StartServer(options, served->service.get());
  SetServing(*served->server.server, true);
  served->address = absl::StrCat("127.0.0.1:", served->server.port);
  return served;
}

std::shared_ptr<grpc::Channel> NewConnection(const std::string& address,
                                             int n) {
  grpc::ChannelArguments args;
  args.SetInt("pa_match_bench_connection", n);  // a distinct subchannel
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

int RunUpserts(int clients, int seconds) {
  const std::string dir = BenchDir("upserts");
  auto served = Serve(dir);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, failed{0};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::Matcher::NewStub(NewConnection(served->address, c));
      const absl::Time now = absl::Now();
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        v1::UpsertProfileRequest request;
        *request.mutable_profile() = demo::GenerateDemoProfile(
            7, i % 5000, now, absl::StrCat("c", c, "-"));
        request.mutable_profile()->set_version(0);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(10));
        context.AddMetadata("authorization", "Bearer " + served->key);
        v1::UpsertProfileResponse response;
        const auto start = std::chrono::steady_clock::now();
        grpc::Status status = stub->UpsertProfile(&context, request, &response);
        latencies[c].push_back(std::chrono::duration<double, std::milli>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
        if (!status.ok() && failed.fetch_add(1) == 0) {
          std::fprintf(stderr, "first failure: %d %s\n",
                       static_cast<int>(status.error_code()),
                       status.error_message().c_str());
        }
        if (status.ok()) acked.fetch_add(1);
      }
    });
  }
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))];
  };
  std::printf(
      "upserts: %d clients, %.1f s: %lld acknowledged (%lld failed), "
      "%.0f upserts/s, latency p50 %.2f ms p99 %.2f ms\n",
      clients, elapsed, static_cast<long long>(acked.load()),
      static_cast<long long>(failed.load()), acked.load() / elapsed, pct(0.5),
      pct(0.99));
  served->server.server->Shutdown();
  served.reset();
  std::filesystem::remove_all(dir);
  return failed.load() == 0 ? 0 : 1;
}

// The same load straight on the engine (no gRPC): what storage alone does.
int RunEngineUpserts(int clients, int seconds) {
  const std::string dir = BenchDir("engine-upserts");
  auto engine = OpenEngine(dir, /*sync=*/true);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0};
  std::vector<std::thread> threads;
  const absl::Time now = absl::Now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        v1::Profile p = demo::GenerateDemoProfile(7, i % 5000, now,
                                                  absl::StrCat("c", c, "-"));
        p.set_version(0);
        if (engine->Upsert(p).ok()) acked.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (std::thread& t : threads) t.join();
  std::printf("engine upserts: %d threads, %d s: %.0f upserts/s\n", clients,
              seconds, acked.load() / static_cast<double>(seconds));
  engine.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

int RunBulk(int count) {
  const std::string dir = BenchDir("bulk");
  auto served = Serve(dir);
  const absl::Time now = absl::Now();
  std::vector<v1::UpsertProfileRequest> requests(count);
  for (int i = 0; i < count; ++i) {
    *requests[i].mutable_profile() =
        demo::GenerateDemoProfile(42, i, now, "pa-");
  }
  auto stub = v1::Matcher::NewStub(NewConnection(served->address, 0));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + served->key);
  v1::BulkUpsertProfilesResponse response;
  const auto start = std::chrono::steady_clock::now();
  auto writer = stub->BulkUpsertProfiles(&context, &response);
  for (const auto& request : requests) writer->Write(request);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  const double elapsed = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  std::printf("bulk: %d profiles in %.2f s: %.0f profiles/s (%lld accepted, "
              "%lld rejected, status %d)\n",
              count, elapsed, count / elapsed,
              static_cast<long long>(response.accepted()),
              static_cast<long long>(response.rejected()),
              static_cast<int>(status.error_code()));
  served->server.server->Shutdown();
  served.reset();
  std::filesystem::remove_all(dir);
  return status.ok() ? 0 : 1;
}

int RunRestart(int count) {
  const std::string dir = BenchDir("restart");
  {
    auto engine = OpenEngine(dir, /*sync=*/false);
    const absl::Time now = absl::Now();
    const auto start = std::chrono::steady_clock::now();
    std::vector<v1::Profile> batch;
    for (int i = 0; i < count; ++i) {
      batch.push_back(demo::GenerateDemoProfile(42, i, now, "pa-"));
      if (batch.size() == 1000 || i + 1 == count) {
        for (const auto& r : engine->BulkUpsert(batch)) {
          if (!r.ok()) std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        }
        batch.clear();
      }
    }
    const double elapsed = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start)
                               .count();
    std::printf("restart: loaded %d profiles (generate + Engine::BulkUpsert, "
                "sync off) in %.1f s: %.0f/s\n",
                count, elapsed, count / elapsed);
  }
  {
    const auto start = std::chrono::steady_clock::now();
    auto engine = OpenEngine(dir, /*sync=*/true);
    const double elapsed = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start)
                               .count();
    std::printf("restart: Engine::Open with %lld profiles: %.2f s\n",
                static_cast<long long>(engine->size()), elapsed);
  }
  std::string listen = "--listen=127.0.0.1:0";
  std::string data = "--data_dir=" + dir;
  std::string taxonomy = std::string("--taxonomy=") + PA_MATCH_TAXONOMY;
  std::string log_file = dir + "/stderr";
  std::vector<char*> argv = {const_cast<char*>(PA_MATCHD_PATH), listen.data(),
                             data.data(), taxonomy.data(), nullptr};
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const auto start = std::chrono::steady_clock::now();
  posix_spawn(&pid, PA_MATCHD_PATH, &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  // pa-matchd logs "serving: N profiles" right after it sets its health to
  // SERVING (service/main.cc), so its log times exec to SERVING without a
  // health client here.
  double serving = -1;
  while (std::chrono::steady_clock::now() - start < std::chrono::minutes(5)) {
    std::ifstream in(log_file);
    const std::string log((std::istreambuf_iterator<char>(in)), {});
    if (log.find(" pa-matchd: serving: ") != std::string::npos) {
      serving = std::chrono::duration<double>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(log_file);
  std::string log((std::istreambuf_iterator<char>(in)), {});
  std::printf("restart: pa-matchd exec to SERVING with %d profiles: %.2f s\n"
              "pa-matchd log:\n%s",
              count, serving, log.c_str());
  std::filesystem::remove_all(dir);
  return serving >= 0 ? 0 : 1;
}

}  // namespace
}  // namespace pamatch

// The modes and their arguments, with defaults (the file comment says more).
constexpr char kUsage[] =
    "usage: write_bench MODE [ARGS]; data dirs in $PA_MATCH_BENCH_DIR "
    "(default /tmp)\n"
    "  write_bench upserts [CLIENTS=16] [SECONDS=10]\n"
    "      sync UpsertProfile calls over gRPC on loopback: upserts/s\n"
    "  write_bench engine_upserts [THREADS=16] [SECONDS=10]\n"
    "      the same straight on Engine::Upsert\n"
    "  write_bench bulk [PROFILES=200000]\n"
    "      one BulkUpsertProfiles stream: profiles/s\n"
    "  write_bench restart [PROFILES=1000000]\n"
    "      Engine::Open and pa-matchd start times on PROFILES profiles\n";

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--help" || mode == "-h" || mode == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  auto arg = [&](int i, int fallback) {
    return argc > i ? std::atoi(argv[i]) : fallback;
  };
  if (mode == "upserts") return pamatch::RunUpserts(arg(2, 16), arg(3, 10));
  if (mode == "engine_upserts") {
    return pamatch::RunEngineUpserts(arg(2, 16), arg(3, 10));
  }
  if (mode == "bulk") return pamatch::RunBulk(arg(2, 200000));
  if (mode == "restart") return pamatch::RunRestart(arg(2, 1000000));
  std::fputs(kUsage, stderr);
  return 2;
}
