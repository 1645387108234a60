#pragma once
// A blocking Faktory client for system tests: one TCP connection, timeouts on
// every read so a broken server fails the test instead of hanging it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/support/reply_parser.h"

namespace werk::testing {

class LineClient {
 public:
  LineClient() = default;
  explicit LineClient(int port) { Connect(port); }
  ~LineClient() { Close(); }
  LineClient(LineClient&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) { o.fd_ = -1; }
  LineClient(const LineClient&) = delete;
  LineClient& operator=(LineClient&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = o.fd_;
      buf_ = std::move(o.buf_);
      o.fd_ = -1;
    }
    return *this;
  }

  void Connect(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

  void Send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += size_t(n);
    }
  }
  // Like Send, but reports failure instead of throwing (the server may close).
  bool TrySend(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += size_t(n);
    }
    return true;
  }

  // The next whole reply, or nullopt on timeout / EOF.
  std::optional<std::string> Read(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      if (auto r = TakeReply(buf_)) return r;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, int(left)) <= 0) return std::nullopt;
      char tmp[65536];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, size_t(n));
    }
  }
  std::string ReadOrFail(int timeout_ms = 5000) {
    auto r = Read(timeout_ms);
    return r ? *r : std::string("<no reply>");
  }
  // Sends `line` + CRLF and returns the reply.
  std::string Call(const std::string& line, int timeout_ms = 5000) {
    Send(line + "\r\n");
    return ReadOrFail(timeout_ms);
  }
  // True if the server closed the connection within `timeout_ms`.
  bool WaitClosed(int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char tmp[65536];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buf_.append(tmp, size_t(n));
    }
    return false;
  }
  const std::string& buffered() const { return buf_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

// A client past the handshake (no password): greeted, HELLO answered +OK.
// Throws otherwise, so a test or a tool fails loudly instead of talking to a
// connection that is not ready.
inline LineClient ReadyClient(int port) {
  LineClient c(port);
  if (!c.Read(5000)) throw std::runtime_error("no greeting");
  if (c.Call(R"(HELLO {"v":2})") != "+OK\r\n") throw std::runtime_error("HELLO refused");
  return c;
}

}  // namespace werk::testing
