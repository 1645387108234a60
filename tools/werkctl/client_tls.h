#pragma once
// werkctl's side of TLS (tcp+tls://): one connection's OpenSSL session on
// the client's non-blocking socket. The server's certificate is checked
// against the system's trusted CAs (or SSL_CERT_FILE / SSL_CERT_DIR) and
// against the host name or address dialled; at least TLS 1.2.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include <absl/status/statusor.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace werk::ctl {

class ClientTls {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // The handshake on connected socket `fd`, by `deadline`.
  static absl::StatusOr<std::unique_ptr<ClientTls>> Handshake(int fd, const std::string& host,
                                                             Deadline deadline);
  ~ClientTls();
  ClientTls(const ClientTls&) = delete;
  ClientTls& operator=(const ClientTls&) = delete;

  // As send/recv on a non-blocking socket: bytes moved (> 0), 0 at the end
  // of the stream (Read), or -1 with `*wait` the poll event to wait for
  // (POLLIN/POLLOUT), or -1 with `*wait` 0 and `*error` set.
  ssize_t Write(const char* data, size_t size, short* wait, std::string* error);
  ssize_t Read(char* data, size_t size, short* wait, std::string* error);
  // close_notify, best effort.
  void Shutdown();

 private:
  ClientTls() = default;
  ssize_t Result(int n, short* wait, std::string* error);

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace werk::ctl
