#include "tools/werkctl/client_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

namespace werk::ctl {
namespace {

std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

bool IsAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

int PollFor(int fd, short events, ClientTls::Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, int(left.count()));
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClientTls>> ClientTls::Handshake(int fd, const std::string& host,
                                                               Deadline deadline) {
  ERR_clear_error();
  std::unique_ptr<ClientTls> t(new ClientTls());
  t->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!t->ctx_) return absl::InternalError("TLS: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(t->ctx_) != 1)
    return absl::InternalError("TLS: no trusted CAs: " + OpenSslErrors());
  t->ssl_ = SSL_new(t->ctx_);
  if (!t->ssl_ || SSL_set_fd(t->ssl_, fd) != 1)
    return absl::InternalError("TLS: " + OpenSslErrors());
  X509_VERIFY_PARAM* param = SSL_get0_param(t->ssl_);
  if (IsAddress(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    SSL_set_tlsext_host_name(t->ssl_, host.c_str());
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  for (;;) {
    const int r = SSL_connect(t->ssl_);
    if (r == 1) return t;
    const int err = SSL_get_error(t->ssl_, r);
    short wait = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (wait == 0) {
      const long verify = SSL_get_verify_result(t->ssl_);
      if (verify != X509_V_OK)
        return absl::UnavailableError(std::string("TLS: the server's certificate is not trusted: ") +
                                      X509_verify_cert_error_string(verify));
      return absl::UnavailableError("TLS handshake failed: " + OpenSslErrors());
    }
    const int ready = PollFor(fd, wait, deadline);
    if (ready == 0) return absl::DeadlineExceededError("TLS handshake: no answer in time");
    if (ready < 0) return absl::UnavailableError(std::string("TLS handshake: ") + std::strerror(errno));
  }
}

ClientTls::~ClientTls() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

ssize_t ClientTls::Result(int n, short* wait, std::string* error) {
  if (n > 0) return n;
  const int err = SSL_get_error(ssl_, n);
  *wait = 0;
  if (err == SSL_ERROR_WANT_READ) *wait = POLLIN;
  else if (err == SSL_ERROR_WANT_WRITE) *wait = POLLOUT;
  else if (err == SSL_ERROR_ZERO_RETURN) return 0;
  else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;  // closed without notify
  else *error = "TLS: " + OpenSslErrors();
  return -1;
}

ssize_t ClientTls::Write(const char* data, size_t size, short* wait, std::string* error) {
  ERR_clear_error();
  return Result(SSL_write(ssl_, data, int(size)), wait, error);
}

ssize_t ClientTls::Read(char* data, size_t size, short* wait, std::string* error) {
  ERR_clear_error();
  return Result(SSL_read(ssl_, data, int(size)), wait, error);
}

void ClientTls::Shutdown() {
  if (ssl_) SSL_shutdown(ssl_);
}

}  // namespace werk::ctl
