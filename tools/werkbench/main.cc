// werkbench: a load generator that speaks the Faktory protocol over real TCP,
// like a client would (bench-protocol.md). Connections are spread over a few
// epoll threads; each keeps `--pipeline` requests in flight (1 = plain
// request/response). It prints one JSON line per run, verifies what it
// measured (every job delivered exactly once in lifecycle/drain), and exits
// non-zero if it lost or duplicated a job.
//
//   werkbench --scenario push      --connections 64 --jobs 200000
//   werkbench --scenario pushb     --connections 8  --batch 1000 --jobs 2000000
//   werkbench --scenario lifecycle --producers 32 --workers 32 --jobs 200000
//   werkbench --scenario drain     --workers 32 --jobs 200000
//   werkbench --echo-server 7500   (the loopback reference: answers +OK to every line)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/clock.h"
#include "core/time_format.h"
#include "net/password.h"
#include "tools/werkbench/conn.h"
#include "tools/werkbench/histogram.h"
#include "tools/werkbench/run.h"

namespace werk::bench {
namespace {

std::string LatencyJson(const Histogram* h) {
  std::string s = "{";
  bool first = true;
  for (int k = 0; k < kKinds; ++k) {
    if (h[k].count() == 0) continue;
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s\"%s\":{\"count\":%llu,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}",
                  first ? "" : ",", kKindNames[k], (unsigned long long)h[k].count(),
                  double(h[k].Quantile(0.5)) / 1e3, double(h[k].Quantile(0.99)) / 1e3,
                  double(h[k].Quantile(0.999)) / 1e3, double(h[k].max()) / 1e3);
    s += buf;
    first = false;
  }
  return s + "}";
}

int RunEchoServer(int port) {
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 1024) != 0) {
    std::perror("echo server");
    return 1;
  }
  socklen_t alen = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &alen);
  std::fprintf(stderr, "echo server on 127.0.0.1 (port %d)\n", ntohs(a.sin_port));
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  epoll_event events[256];
  char buf[65536];
  while (true) {
    const int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == lfd) {
        const int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) continue;
        ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event cev{};
        cev.events = EPOLLIN;
        cev.data.fd = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        continue;
      }
      const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r <= 0) {
        ::close(fd);
        continue;
      }
      std::string out;
      for (ssize_t k = 0; k < r; ++k)
        if (buf[k] == '\n') out += "+OK\r\n";
      if (!out.empty()) (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    }
  }
}

}  // namespace
}  // namespace werk::bench

namespace werk::bench {
namespace {

// A blocking side connection (handshake done) for INFO polling and cleanup.
class Side {
 public:
  explicit Side(const Options& o) : run_(), conn_(&run_, Conn::Role::kWorker, hist_) {
    run_.o = o;
    std::string error;
    ok_ = conn_.Open(&error);
  }
  bool ok() const { return ok_; }
  // Sends one command and returns the reply (bulk body or status line).
  std::string Call(const std::string& line) {
    const std::string out = line + "\r\n";
    (void)::send(conn_.fd(), out.data(), out.size(), MSG_NOSIGNAL);
    std::string head;
    char c;
    while (::recv(conn_.fd(), &c, 1, 0) == 1 && c != '\n') head.push_back(c);
    if (!head.empty() && head.back() == '\r') head.pop_back();
    if (head.size() > 1 && head[0] == '$' && head != "$-1") {
      std::string body(std::stoul(head.substr(1)) + 2, '\0');
      size_t got = 0;
      while (got < body.size()) {
        const ssize_t n = ::recv(conn_.fd(), body.data() + got, body.size() - got, 0);
        if (n <= 0) break;
        got += size_t(n);
      }
      body.resize(body.size() - 2);
      return body;
    }
    return head;
  }
  // A number from INFO's JSON: the value after "key":
  static int64_t Field(const std::string& json, const std::string& key) {
    const size_t at = json.find("\"" + key + "\":");
    return at == std::string::npos ? -1 : std::atoll(json.c_str() + at + key.size() + 3);
  }

 private:
  Run run_;
  Histogram hist_[kKinds];
  Conn conn_;
  bool ok_ = false;
};

// Pushes o.jobs jobs with PUSHB from 4 connections (not part of the timing).
bool Preload(const Run& run, double* seconds) {
  Run preload;
  preload.o = run.o;
  preload.o.scenario = "pushb";
  preload.o.rate = 0;
  preload.run_id = run.run_id;
  preload.payload = run.payload;
  preload.extra_json = run.extra_json;
  preload.target = run.o.jobs;
  std::vector<ThreadState> pt(1);
  for (int i = 0; i < 4; ++i) {
    auto c = std::make_unique<Conn>(&preload, Conn::Role::kProducer, pt[0].hist);
    std::string error;
    if (!c->Open(&error)) {
      std::fprintf(stderr, "werkbench: %s\n", error.c_str());
      return false;
    }
    pt[0].conns.push_back(std::move(c));
  }
  const auto start = Clock::now();
  RunThread(&preload, &pt[0]);
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return preload.errors == 0;
}

}  // namespace
}  // namespace werk::bench

int main(int argc, char** argv) {
  using namespace werk::bench;
  Options o;
  int echo_port = 0;
  CLI::App app{"werkbench: Faktory-protocol load generator"};
  app.add_option("--scenario", o.scenario,
                 "push, pushb, lifecycle, drain, schedule-burst, retry-storm or echo")
      ->check(CLI::IsMember(
          {"push", "pushb", "lifecycle", "drain", "schedule-burst", "retry-storm", "echo"}));
  app.add_option("--host", o.host, "server address");
  app.add_option("--port", o.port, "server port");
  app.add_option("--password", o.password, "server password (or FAKTORY_PASSWORD)");
  app.add_flag("--tls", o.tls,
               "TLS to the server (TLS 1.2+, its certificate checked against the trusted CAs "
               "and --host; a private CA through SSL_CERT_FILE)");
  app.add_option("--connections", o.connections, "connections for push/pushb/echo");
  app.add_option("--producers", o.producers, "producer connections (lifecycle)");
  app.add_option("--workers", o.workers, "worker connections (lifecycle, drain, bursts)");
  app.add_option("--threads", o.threads, "client threads");
  app.add_option("--pipeline", o.pipeline, "requests in flight per connection");
  app.add_option("--batch", o.batch, "jobs per PUSHB");
  app.add_option("--jobs", o.jobs, "jobs (or requests for echo) in the run");
  app.add_option("--args-bytes", o.args_bytes, "size of each job's args");
  app.add_option("--queue", o.queue, "queue name (default: a new queue per run, removed after)");
  app.add_option("--rate", o.rate, "push: target requests/s over all connections (paced)");
  app.add_option("--protocol", o.protocol,
                 "faktory, or redis: the same push/fetch/ack flow on Redis lists (the peer)")
      ->check(CLI::IsMember({"faktory", "redis"}));
  app.add_option("--lead-seconds", o.lead_seconds,
                 "schedule-burst: seconds from the start until the jobs are due (0: estimate)");
  app.add_flag("--progress", o.progress, "print progress every second");
  app.add_flag("--keep", o.keep, "leave the pushed jobs and the queue on the server");
  app.add_option("--echo-server", echo_port,
                 "run the echo reference server on this port (0: any free port, printed)");
  CLI11_PARSE(app, argc, argv);
  if (app.count("--echo-server")) return RunEchoServer(echo_port);
  if (o.password.empty())
    if (const char* p = std::getenv("FAKTORY_PASSWORD")) o.password = p;

  Run run;
  run.o = o;
  run.run_id = "b" + std::to_string(NowNs() % 1'000'000'000'000);
  run.payload = "[\"" + std::string(size_t(std::max(0, o.args_bytes - 4)), 'x') + "\"]";
  if (run.o.queue.empty()) run.o.queue = "bench-" + run.run_id;
  o.queue = run.o.queue;
  run.target = o.jobs;
  run.delivered.reset(new std::atomic<uint8_t>[o.jobs]());

  std::vector<ThreadState> threads(size_t(std::max(1, o.threads)));
  for (auto& t : threads) t.pacer.rate = o.rate / double(threads.size());
  auto add = [&](Conn::Role role, int count) -> bool {
    for (int i = 0; i < count; ++i) {
      ThreadState& ts = threads[size_t(i) % threads.size()];
      auto c = std::make_unique<Conn>(&run, role, ts.hist, &ts.pacer);
      std::string error;
      if (!c->Open(&error)) {
        std::fprintf(stderr, "werkbench: %s\n", error.c_str());
        return false;
      }
      ts.conns.push_back(std::move(c));
    }
    return true;
  };

  // Scenario-specific extra output, and preloading.
  std::string extra_out;
  double preload_s = 0;
  std::thread monitor;
  double due_lag_ms = -1;
  if (o.scenario == "drain" && !Preload(run, &preload_s)) return 1;
  if (o.scenario == "retry-storm") {
    // Every job fails twice: once into the retry set (15-44 s later it is
    // back), then into the dead set. Done when all N are dead.
    run.extra_json = ",\"retry\":1";
    run.fail_mode = true;
    run.target = 2 * o.jobs;
    if (!Preload(run, &preload_s)) return 1;
  }
  werk::core::UnixNanos due = 0;
  if (o.scenario == "schedule-burst") {
    // All N jobs due at the same instant; measure how long after it the
    // server has them all in the queue, then drain (verifying each once).
    const double estimate = double(o.jobs) / 150000.0 + 2.0;
    const double lead = o.lead_seconds > 0 ? o.lead_seconds : estimate;
    due = werk::core::SystemClock::Instance().WallNow() +
          werk::core::UnixNanos(lead * 1e9);
    run.extra_json = ",\"at\":\"" + werk::core::FormatRfc3339Nano(due) + "\"";
    if (!Preload(run, &preload_s)) return 1;
    if (werk::core::SystemClock::Instance().WallNow() >= due) {
      std::fprintf(stderr, "werkbench: pushing took longer than the lead; use --lead-seconds\n");
      return 1;
    }
    monitor = std::thread([&o, &due_lag_ms, due] {
      Side side(o);
      if (!side.ok()) return;
      while (true) {
        const std::string info = side.Call("INFO");
        const werk::core::UnixNanos now = werk::core::SystemClock::Instance().WallNow();
        if (now >= due && Side::Field(info, "scheduled") == 0) {
          due_lag_ms = double(now - due) / 1e6;
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(now >= due ? 2 : 20));
      }
    });
  }

  bool ok = true;
  if (o.scenario == "push" || o.scenario == "pushb") ok = add(Conn::Role::kProducer, o.connections);
  if (o.scenario == "lifecycle") ok = add(Conn::Role::kProducer, o.producers) && add(Conn::Role::kWorker, o.workers);
  if (o.scenario == "drain" || o.scenario == "schedule-burst" || o.scenario == "retry-storm")
    ok = add(Conn::Role::kWorker, o.workers);
  if (o.scenario == "echo") ok = add(Conn::Role::kEcho, o.connections);
  if (!ok) return 1;

  const auto start = Clock::now();
  std::vector<std::thread> ts;
  for (auto& t : threads) ts.emplace_back(RunThread, &run, &t);
  std::thread progress;
  if (o.progress) {
    progress = std::thread([&] {
      while (!run.done) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        std::fprintf(stderr, "pushed %llu acked %llu failed %llu errors %llu\n",
                     (unsigned long long)run.pushed.load(), (unsigned long long)run.acked.load(),
                     (unsigned long long)run.failed.load(), (unsigned long long)run.errors.load());
      }
    });
  }
  for (auto& t : ts) t.join();
  if (progress.joinable()) progress.join();
  if (monitor.joinable()) monitor.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  Histogram total[kKinds];
  for (auto& t : threads)
    for (int k = 0; k < kKinds; ++k) total[k].Merge(t.hist[k]);
  const bool consumes = o.scenario == "lifecycle" || o.scenario == "drain" ||
                        o.scenario == "schedule-burst" || o.scenario == "retry-storm";
  uint64_t missing = 0;
  if (consumes)
    for (uint64_t i = 0; i < o.jobs; ++i) missing += run.delivered[i].load() == 0;
  uint64_t completed = consumes ? run.acked.load() : run.pushed.load();
  if (o.scenario == "retry-storm") {
    completed = run.failed.load() / 2;
    Side side(o);
    const int64_t dead = side.ok() ? Side::Field(side.Call("INFO"), "dead") : -1;
    extra_out += ",\"fails\":" + std::to_string(run.failed.load()) + ",\"dead\":" +
                 std::to_string(dead);
    if (!o.keep && side.ok()) side.Call(R"(MUTATE {"cmd":"clear","target":"dead"})");
  }
  if (o.scenario == "schedule-burst") {
    char buf[96];
    std::snprintf(buf, sizeof buf, ",\"all_enqueued_after_due_ms\":%.1f", due_lag_ms);
    extra_out += buf;
    std::snprintf(buf, sizeof buf, ",\"drained_after_due_ms\":%.1f",
                  double(werk::core::SystemClock::Instance().WallNow() - due) / 1e6);
    extra_out += buf;
  }
  if (preload_s > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, ",\"preload_seconds\":%.3f", preload_s);
    extra_out += buf;
  }
  const bool verified = run.errors == 0 && run.duplicates == 0 && missing == 0 &&
                        completed >= o.jobs && (o.scenario != "schedule-burst" || due_lag_ms >= 0);
  const int conns = o.scenario == "lifecycle" ? o.producers + o.workers
                    : consumes                ? o.workers
                                              : o.connections;
  std::printf(
      "{\"scenario\":\"%s\",\"connections\":%d,\"pipeline\":%d,\"jobs\":%llu,\"seconds\":%.3f,"
      "\"per_sec\":%.0f,\"errors\":%llu,\"duplicates\":%llu,\"missing\":%llu,\"verified\":%s%s,"
      "\"latency_us\":%s}\n",
      o.scenario.c_str(), conns, o.pipeline, (unsigned long long)completed, seconds,
      double(completed) / seconds, (unsigned long long)run.errors.load(),
      (unsigned long long)run.duplicates.load(), (unsigned long long)missing,
      verified ? "true" : "false", extra_out.c_str(), LatencyJson(total).c_str());
  if (o.scenario != "echo" && !o.keep) {
    // Leave nothing behind: drop this run's queue.
    Side side(o);
    if (side.ok()) {
      if (o.protocol == "redis") {
        const std::string del = "*3\r\n$3\r\nDEL\r\n$" + std::to_string(o.queue.size()) + "\r\n" +
                                o.queue + "\r\n$" + std::to_string(o.queue.size() + 8) + "\r\n" +
                                o.queue + ":working";
        side.Call(del);
      } else {
        side.Call("QUEUE REMOVE " + o.queue);
      }
    }
  }
  return verified ? 0 : 3;
}
