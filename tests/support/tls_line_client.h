#pragma once
// A blocking Faktory client over TLS for system tests (OpenSSL on the
// socket, socket timeouts on every read so a broken server fails the test
// instead of hanging it).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/support/reply_parser.h"
#include "tests/support/test_certs.h"

namespace werk::testing {

class TlsLineClient {
 public:
  // Connects to 127.0.0.1:`port` and runs the handshake, trusting only
  // `ca_pem` and expecting the certificate to name `host` (a DNS name, or
  // an IP address checked as one). ok() says whether it worked, error() why
  // not.
  // `configure`, if given, adjusts the client's context first (e.g. the
  // protocol versions it offers).
  TlsLineClient(int port, const std::string& ca_pem, const std::string& host = "localhost",
                const std::function<void(SSL_CTX*)>& configure = nullptr) {
    ctx_ = TestCerts::ClientContext(ca_pem);
    if (configure) configure(ctx_);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SetTimeoutMs(5000);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    in6_addr ip6;
    in_addr ip4;
    if (::inet_pton(AF_INET, host.c_str(), &ip4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &ip6) == 1) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
    } else {
      SSL_set1_host(ssl_, host.c_str());
      SSL_set_tlsext_host_name(ssl_, host.c_str());
    }
    ERR_clear_error();
    if (SSL_connect(ssl_) == 1) {
      ok_ = true;
    } else {
      error_ = ErrorString();
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) error_ += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
  }
  ~TlsLineClient() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  TlsLineClient(const TlsLineClient&) = delete;
  TlsLineClient& operator=(const TlsLineClient&) = delete;

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  SSL* ssl() const { return ssl_; }
  void SetTimeoutMs(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  void Send(const std::string& bytes) {
    size_t written = 0;
    if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) != 1 || written != bytes.size())
      throw std::runtime_error("TLS write failed: " + ErrorString());
  }
  // The next whole reply; nullopt on timeout, error or the end of the session.
  std::optional<std::string> Read() {
    while (true) {
      if (auto r = TakeReply(buf_)) return r;
      char tmp[16384];
      size_t n = 0;
      if (SSL_read_ex(ssl_, tmp, sizeof tmp, &n) != 1) return std::nullopt;
      buf_.append(tmp, n);
    }
  }
  std::string ReadOrFail() {
    auto r = Read();
    return r ? *r : std::string("<no reply>");
  }
  std::string Call(const std::string& line) {
    Send(line + "\r\n");
    return ReadOrFail();
  }
  // Reads until the session ends or a read times out; returns how, as
  // SSL_get_error says: SSL_ERROR_ZERO_RETURN for the server's close_notify
  // (a clean end), SSL_ERROR_SYSCALL or SSL_ERROR_SSL for a connection cut
  // without it, SSL_ERROR_WANT_READ for a timeout.
  int ReadToEnd(int timeout_ms = 30'000) {
    SetTimeoutMs(timeout_ms);
    char tmp[4096];
    size_t n = 0;
    while (SSL_read_ex(ssl_, tmp, sizeof tmp, &n) == 1) buf_.append(tmp, n);
    return SSL_get_error(ssl_, 0);
  }
  const std::string& buffered() const { return buf_; }

 private:
  static std::string ErrorString() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      if (!out.empty()) out += "; ";
      out += buf;
    }
    return out.empty() ? "connection closed" : out;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  std::string error_;
  std::string buf_;
};

}  // namespace werk::testing
