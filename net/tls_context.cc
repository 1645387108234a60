#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

namespace werk::net {

namespace fs = std::filesystem;

std::string TakeOpenSslErrors(const char* none) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string(none) : out;
}

namespace {

struct FreePkey {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct FreeBio {
  void operator()(BIO* b) const { BIO_free(b); }
};

// An encrypted key would make OpenSSL prompt on the terminal, which would
// hang a server started by a service manager: it gets no passphrase and
// fails to load instead.
int NoPassphrase(char*, int, int, void*) { return 0; }

// The file can be opened: errno says why not, which OpenSSL's queue says
// less plainly.
absl::Status CheckReadable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return absl::InvalidArgumentError(path + ": cannot read: " + std::strerror(errno));
  std::fclose(f);
  return absl::OkStatus();
}

std::string SubjectOf(X509* cert) {
  std::unique_ptr<BIO, FreeBio> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, size_t(n)) : std::string("(empty subject)");
}

std::string TimeOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (!ASN1_TIME_to_tm(t, &tm)) return "(unreadable time)";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::LoadFromConfigDir(
    const std::string& config_dir, std::vector<std::string>* warnings) {
  if (config_dir.empty()) return std::shared_ptr<const TlsContext>();
  const std::string key = (fs::path(config_dir) / kKeyFile).string();
  const std::string cert = (fs::path(config_dir) / kCertFile).string();
  std::error_code ec;
  const bool has_key = fs::exists(key, ec);
  const bool has_cert = fs::exists(cert, ec);
  if (has_key && has_cert) return Load(key, cert);
  // Faktory serves plaintext unless both are there; said aloud, since one
  // file alone most likely means TLS was meant.
  if ((has_key || has_cert) && warnings) {
    warnings->push_back((has_key ? key : cert) + " exists but " + (has_key ? cert : key) +
                        " does not: TLS needs both, the command port serves plaintext");
  }
  return std::shared_ptr<const TlsContext>();
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::Load(const std::string& key_path,
                                                                  const std::string& cert_path) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> t(new TlsContext());
  t->key_path_ = key_path;
  t->cert_path_ = cert_path;
  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!t->ctx_) return absl::InternalError("TLS: " + TakeOpenSslErrors());
  SSL_CTX* ctx = t->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Renegotiation lets a client make the server redo expensive handshakes
  // on one connection; no Faktory client uses it.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // The server-side session cache is one table behind a lock shared by
  // every shard; resumption still works through session tickets, which need
  // no server state.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // An idle connection (a worker parked in FETCH) gives back OpenSSL's
  // 16 KiB record buffers; the plaintext a write is made from is a
  // std::string that may move between a retry and the next.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);

  if (auto st = CheckReadable(key_path); !st.ok()) return st;
  if (auto st = CheckReadable(cert_path); !st.ok()) return st;

  std::unique_ptr<EVP_PKEY, FreePkey> key;
  {
    std::unique_ptr<BIO, FreeBio> bio(BIO_new_file(key_path.c_str(), "r"));
    if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  }
  if (!key) {
    return absl::InvalidArgumentError(
        key_path + ": not a usable PEM private key (an encrypted key is not supported: werk "
                   "cannot ask for its passphrase): " +
        TakeOpenSslErrors());
  }
  // The whole chain (server certificate first, then intermediates), as
  // Go's tls.LoadX509KeyPair reads it in Faktory.
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    return absl::InvalidArgumentError(cert_path + ": not a usable PEM certificate: " +
                                      TakeOpenSslErrors("no certificate in it"));
  }
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (!cert) return absl::InvalidArgumentError(cert_path + ": no certificate in it");
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(key_path + " does not belong to the certificate in " +
                                      cert_path + " (the key and the certificate do not match)");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(key_path + ": cannot use it with " + cert_path + ": " +
                                      TakeOpenSslErrors());
  }
  t->subject_ = SubjectOf(cert);
  t->not_after_ = TimeOf(X509_get0_notAfter(cert));
  t->expired_ = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
  return std::shared_ptr<const TlsContext>(std::move(t));
}

}  // namespace werk::net
