#pragma once
// Runs a real Shard in the test's own thread, with a ManualClock and real
// loopback sockets: the test decides when the loop turns and what time it is,
// so timeouts of minutes (reservations, heartbeats) are tested in
// microseconds, deterministically.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/journal.h"
#include "net/password.h"
#include "net/shard.h"
#include "net/shard_storage.h"
#include "tests/support/reply_parser.h"

namespace werk::testing {

class ShardHarness;

class HarnessClient {
 public:
  HarnessClient(ShardHarness* h, int fd) : h_(h), fd_(fd) {}
  HarnessClient(HarnessClient&& o) noexcept : h_(o.h_), fd_(o.fd_), buf_(std::move(o.buf_)) {
    o.fd_ = -1;
  }
  ~HarnessClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += size_t(n);
    }
  }
  std::optional<std::string> Read(int turns = 200);
  std::string Call(const std::string& line) {
    Send(line + "\r\n");
    auto r = Read();
    return r ? *r : "<no reply>";
  }
  bool Closed(int turns = 200);
  // Reads the greeting and completes HELLO with `hello_json`; returns the reply.
  std::string Hello(const std::string& hello_json = R"({"v":2})");

 private:
  bool Fill();
  ShardHarness* h_;
  int fd_;
  std::string buf_;
};

class ShardHarness {
 public:
  // With `options.data_dir` set, the shard recovers from and logs to that
  // directory (the real write-ahead log); otherwise it uses an in-memory
  // journal. `wall` is the manual clock's start.
  explicit ShardHarness(net::ServerOptions options = {},
                        core::UnixNanos wall = 1'700'000'000 * core::kNanosPerSecond)
      : clock_(wall), shard_(std::make_unique<net::Shard>(options, clock_)) {
    if (options.data_dir.empty()) {
      shard_->AttachJournal(&journal_);
    } else {
      auto st = net::OpenShardStorage(*shard_, options, clock_);
      if (!st.ok()) throw std::runtime_error(std::string(st.status().message()));
      storage_ = std::move(*st);
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 128);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    shard_->AddListener(listen_fd_);
  }
  ~ShardHarness() {
    // A clean stop: everything appended becomes durable first.
    if (!shard_->stopped()) {
      shard_->RequestStop();
      for (int i = 0; i < 10000 && !shard_->stopped(); ++i) shard_->RunOnce(1'000'000);
    }
    shard_->DrainStorage();
    shard_.reset();
    storage_.checkpointer.reset();
    storage_.wal.reset();
    storage_.storage.reset();
    ::close(listen_fd_);
  }
  const net::ShardStorage& storage() const { return storage_; }

  HarnessClient Connect() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    Pump(3);
    return HarnessClient(this, fd);
  }
  // Turns the loop `n` times without sleeping more than a millisecond each.
  void Pump(int n = 1) {
    for (int i = 0; i < n; ++i) shard_->RunOnce(1'000'000);
  }
  // Moves time forward, then turns the loop.
  void Advance(int64_t ms) {
    clock_.Advance(ms * core::kNanosPerMilli);
    Pump(3);
  }
  net::Shard& shard() { return *shard_; }
  core::StateMachine& state() { return shard_->state(); }
  core::ManualClock& clock() { return clock_; }
  core::VolatileJournal& journal() { return journal_; }
  int port() const { return port_; }

 private:
  core::ManualClock clock_;
  core::VolatileJournal journal_;
  std::unique_ptr<net::Shard> shard_;
  net::ShardStorage storage_;
  int listen_fd_ = -1;
  int port_ = 0;
};

inline bool HarnessClient::Fill() {
  char tmp[65536];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
  if (n > 0) buf_.append(tmp, size_t(n));
  return n != 0;
}

inline std::optional<std::string> HarnessClient::Read(int turns) {
  for (int i = 0; i < turns; ++i) {
    if (auto r = TakeReply(buf_)) return r;
    h_->Pump();
    Fill();
  }
  return TakeReply(buf_);
}

inline bool HarnessClient::Closed(int turns) {
  for (int i = 0; i < turns; ++i) {
    h_->Pump();
    char tmp[4096];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n > 0) buf_.append(tmp, size_t(n));
    if (n < 0 && errno == ECONNRESET) return true;
  }
  return false;
}

inline std::string HarnessClient::Hello(const std::string& hello_json) {
  auto hi = Read();
  if (!hi) return "<no greeting>";
  return Call("HELLO " + hello_json);
}

}  // namespace werk::testing
