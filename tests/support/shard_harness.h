#pragma once
// Runs a real Shard in the test's own thread, with a ManualClock and real
// loopback sockets: the test decides when the loop turns and what time it is,
// so timeouts of minutes (reservations, heartbeats) are tested in
// microseconds, deterministically.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/global_ops.h"
#include "core/journal.h"
#include "net/password.h"
#include "net/shard.h"
#include "net/shard_storage.h"
#include "wal/durability_gate.h"
#include "tests/support/reply_parser.h"

namespace werk::testing {

class ShardHarness;

class HarnessClient {
 public:
  HarnessClient(ShardHarness* h, int fd) : h_(h), fd_(fd) {}
  HarnessClient(HarnessClient&& o) noexcept : h_(o.h_), fd_(o.fd_), buf_(std::move(o.buf_)) {
    o.fd_ = -1;
  }
  HarnessClient& operator=(HarnessClient&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      h_ = o.h_;
      fd_ = o.fd_;
      buf_ = std::move(o.buf_);
      o.fd_ = -1;
    }
    return *this;
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
  // The next reply, turning the loops up to `turns` times; by default until a
  // reply comes or 10 s of real time passed (a real log's sync may be slow
  // on a busy machine: a test must not depend on how fast the disk is).
  std::optional<std::string> Read(int turns = -1);
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
  // With `options.data_dir` set, the shards recover from and log to that
  // directory (the real write-ahead log); otherwise each uses an in-memory
  // journal. `wall` is the manual clock's start. With `shards` > 1 the shards
  // form a group (mailbox and all) and are all turned by this thread; each
  // has its own listening port, so a test picks the shard a client talks to.
  // With `gated`, each in-memory journal sits behind a durability gate
  // (wal/durability_gate.h), as a replicated shard's log does: gate(i).
  explicit ShardHarness(net::ServerOptions options = {},
                        core::UnixNanos wall = 1'700'000'000 * core::kNanosPerSecond,
                        uint32_t shards = 1, bool gated = false)
      : clock_(wall), journals_(shards), storages_(shards) {
    for (uint32_t i = 0; i < shards; ++i) {
      shards_.push_back(std::make_unique<net::Shard>(options, clock_));
      if (options.data_dir.empty() && gated) {
        gates_.push_back(std::make_unique<wal::DurabilityGate>(
            &journals_[i], clock_, options.standby_timeout_ms * core::kNanosPerMilli));
        shards_[i]->AttachJournal(gates_[i].get());
        shards_[i]->runtime().AddParticipant(gates_[i].get());
      } else if (options.data_dir.empty()) {
        shards_[i]->AttachJournal(&journals_[i]);
      } else {
        auto st = net::OpenShardStorage(*shards_[i], options, clock_, i);
        if (!st.ok()) throw std::runtime_error(std::string(st.status().message()));
        storages_[i] = std::move(*st);
      }
    }
    if (shards > 1) {
      mailbox_ = std::make_unique<core::Mailbox>(shards);
      std::vector<net::Shard*> peers;
      for (auto& s : shards_) peers.push_back(s.get());
      for (uint32_t i = 0; i < shards; ++i)
        shards_[i]->JoinGroup(i, peers, mailbox_.get(), &group_);
    }
    if (!options.data_dir.empty()) {
      // As the server does: complete what a crash left half applied.
      std::vector<const core::StateMachine*> sms;
      for (auto& s : shards_) sms.push_back(&s->state());
      core::RollForwardPlan plan = core::PlanRollForward(sms, clock_.WallNow());
      for (uint32_t i = 0; i < shards; ++i) shards_[i]->RollForward(plan.per_shard[i]);
    }
    for (auto& s : shards_) s->PublishStats();
    for (auto& s : shards_) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      ::listen(fd, 128);
      socklen_t len = sizeof a;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
      listen_fds_.push_back(fd);
      ports_.push_back(ntohs(a.sin_port));
      s->AddListener(fd, net::Shard::Listener::kOwn);
    }
  }
  ~ShardHarness() {
    // A clean stop: everything appended becomes durable first.
    StopAll();
    for (auto& s : shards_) s->DrainStorage();
    shards_.clear();
    gates_.clear();
    mailbox_.reset();
    for (auto& st : storages_) {
      st.checkpointer.reset();
      st.gate.reset();
      st.wal.reset();
      st.storage.reset();
    }
    for (int fd : listen_fds_) ::close(fd);
  }
  const net::ShardStorage& storage(uint32_t i = 0) const { return storages_[i]; }

  // A client of shard `i`.
  HarnessClient Connect(uint32_t i = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(ports_[i]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    Pump(3);
    return HarnessClient(this, fd);
  }
  // Turns every shard's loop `n` times without sleeping long in any.
  void Pump(int n = 1) {
    const int64_t wait_ns = shards_.size() == 1 ? 1'000'000 : 200'000;
    for (int i = 0; i < n; ++i)
      for (auto& s : shards_)
        if (!s->stopped()) s->RunOnce(wait_ns);
  }
  // Asks every shard to stop and turns the loops until all have; false if
  // they did not within `turns`.
  bool StopAll(int turns = 10000) {
    for (auto& s : shards_) s->RequestStop();
    for (int i = 0; i < turns && !AllStopped(); ++i) Pump();
    return AllStopped();
  }
  // Turns only shard `i`'s loop (the others stall, as if slow or about to
  // crash).
  void PumpOnly(uint32_t i, int n = 1) {
    for (int k = 0; k < n; ++k)
      if (!shards_[i]->stopped()) shards_[i]->RunOnce(200'000);
  }
  // Moves time forward, then turns the loops.
  void Advance(int64_t ms) {
    clock_.Advance(ms * core::kNanosPerMilli);
    Pump(3);
  }
  uint32_t shard_count() const { return uint32_t(shards_.size()); }
  net::Shard& shard(uint32_t i = 0) { return *shards_[i]; }
  core::StateMachine& state(uint32_t i = 0) { return shards_[i]->state(); }
  core::ManualClock& clock() { return clock_; }
  core::VolatileJournal& journal(uint32_t i = 0) { return journals_[i]; }
  // The gate of shard `i`: the harness's when `gated`, else the log's.
  wal::DurabilityGate& gate(uint32_t i = 0) {
    return gates_.empty() ? *storages_[i].gate : *gates_[i];
  }
  int port(uint32_t i = 0) const { return ports_[i]; }

 private:
  bool AllStopped() const {
    for (auto& s : shards_)
      if (!s->stopped()) return false;
    return true;
  }

  core::ManualClock clock_;
  std::vector<core::VolatileJournal> journals_;
  std::vector<net::ShardStorage> storages_;
  std::vector<std::unique_ptr<wal::DurabilityGate>> gates_;
  std::unique_ptr<core::Mailbox> mailbox_;
  net::GroupShared group_;
  std::vector<std::unique_ptr<net::Shard>> shards_;
  std::vector<int> listen_fds_;
  std::vector<int> ports_;
};

inline bool HarnessClient::Fill() {
  char tmp[65536];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
  if (n > 0) buf_.append(tmp, size_t(n));
  return n != 0;
}

inline std::optional<std::string> HarnessClient::Read(int turns) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; turns < 0 ? std::chrono::steady_clock::now() < deadline : i < turns; ++i) {
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
