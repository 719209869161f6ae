// ServerTls (see tls.h).
#include "service/tls.h"

#include <grpc/grpc.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/tls_channel.h"

namespace pamatch {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// The PEM certificates in `pem`, in order.
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (bio != nullptr) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  return certs;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : "";
}

// "subject CN=..., serial 1A2B, expires Jan  1 00:00:00 2030 GMT".
std::string Describe(X509* cert) {
  std::string out = "subject ";
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_ONELINE);
  absl::StrAppend(&out, BioText(bio.get()));
  if (BIGNUM* serial =
          ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(serial)) {
      absl::StrAppend(&out, ", serial ", hex);
      OPENSSL_free(hex);
    }
    BN_free(serial);
  }
  BioPtr expiry(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(expiry.get(), X509_get0_notAfter(cert));
  absl::StrAppend(&out, ", expires ", BioText(expiry.get()));
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    absl::StrAppend(&out, " (EXPIRED: clients will refuse it)");
  }
  return out;
}

// grpc::ServerCredentials over C SSL server credentials that fetch their
// certificate config (see tls.h for why not gRPC's own C++ credentials).
class FetcherServerCredentials final : public grpc::ServerCredentials {
 public:
  // Takes ownership of `options`. (The base class has initialised gRPC by
  // the time the body runs.)
  explicit FetcherServerCredentials(
      grpc_ssl_server_credentials_options* options)
      : credentials_(grpc_ssl_server_credentials_create_with_options(options)) {
  }
  ~FetcherServerCredentials() override {
    grpc_server_credentials_release(credentials_);
  }
  // Calls are authenticated by API key in MatcherService, not by a
  // processor here; nothing sets one.
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), credentials_);
  }

  grpc_server_credentials* const credentials_;
};

}  // namespace

absl::StatusOr<TlsPem> LoadTlsPem(const ServerTlsFiles& files) {
  TlsPem pem;
  absl::StatusOr<std::string> cert = ReadPemFlagFile("tls_cert", files.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPemFlagFile("tls_key", files.key_file);
  if (!key.ok()) return key.status();
  std::vector<X509Ptr> chain = ParseCertificates(*cert);
  if (chain.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_cert: ", files.cert_file, " holds no PEM certificate"));
  }
  BioPtr key_bio(BIO_new_mem_buf(key->data(), static_cast<int>(key->size())));
  KeyPtr private_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (private_key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key: ", files.key_file,
                     " holds no PEM private key (unencrypted)"));
  }
  if (X509_check_private_key(chain.front().get(), private_key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key: ", files.key_file, " is not the key of the certificate in ",
        files.cert_file));
  }
  if (!files.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFlagFile("tls_client_ca", files.client_ca_file);
    if (!ca.ok()) return ca.status();
    if (ParseCertificates(*ca).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls_client_ca: ", files.client_ca_file,
          " holds no PEM certificate"));
    }
    pem.client_ca = *std::move(ca);
  }
  pem.description = Describe(chain.front().get());
  pem.cert_chain = *std::move(cert);
  pem.private_key = *std::move(key);
  return pem;
}

absl::StatusOr<std::shared_ptr<ServerTls>> ServerTls::Load(
    ServerTlsFiles files) {
  absl::StatusOr<TlsPem> pem = LoadTlsPem(files);
  if (!pem.ok()) return pem.status();
  return std::shared_ptr<ServerTls>(
      new ServerTls(std::move(files), *std::move(pem)));
}

ServerTls::ServerTls(ServerTlsFiles files, TlsPem pem)
    : files_(std::move(files)),
      mutual_(!files_.client_ca_file.empty()),
      pem_(std::move(pem)) {}

ServerTls::~ServerTls() = default;

absl::Status ServerTls::Reload() {
  absl::StatusOr<TlsPem> pem = LoadTlsPem(files_);
  if (!pem.ok()) return pem.status();
  MutexLock lock(&mu_);
  pem_ = *std::move(pem);
  ++generation_;
  return absl::OkStatus();
}

TlsPem ServerTls::CurrentPem() const {
  MutexLock lock(&mu_);
  return pem_;
}

int64_t ServerTls::generation() const {
  MutexLock lock(&mu_);
  return generation_;
}

std::shared_ptr<grpc::ServerCredentials> ServerTls::Credentials() {
  FetchState* state = nullptr;
  {
    MutexLock lock(&mu_);
    fetch_states_.push_back(std::make_unique<FetchState>(FetchState{this}));
    state = fetch_states_.back().get();
  }
  return std::make_shared<FetcherServerCredentials>(
      grpc_ssl_server_credentials_create_options_using_config_fetcher(
          mutual_ ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                  : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
          &ServerTls::Fetch, state));
}

// Called by gRPC (under its security connector's lock) when it builds the
// port's SSL context and then before every new handshake.
grpc_ssl_certificate_config_reload_status ServerTls::Fetch(
    void* state_arg, grpc_ssl_server_certificate_config** config) {
  FetchState* state = static_cast<FetchState*>(state_arg);
  ServerTls* self = state->owner;
  MutexLock lock(&self->mu_);
  if (state->fetched_generation == self->generation_) {
    return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  }
  const grpc_ssl_pem_key_cert_pair pair = {self->pem_.private_key.c_str(),
                                           self->pem_.cert_chain.c_str()};
  // gRPC 1.51 asserts that a fetched config has client root certificates
  // even when it asks for no client certificate; they are then unused (no
  // certificate request is sent), so without mTLS the server's own chain
  // stands in. The strings are copied.
  *config = grpc_ssl_server_certificate_config_create(
      self->mutual_ ? self->pem_.client_ca.c_str()
                    : self->pem_.cert_chain.c_str(),
      &pair, 1);
  state->fetched_generation = self->generation_;
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace pamatch
