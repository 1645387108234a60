#pragma once
// werkbench's client connections: one Faktory (or Redis) connection as a
// producer, a worker or an echo client with its requests in flight, and the
// epoll loop of a client thread that drives a set of them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/time_format.h"
#include "net/password.h"
#include "tools/werkbench/histogram.h"
#include "tools/werkbench/run.h"
#include "tools/werkctl/client_tls.h"

namespace werk::bench {

class Conn {
 public:
  enum class Role : uint8_t { kProducer, kWorker, kEcho };
  Conn(Run* run, Role role, Histogram* hist, Pacer* pacer = nullptr)
      : run_(run), role_(role), hist_(hist), pacer_(pacer) {}

  bool Open(std::string* error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(run_->o.port));
    inet_pton(AF_INET, run_->o.host.c_str(), &a.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      *error = std::string("connect: ") + std::strerror(errno);
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (run_->o.tls) {
      // The handshake on the blocking socket; the run's reads and writes go
      // through the session, non-blocking (after HELLO).
      auto tls = ctl::ClientTls::Handshake(
          fd_, run_->o.host, std::chrono::steady_clock::now() + std::chrono::seconds(10));
      if (!tls.ok()) {
        *error = std::string(tls.status().message());
        return false;
      }
      tls_ = std::move(*tls);
    }
    if (role_ == Role::kEcho || run_->o.protocol == "redis") return SetNonBlockingTls();
    // Blocking handshake, then non-blocking for the run.
    std::string hi = ReadLineBlocking();
    std::string hello = "HELLO {\"v\":2";
    const size_t s_at = hi.find("\"s\":\"");
    if (s_at != std::string::npos) {
      const size_t i_at = hi.find("\"i\":");
      const int iterations = std::atoi(hi.c_str() + i_at + 4);
      const std::string salt = hi.substr(s_at + 5, hi.find('"', s_at + 5) - s_at - 5);
      hello += ",\"pwdhash\":\"" + net::PasswordHash(run_->o.password, salt, iterations) + "\"";
    }
    hello += "}\r\n";
    if (tls_) {
      short wait = 0;
      std::string err;
      if (tls_->Write(hello.data(), hello.size(), &wait, &err) != ssize_t(hello.size())) {
        *error = "HELLO over TLS: " + err;
        return false;
      }
    } else {
      ::send(fd_, hello.data(), hello.size(), MSG_NOSIGNAL);
    }
    const std::string ok = ReadLineBlocking();
    if (ok != "+OK") {
      *error = "handshake failed: " + ok;
      return false;
    }
    return SetNonBlockingTls();
  }

  // With TLS, the socket turns non-blocking for the run (SSL_read and
  // SSL_write then answer "want read/write" instead of blocking).
  bool SetNonBlockingTls() {
    if (tls_) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return true;
  }

  int fd() const { return fd_; }

  // Queues requests up to the pipeline depth.
  void Fill() {
    while (int(inflight_.size()) < run_->o.pipeline && !run_->done.load(std::memory_order_relaxed)) {
      if (!IssueNext()) break;
    }
  }

  // Returns false when the connection is finished or broken.
  bool OnReadable() {
    char tmp[65536];
    while (true) {
      if (tls_) {
        short wait = 0;
        std::string err;
        const ssize_t n = tls_->Read(tmp, sizeof tmp, &wait, &err);
        if (n > 0) {
          in_.append(tmp, size_t(n));
          continue;
        }
        if (n < 0 && wait != 0) break;
        return false;
      }
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
      if (n > 0) {
        in_.append(tmp, size_t(n));
        continue;
      }
      if (n == 0) return false;
      if (errno == EAGAIN) break;
      return false;
    }
    size_t consumed = 0;
    while (true) {
      std::string_view rest(in_.data() + consumed, in_.size() - consumed);
      const size_t eol = rest.find("\r\n");
      if (eol == std::string_view::npos) break;
      size_t total = eol + 2;
      std::string_view body;
      if (rest[0] == '$' && rest.substr(0, 3) != "$-1") {
        const size_t len = std::strtoull(std::string(rest.substr(1, eol - 1)).c_str(), nullptr, 10);
        if (rest.size() < eol + 2 + len + 2) break;
        body = rest.substr(eol + 2, len);
        total = eol + 2 + len + 2;
      }
      OnReply(rest.substr(0, eol), body);
      consumed += total;
    }
    in_.erase(0, consumed);
    Fill();
    return Flush();
  }

  bool Flush() {
    while (out_off_ < out_.size()) {
      if (tls_) {
        short wait = 0;
        std::string err;
        const ssize_t n = tls_->Write(out_.data() + out_off_, out_.size() - out_off_, &wait, &err);
        if (n > 0) {
          out_off_ += size_t(n);
          continue;
        }
        if (n < 0 && wait != 0) return true;  // the same bytes again later
        return false;
      }
      const ssize_t n =
          ::send(fd_, out_.data() + out_off_, out_.size() - out_off_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out_off_ += size_t(n);
        continue;
      }
      if (n < 0 && errno == EAGAIN) return true;
      return false;
    }
    out_.clear();
    out_off_ = 0;
    return true;
  }
  bool idle() const { return inflight_.empty(); }

 private:
  struct Pending {
    Kind kind;
    uint64_t sent_ns;
    uint64_t count;  // jobs in a PUSH/PUSHB
  };

  std::string ReadLineBlocking() {
    std::string line;
    char c;
    short wait = 0;
    std::string err;
    while (tls_ ? tls_->Read(&c, 1, &wait, &err) == 1 : ::recv(fd_, &c, 1, 0) == 1) {
      if (c == '\n') break;
      if (c != '\r') line.push_back(c);
    }
    return line;
  }

  void Send(Kind kind, const std::string& line, uint64_t count) {
    out_ += line;
    out_ += "\r\n";
    inflight_.push_back({kind, NowNs(), count});
  }
  // A Redis command as a RESP array (job JSON contains quotes, which the
  // inline form would interpret).
  void SendResp(Kind kind, std::initializer_list<std::string_view> args, uint64_t count) {
    out_ += "*" + std::to_string(args.size()) + "\r\n";
    for (std::string_view a : args) {
      out_ += "$" + std::to_string(a.size()) + "\r\n";
      out_ += a;
      out_ += "\r\n";
    }
    inflight_.push_back({kind, NowNs(), count});
  }
  bool redis() const { return run_->o.protocol == "redis"; }

  bool IssueNext() {
    const Options& o = run_->o;
    switch (role_) {
      case Role::kEcho:
        Send(Kind::kRaw, "PING", 1);
        return true;
      case Role::kProducer: {
        if (pacer_ && !pacer_->Take()) return false;
        const bool bulk = o.scenario != "push" && o.scenario != "lifecycle";
        const uint64_t n = bulk ? uint64_t(o.batch) : 1;
        const uint64_t first = run_->next_job.fetch_add(n);
        if (first >= o.jobs) return false;
        const uint64_t last = std::min<uint64_t>(first + n, o.jobs);
        if (redis()) {
          // LPUSH takes many values: the bulk push of the Redis flow.
          std::vector<std::string> jobs;
          for (uint64_t i = first; i < last; ++i) jobs.push_back(JobJson(*run_, i));
          out_ += "*" + std::to_string(jobs.size() + 2) + "\r\n$5\r\nLPUSH\r\n$" +
                  std::to_string(o.queue.size()) + "\r\n" + o.queue + "\r\n";
          for (const auto& j : jobs) out_ += "$" + std::to_string(j.size()) + "\r\n" + j + "\r\n";
          inflight_.push_back({bulk ? Kind::kPushb : Kind::kPush, NowNs(), last - first});
        } else if (bulk) {
          std::string line = "PUSHB [";
          for (uint64_t i = first; i < last; ++i) {
            if (i != first) line += ',';
            line += JobJson(*run_, i);
          }
          line += ']';
          Send(Kind::kPushb, line, last - first);
        } else {
          Send(Kind::kPush, "PUSH " + JobJson(*run_, first), 1);
        }
        return true;
      }
      case Role::kWorker:
        if (!acks_.empty() && redis()) {
          SendResp(Kind::kAck, {"LREM", working_, "1", acks_.front()}, 1);
          acks_.pop_front();
          return true;
        }
        if (!acks_.empty()) {
          if (run_->fail_mode) {
            Send(Kind::kFail,
                 "FAIL {\"jid\":\"" + acks_.front() +
                     "\",\"errtype\":\"Bench\",\"message\":\"retry storm\"}",
                 1);
          } else {
            Send(Kind::kAck, "ACK {\"jid\":\"" + acks_.front() + "\"}", 1);
          }
          acks_.pop_front();
          return true;
        }
        if (fetching_) return false;  // one FETCH at a time per worker
        fetching_ = true;
        if (redis()) {
          if (working_.empty()) working_ = o.queue + ":working";
          SendResp(Kind::kFetch, {"BLMOVE", o.queue, working_, "RIGHT", "LEFT", "2"}, 0);
        } else {
          Send(Kind::kFetch, "FETCH " + o.queue, 0);
        }
        return true;
    }
    return false;
  }

  void OnReply(std::string_view head, std::string_view body) {
    if (inflight_.empty()) {
      ++run_->errors;
      return;
    }
    const Pending p = inflight_.front();
    inflight_.pop_front();
    hist_[int(p.kind)].Record(NowNs() - p.sent_ns);
    if (head.size() > 0 && head[0] == '-') {
      if (run_->errors++ < 5) std::fprintf(stderr, "error reply: %.*s\n", int(head.size()), head.data());
      return;
    }
    switch (p.kind) {
      case Kind::kPush:
      case Kind::kPushb:
        if (p.kind == Kind::kPushb && !redis() && body != "{}") ++run_->errors;
        if (run_->pushed.fetch_add(p.count) + p.count >= run_->target &&
            run_->o.scenario != "lifecycle" && run_->o.scenario != "drain")
          run_->done = true;
        break;
      case Kind::kFetch: {
        fetching_ = false;
        if (head == "$-1" || head == "*-1") break;
        uint64_t index;
        std::string jid;
        if (!JobIndex(*run_, body, &index, &jid) || index >= run_->o.jobs) {
          ++run_->errors;
          break;
        }
        // A retried job is delivered again on purpose; count repeats only
        // when jobs are ACKed.
        if (run_->delivered[index].exchange(1) != 0 && !run_->fail_mode) ++run_->duplicates;
        // Redis acknowledges by removing the exact payload from the working list.
        acks_.push_back(redis() ? std::string(body) : std::move(jid));
        break;
      }
      case Kind::kAck:
        if (redis() && head != ":1") {  // LREM found nothing to remove
          if (run_->errors++ < 5)
            std::fprintf(stderr, "LREM removed nothing: %.*s\n", int(head.size()), head.data());
        }
        if (run_->acked.fetch_add(1) + 1 >= run_->target) run_->done = true;
        break;
      case Kind::kRaw:
        if (run_->pushed.fetch_add(1) + 1 >= run_->target) run_->done = true;
        break;
      case Kind::kFail:
        if (run_->failed.fetch_add(1) + 1 >= run_->target) run_->done = true;
        break;
    }
  }

  Run* run_;
  Role role_;
  Histogram* hist_;
  Pacer* pacer_;
  int fd_ = -1;
  std::string in_;
  std::string out_;
  size_t out_off_ = 0;
  std::deque<Pending> inflight_;
  std::deque<std::string> acks_;
  bool fetching_ = false;
  std::string working_;
  std::unique_ptr<ctl::ClientTls> tls_;  // --tls
};

struct ThreadState {
  std::vector<std::unique_ptr<Conn>> conns;
  Histogram hist[kKinds];
  Pacer pacer;
};

inline void RunThread(Run* run, ThreadState* ts) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  for (auto& c : ts->conns) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c.get();
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd(), &ev);
    c->Fill();
    c->Flush();
  }
  epoll_event events[256];
  const bool paced = ts->pacer.rate > 0;
  while (!run->done.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(ep, events, 256, paced ? 1 : 100);
    if (paced) {
      // Tokens arrive with time, not with replies: offer them to every connection.
      ts->pacer.Refill(NowNs());
      for (auto& c : ts->conns) {
        c->Fill();
        if (!c->Flush()) {
          ++run->errors;
          run->done = true;
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Conn*>(events[i].data.ptr);
      if (!c->OnReadable()) {
        ++run->errors;
        run->done = true;
      }
    }
  }
  ::close(ep);
}

}  // namespace werk::bench
