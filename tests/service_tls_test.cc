// TLS and mTLS of the real pa-matchd binary, with certificates made by the
// `openssl` command at test time: a good handshake, an untrusted server and
// an expired certificate refused by the client, a client without a (good)
// certificate refused under mTLS, a reload on SIGHUP under live traffic with
// no failed call (and a bad reload keeping the old certificate), bad TLS
// files refused at start, the secure default (no plaintext listening off
// loopback without --insecure_listen; metrics, always HTTP, on loopback
// only), and the clients' channel helper.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/tls_channel.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pamatch/v1/matcher.grpc.pb.h"
#include "service/server.h"
#include "service/tls.h"
#include "tests/daemon_test_util.h"
#include "tests/engine_test_util.h"
#include "tests/service_test_util.h"

namespace pamatch {
namespace {

using ::pamatch::testing::CheckHealth;
using ::pamatch::testing::ContextWithKey;
using ::pamatch::testing::Daemon;
using ::pamatch::testing::kHealthServing;
using ::pamatch::testing::ReadAll;
using ::pamatch::testing::TempDir;
using ::testing::HasSubstr;

// A small PKI in a temporary directory, made with the openssl command:
//   ca.pem        the CA servers and clients trust
//   other_ca.pem  a CA nobody trusts
//   server1, server2   server certificates from ca (CN pa-matchd-1 / -2,
//                      subjectAltName 127.0.0.1 and localhost)
//   server_other       the same names, from other_ca
//   server_expired     from ca, valid 2020-01-01 to 2020-01-02 only
//   client, client_other, client_expired   client certificates (ca,
//                      other_ca, ca but expired)
// Each NAME has NAME.pem and NAME.key.
class Pki {
 public:
  Pki() {
    ok_ = MakeCa("ca", "pa-match test CA") &&
          MakeCa("other_ca", "untrusted test CA") &&
          Issue("ca", "server1", "pa-matchd-1", kServerExt) &&
          Issue("ca", "server2", "pa-matchd-2", kServerExt) &&
          Issue("other_ca", "server_other", "pa-matchd-1", kServerExt) &&
          IssueExpired("ca", "server_expired", "pa-matchd-1", "server") &&
          Issue("ca", "client", "integration", kClientExt) &&
          Issue("other_ca", "client_other", "integration", kClientExt) &&
          IssueExpired("ca", "client_expired", "integration", "client");
  }
  bool ok() const { return ok_; }
  std::string Path(const std::string& file) const {
    return dir_.path() + "/" + file;
  }
  std::string Log() const { return ReadAll(Path("openssl.log")); }

 private:
  static constexpr char kServerExt[] =
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
      "extendedKeyUsage=serverAuth\n";
  static constexpr char kClientExt[] = "extendedKeyUsage=clientAuth\n";
  static constexpr char kNewKey[] =
      "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

  bool Run(const std::string& command) const {
    const std::string line = absl::StrCat("cd '", dir_.path(), "' && ",
                                          command, " >>openssl.log 2>&1");
    return std::system(line.c_str()) == 0;
  }
  void Write(const std::string& file, const std::string& text) const {
    std::ofstream(Path(file)) << text;
  }
  bool MakeCa(const std::string& name, const std::string& cn) const {
    return Run(absl::StrCat("openssl req -x509 ", kNewKey, " -keyout ", name,
                            ".key -out ", name, ".pem -days 30 -subj '/CN=",
                            cn, "'"));
  }
  bool Issue(const std::string& ca, const std::string& name,
             const std::string& cn, const std::string& ext) const {
    Write(name + ".ext", ext);
    return Run(absl::StrCat("openssl req ", kNewKey, " -keyout ", name,
                            ".key -out ", name, ".csr -subj '/CN=", cn,
                            "'")) &&
           Run(absl::StrCat("openssl x509 -req -in ", name, ".csr -CA ", ca,
                            ".pem -CAkey ", ca, ".key -CAcreateserial -days 30",
                            " -extfile ", name, ".ext -out ", name, ".pem"));
  }
  // `openssl ca` (unlike `openssl x509`) sets both dates explicitly.
  bool IssueExpired(const std::string& ca, const std::string& name,
                    const std::string& cn, const std::string& kind) const {
    const std::string db = name + ".db";
    std::filesystem::create_directories(Path(db));
    Write(db + "/index.txt", "");
    Write(db + "/serial", "1000\n");
    Write(db + "/ca.cnf",
          absl::StrCat("[ca]\ndefault_ca = test_ca\n[test_ca]\n"
                       "database = index.txt\nnew_certs_dir = .\n"
                       "serial = serial\ndefault_md = sha256\n"
                       "policy = any\nunique_subject = no\n"
                       "[any]\ncommonName = supplied\n[ext]\n",
                       kind == "server" ? kServerExt : kClientExt));
    return Run(absl::StrCat("openssl req ", kNewKey, " -keyout ", name,
                            ".key -out ", name, ".csr -subj '/CN=", cn,
                            "'")) &&
           Run(absl::StrCat("cd ", db, " && openssl ca -batch -config ca.cnf",
                            " -cert ../", ca, ".pem -keyfile ../", ca,
                            ".key -in ../", name, ".csr -out ../", name,
                            ".pem -notext -extensions ext",
                            " -startdate 20200101000000Z",
                            " -enddate 20200102000000Z"));
  }

  TempDir dir_;
  bool ok_ = false;
};

// Client TLS options from the PKI's files ("" leaves one out).
ClientTlsOptions ClientTls(const Pki& pki, const std::string& ca,
                           const std::string& client = "") {
  ClientTlsOptions tls;
  tls.ca_file = pki.Path(ca + ".pem");
  if (!client.empty()) {
    tls.cert_file = pki.Path(client + ".pem");
    tls.key_file = pki.Path(client + ".key");
  }
  return tls;
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(
    const ClientTlsOptions& tls) {
  grpc::ChannelArguments ignored;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ClientChannelCredentials(tls, &ignored);
  EXPECT_TRUE(credentials.ok()) << credentials.status();
  return credentials.ok() ? *credentials : nullptr;
}

// A new channel with its own connection (gRPC would otherwise share one
// subchannel between channels with the same arguments).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                          const ClientTlsOptions& tls) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      CreateClientChannel(address, tls, args);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return channel.ok() ? *channel : nullptr;
}

// GetStats with `key`; *server_cn (if given) gets the CN of the server's
// certificate as the client saw it in this call's handshake.
grpc::Status GetStats(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& key, std::string* server_cn = nullptr) {
  std::unique_ptr<grpc::ClientContext> context = ContextWithKey(key);
  v1::GetStatsResponse stats;
  grpc::Status status = v1::Matcher::NewStub(channel)->GetStats(
      context.get(), v1::GetStatsRequest(), &stats);
  if (server_cn != nullptr && context->auth_context() != nullptr) {
    const std::vector<grpc::string_ref> cn =
        context->auth_context()->FindPropertyValues("x509_common_name");
    *server_cn = cn.empty() ? "" : std::string(cn.front().data(),
                                               cn.front().size());
  }
  return status;
}

class ServiceTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new Pki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pki_->ok()) << "openssl failed:\n" << pki_->Log();
  }

  // pa-matchd on a free loopback port with `extra` flags.
  std::vector<std::string> ServeArgs(std::vector<std::string> extra) const {
    std::vector<std::string> args = {
        "--listen=127.0.0.1:0", "--data_dir=" + data_dir_,
        "--taxonomy=" + testing::TaxonomyPath(), "--demo_profiles=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::vector<std::string> TlsFlags(const std::string& server,
                                    bool mutual = false) const {
    std::vector<std::string> flags = {
        "--tls_cert=" + pki_->Path(server + ".pem"),
        "--tls_key=" + pki_->Path(server + ".key")};
    if (mutual) flags.push_back("--tls_client_ca=" + pki_->Path("ca.pem"));
    return flags;
  }
  std::string AdminKey() const {
    return std::string(
        absl::StripAsciiWhitespace(ReadAll(data_dir_ + "/admin.key")));
  }
  // Waits up to 10 s for `text` in the daemon's log.
  static bool WaitForLog(const Daemon& daemon, const std::string& text) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (daemon.err().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // host:port from the "listening on" log line (WaitServing sets
  // Daemon::address only once the server answers health checks).
  static std::string ListenAddress(const Daemon& daemon) {
    const std::string log = daemon.err();
    const size_t at = log.find("listening on ");
    if (at == std::string::npos) return "";
    const size_t begin = at + 13;
    return log.substr(begin, log.find(' ', begin) - begin);
  }
  // Runs pa-matchd with `args` and expects it to refuse to start, saying
  // `message`.
  void ExpectRefused(std::vector<std::string> args,
                     const std::string& message) {
    Daemon daemon(dir_.path(), std::move(args));
    const int exit_status = daemon.Wait(std::chrono::seconds(60));
    ASSERT_TRUE(WIFEXITED(exit_status)) << daemon.err();
    EXPECT_EQ(WEXITSTATUS(exit_status), 1) << daemon.err();
    EXPECT_THAT(daemon.err(), HasSubstr(message));
    EXPECT_THAT(daemon.err(), ::testing::Not(HasSubstr("listening on")));
  }

  static Pki* pki_;
  TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
};

Pki* ServiceTlsTest::pki_ = nullptr;

TEST_F(ServiceTlsTest, GoodHandshakeServesCallsAndPlaintextIsRefused) {
  Daemon daemon(dir_.path(), ServeArgs(TlsFlags("server1")));
  std::shared_ptr<grpc::Channel> channel =
      daemon.WaitServing(Credentials(ClientTls(*pki_, "ca")));
  ASSERT_NE(channel, nullptr);
  EXPECT_THAT(daemon.err(), HasSubstr("(TLS;"));
  EXPECT_THAT(daemon.err(), HasSubstr("TLS: subject CN = pa-matchd-1"));
  std::string server_cn;
  grpc::Status status = GetStats(channel, AdminKey(), &server_cn);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(server_cn, "pa-matchd-1");
  // By name as well as by address (the certificate has both).
  const std::string port =
      daemon.address().substr(daemon.address().rfind(':') + 1);
  EXPECT_TRUE(GetStats(NewChannel("localhost:" + port, ClientTls(*pki_, "ca")),
                       AdminKey())
                  .ok());

  // A plaintext client gets no answer from a TLS port.
  grpc::Status plaintext;
  EXPECT_EQ(CheckHealth(grpc::CreateChannel(daemon.address(),
                                            grpc::InsecureChannelCredentials()),
                        "", &plaintext),
            -1);
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServiceTlsTest, ClientRefusesUntrustedServer) {
  Daemon daemon(dir_.path(), ServeArgs(TlsFlags("server_other")));
  ASSERT_NE(daemon.WaitServing(Credentials(ClientTls(*pki_, "other_ca"))),
            nullptr);
  // The client trusts only ca.pem; the server's certificate is from
  // other_ca.
  grpc::Status status =
      GetStats(NewChannel(daemon.address(), ClientTls(*pki_, "ca")), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  // And a name the certificate does not carry is refused too.
  ClientTlsOptions wrong_name = ClientTls(*pki_, "other_ca");
  wrong_name.server_name = "matcher.example.org";
  status = GetStats(NewChannel(daemon.address(), wrong_name), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

TEST_F(ServiceTlsTest, MutualTlsRefusesClientsWithoutAGoodCertificate) {
  Daemon daemon(dir_.path(), ServeArgs(TlsFlags("server1", /*mutual=*/true)));
  std::shared_ptr<grpc::Channel> channel =
      daemon.WaitServing(Credentials(ClientTls(*pki_, "ca", "client")));
  ASSERT_NE(channel, nullptr);
  EXPECT_THAT(daemon.err(), HasSubstr("(mTLS;"));
  EXPECT_TRUE(GetStats(channel, AdminKey()).ok());
  for (const std::string client : {"", "client_other", "client_expired"}) {
    grpc::Status status = GetStats(
        NewChannel(daemon.address(), ClientTls(*pki_, "ca", client)),
        AdminKey());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << "client certificate \"" << client << "\": "
        << status.error_message();
  }
}

TEST_F(ServiceTlsTest, ClientRefusesExpiredServerCertificate) {
  Daemon daemon(dir_.path(), ServeArgs(TlsFlags("server_expired")));
  // pa-matchd starts with it (an operator may be mid-rotation) but says so.
  ASSERT_TRUE(WaitForLog(daemon, "listening on")) << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("EXPIRED"));
  const std::string address = ListenAddress(daemon);
  grpc::Status status;
  EXPECT_EQ(CheckHealth(NewChannel(address, ClientTls(*pki_, "ca")), "",
                        &status),
            -1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  status = GetStats(NewChannel(address, ClientTls(*pki_, "ca")), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

// The certificate is replaced and SIGHUP sent while calls run without a
// pause on one long-lived connection and on a new connection each: no call
// fails; new handshakes get the new certificate while the old connection
// goes on with the old one; a bad set of files keeps the old certificate.
TEST_F(ServiceTlsTest, ReloadOnSighupUnderLiveTrafficFailsNoCall) {
  const std::string cert = dir_.path() + "/live.pem";
  const std::string key = dir_.path() + "/live.key";
  namespace fs = std::filesystem;
  const auto install = [&](const std::string& cert_from,
                           const std::string& key_from) {
    fs::copy_file(pki_->Path(cert_from), cert,
                  fs::copy_options::overwrite_existing);
    fs::copy_file(pki_->Path(key_from), key,
                  fs::copy_options::overwrite_existing);
  };
  install("server1.pem", "server1.key");
  Daemon daemon(dir_.path(),
                ServeArgs({"--tls_cert=" + cert, "--tls_key=" + key}));
  const ClientTlsOptions tls = ClientTls(*pki_, "ca");
  std::shared_ptr<grpc::Channel> long_lived =
      daemon.WaitServing(Credentials(tls));
  ASSERT_NE(long_lived, nullptr);
  const std::string admin_key = AdminKey();

  std::atomic<bool> stop{false};
  std::atomic<int> long_lived_calls{0}, new_channel_calls{0}, failed{0};
  std::atomic<int> seen_new_certificate{0};
  Mutex mu;
  std::string first_failure, long_lived_cn_after;
  std::thread on_long_lived([&] {
    while (!stop.load()) {
      std::string cn;
      grpc::Status status = GetStats(long_lived, admin_key, &cn);
      ++long_lived_calls;
      if (!status.ok()) {
        ++failed;
        MutexLock lock(&mu);
        if (first_failure.empty()) first_failure = status.error_message();
      }
      MutexLock lock(&mu);
      long_lived_cn_after = cn;
    }
  });
  std::thread on_new_channels([&] {
    while (!stop.load()) {
      std::string cn;
      grpc::Status status =
          GetStats(NewChannel(daemon.address(), tls), admin_key, &cn);
      ++new_channel_calls;
      if (!status.ok()) {
        ++failed;
        MutexLock lock(&mu);
        if (first_failure.empty()) first_failure = status.error_message();
      } else if (cn == "pa-matchd-2") {
        ++seen_new_certificate;
      }
    }
  });
  const auto wait_calls = [&](int more) {
    const int target = new_channel_calls.load() + more;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (new_channel_calls.load() < target &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  wait_calls(5);

  // A key that is not the certificate's: refused, the old set stays.
  install("server1.pem", "server2.key");
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(WaitForLog(daemon, "SIGHUP: keeping the old TLS certificate"))
      << daemon.err();
  EXPECT_THAT(daemon.err(), HasSubstr("is not the key of the certificate"));
  wait_calls(5);
  EXPECT_EQ(seen_new_certificate.load(), 0);

  // The new certificate.
  install("server2.pem", "server2.key");
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(WaitForLog(daemon, "TLS certificate reloaded: subject CN = "
                                 "pa-matchd-2"))
      << daemon.err();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen_new_certificate.load() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int long_lived_before_stop = long_lived_calls.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  on_long_lived.join();
  on_new_channels.join();

  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GE(seen_new_certificate.load(), 5);
  EXPECT_GT(long_lived_calls.load(), long_lived_before_stop);
  EXPECT_GE(new_channel_calls.load(), 15);
  MutexLock lock(&mu);
  // The long-lived connection was never re-established: it still has the
  // session of its first handshake.
  EXPECT_EQ(long_lived_cn_after, "pa-matchd-1");
}

TEST_F(ServiceTlsTest, BadTlsFlagsOrFilesAreRefusedAtStart) {
  ExpectRefused(ServeArgs({"--tls_cert=" + pki_->Path("server1.pem")}),
                "--tls_cert and --tls_key go together");
  ExpectRefused(ServeArgs({"--tls_client_ca=" + pki_->Path("ca.pem")}),
                "--tls_client_ca needs --tls_cert");
  ExpectRefused(ServeArgs({"--tls_cert=" + pki_->Path("server1.pem"),
                           "--tls_key=" + pki_->Path("server2.key")}),
                "is not the key of the certificate");
  ExpectRefused(ServeArgs({"--tls_cert=" + pki_->Path("server1.key"),
                           "--tls_key=" + pki_->Path("server1.key")}),
                "holds no PEM certificate");
  ExpectRefused(ServeArgs({"--tls_cert=" + pki_->Path("server1.pem"),
                           "--tls_key=" + pki_->Path("missing.key")}),
                "--tls_key: cannot read");
}

TEST_F(ServiceTlsTest, PlaintextOffLoopbackNeedsInsecureListen) {
  ExpectRefused(ServeArgs({"--listen=0.0.0.0:0"}),
                "--listen 0.0.0.0:0 is not a loopback address");
  ExpectRefused(ServeArgs({"--metrics_listen=0.0.0.0:0"}),
                "--metrics_listen 0.0.0.0:0 is not a loopback address");
  {
    Daemon daemon(dir_.path(),
                  ServeArgs({"--listen=0.0.0.0:0", "--insecure_listen"}));
    EXPECT_TRUE(WaitForLog(daemon, "(plaintext;")) << daemon.err();
  }
  // The metrics endpoint is HTTP even when gRPC has TLS (service/README.md,
  // "TLS"), so it stays on loopback.
  std::vector<std::string> tls = TlsFlags("server1");
  std::vector<std::string> args = ServeArgs(tls);
  args.push_back("--metrics_listen=0.0.0.0:0");
  ExpectRefused(args, "the metrics endpoint is plain HTTP");
  {
    // With TLS, gRPC on any address; metrics on loopback.
    args = ServeArgs(tls);
    args.push_back("--listen=0.0.0.0:0");
    args.push_back("--metrics_listen=127.0.0.1:0");
    Daemon daemon(dir_.path(), args);
    EXPECT_TRUE(WaitForLog(daemon, "(TLS;")) << daemon.err();
    EXPECT_THAT(daemon.err(), HasSubstr("metrics on http://127.0.0.1:"));
  }
}

TEST(ListenAddressTest, LoopbackAddressesAreRecognised) {
  for (const char* address :
       {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "[::1]:50051",
        "ipv4:127.0.0.1:1", "ipv6:[::1]:1", "unix:/tmp/pa.sock"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051",
        "pa-match.example.org:50051", "128.0.0.1:1", "[::2]:1", "50051"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(address)) << address;
  }
}

TEST(ClientTlsOptionsTest, BadOptionsNameTheFlag) {
  grpc::ChannelArguments args;
  ClientTlsOptions tls;
  tls.cert_file = "/nonexistent/client.pem";
  EXPECT_THAT(ClientChannelCredentials(tls, &args).status().message(),
              HasSubstr("--tls_cert and --tls_key go together"));
  tls = {};
  tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(ClientChannelCredentials(tls, &args).status().message(),
              HasSubstr("--tls_ca: cannot read /nonexistent/ca.pem"));
  tls = {};
  EXPECT_TRUE(ClientChannelCredentials(tls, &args).ok());  // plaintext
}

}  // namespace
}  // namespace pamatch
