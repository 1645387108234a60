#pragma once
// The command port's TLS configuration, as Faktory 1.9 has it: when the
// config directory holds both private.key.pem and public.cert.pem, the port
// serves TLS only (at least TLS 1.2) with that key and certificate.
//
// Loaded once at startup, before any shard runs, and read-only afterwards:
// every shard makes its connections' sessions (net/tls_session.h) from the
// one SSL_CTX, which OpenSSL allows from any thread once the context is no
// longer being configured. The web server serves the same key and
// certificate: it can take this context, or the two paths, from
// ServerOptions::tls.

#include <memory>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

typedef struct ssl_ctx_st SSL_CTX;  // <openssl/ssl.h>, kept out of this header

namespace werk::net {

class TlsContext {
 public:
  static constexpr char kKeyFile[] = "private.key.pem";
  static constexpr char kCertFile[] = "public.cert.pem";

  // The context for `config_dir`: null when neither file is there (the port
  // serves plaintext, as in Faktory; a warning when only one of them is).
  // An unreadable or invalid file, or a key that does not belong to the
  // certificate, is an error naming the file: werkd refuses to start rather
  // than serve plaintext, or nothing, where TLS was meant.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> LoadFromConfigDir(
      const std::string& config_dir, std::vector<std::string>* warnings);
  // The same from two explicit paths.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> Load(const std::string& key_path,
                                                               const std::string& cert_path);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& cert_path() const { return cert_path_; }
  // The certificate's subject (RFC 2253, e.g. "CN=jobs.example.com") and
  // end of validity (UTC, "2027-12-04T15:00:00Z"), for the startup log.
  const std::string& subject() const { return subject_; }
  const std::string& not_after() const { return not_after_; }
  // The certificate's validity had already ended when it was loaded.
  bool expired() const { return expired_; }

 private:
  TlsContext() = default;

  SSL_CTX* ctx_ = nullptr;
  std::string key_path_;
  std::string cert_path_;
  std::string subject_;
  std::string not_after_;
  bool expired_ = false;
};

// OpenSSL's error queue of this thread as one line ("a; b"), emptied; `none`
// when it holds nothing.
std::string TakeOpenSslErrors(const char* none = "unknown error");

}  // namespace werk::net
