// Connections that hold slots without doing anything (issue 11, point 6): a
// flood of sockets that never authenticate, clients that trickle bytes,
// connections that go silent, peers that vanish. None of them may keep
// authenticated clients out.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "net/password.h"
#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Reads the greeting and authenticates; "" on success, else what went wrong.
std::string Authenticate(LineClient& c, const std::string& password, int timeout_ms = 5000) {
  const auto hi = c.Read(timeout_ms);
  if (!hi) return "no greeting";
  std::smatch m;
  if (!std::regex_search(*hi, m, std::regex(R"re("i":(\d+),"s":"([0-9a-f]+)")re")))
    return "greeting without a salt: " + *hi;
  const std::string hash = net::PasswordHash(password, m[2].str(), std::stoi(m[1]));
  if (!c.TrySend(R"(HELLO {"v":2,"pwdhash":")" + hash + "\"}\r\n")) return "send failed";
  const auto reply = c.Read(timeout_ms);
  if (!reply) return "no reply to HELLO";
  return *reply == "+OK\r\n" ? "" : "HELLO got " + *reply;
}

// Sockets that connect and never say HELLO; each one the server closes is
// opened again at the next round (every 10 ms), as the attack in the issue
// did with 3,000 of them.
class UnauthenticatedFlood {
 public:
  UnauthenticatedFlood(int port, int sockets) : port_(port) {
    fds_.assign(size_t(sockets), -1);
    thread_ = std::thread([this] { Run(); });
  }
  ~UnauthenticatedFlood() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_)
      if (fd >= 0) ::close(fd);
  }
  uint64_t reopened() const { return reopened_; }

 private:
  int Open() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS is fine
    return fd;
  }
  void Run() {
    std::vector<pollfd> p(fds_.size());
    while (!stop_) {
      for (size_t i = 0; i < fds_.size(); ++i) {
        if (fds_[i] < 0) {
          fds_[i] = Open();
          ++reopened_;
        }
        p[i] = {fds_[i], POLLIN, 0};
      }
      ::poll(p.data(), p.size(), 0);
      for (size_t i = 0; i < fds_.size(); ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[256];
        const ssize_t n = ::recv(fds_[i], buf, sizeof buf, 0);  // the greeting, or the end
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
          ::close(fds_[i]);
          fds_[i] = -1;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  int port_;
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> reopened_{0};
  std::thread thread_;
};

// With a password set, 300 sockets that never authenticate (more than the
// 276 sockets the old shared ceiling allowed with --connections-max 20) keep
// coming back as the server closes them. An authenticated client keeps
// working, and new clients still connect, authenticate and work.
TEST(ConnectionLimits, UnauthenticatedFloodDoesNotLockOutClients) {
  WerkdProcess server({.args = {"--connections-max", "20"}, .env = {{"FAKTORY_PASSWORD", "s3cret"}}});
  LineClient early(server.port());
  ASSERT_EQ(Authenticate(early, "s3cret"), "");
  UnauthenticatedFlood flood(server.port(), 300);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the pool fills up
  for (int i = 0; i < 10; ++i) {
    LineClient c(server.port());
    ASSERT_EQ(Authenticate(c, "s3cret"), "") << "client " << i << " (flood reopened "
                                             << flood.reopened() << " sockets)";
    const std::string jid = "flooded-" + std::to_string(i);
    EXPECT_EQ(c.Call(R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[]})"), "+OK\r\n");
    EXPECT_EQ(early.Call("QUEUE LATENCY default").rfind("$", 0), 0u);
  }
  EXPECT_GT(flood.reopened(), 300u);  // the pool was full: the server closed some
}

// What each kind of client is doing during the test below.
struct Watched {
  LineClient c;
  const char* what;
  bool expect_closed;
  Clock::time_point closed_at{};
  bool closed = false;
};

bool PeerClosed(LineClient& c) {
  pollfd p{c.fd(), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[4096];
  const ssize_t n = ::recv(c.fd(), buf, sizeof buf, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN);
}

// With --idle-timeout 1: a client trickling a HELLO a byte at a time is
// closed at the handshake deadline (counted from accept), an authenticated
// one trickling a command without its newline and one sending nothing are
// closed after the idle timeout; a worker (a wid) that only BEATs and a
// client sending a command now and then stay.
TEST(ConnectionLimits, SilentAndTricklingClientsAreClosed) {
  WerkdProcess server({.args = {"--idle-timeout", "1"}});
  const int port = server.port();
  auto hello = [&](const std::string& json) {
    LineClient c(port);
    EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    if (!json.empty()) {
      EXPECT_EQ(c.Call("HELLO " + json), "+OK\r\n");
    }
    return c;
  };
  std::vector<Watched> w;
  w.push_back({hello(""), "trickling its HELLO", true});
  w.push_back({hello(R"({"v":2})"), "trickling a command", true});
  w.push_back({hello(R"({"v":2})"), "silent", true});
  w.push_back({hello(R"({"v":2,"wid":"idle-worker-1"})"), "a worker that BEATs", false});
  w.push_back({hello(R"({"v":2})"), "sending a command now and then", false});
  const std::string trickle_hello = R"(HELLO {"v":2,"hostname":"slow"})";
  const std::string trickle_command = R"(PUSH {"jid":"trickle-01","jobtype":"T","args":[]})";
  const auto start = Clock::now();
  // 4.2 s: twice the handshake deadline and four times the idle timeout.
  for (int tick = 0; tick < 21; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (Watched& x : w) {
      if (!x.closed && PeerClosed(x.c)) {
        x.closed = true;
        x.closed_at = Clock::now();
      }
    }
    if (!w[0].closed) w[0].c.TrySend(trickle_hello.substr(size_t(tick) % trickle_hello.size(), 1));
    if (!w[1].closed) w[1].c.TrySend(trickle_command.substr(size_t(tick) % trickle_command.size(), 1));
    if (tick % 3 == 0 && !w[3].closed) {
      EXPECT_EQ(w[3].c.Call(R"(BEAT {"wid":"idle-worker-1"})"), "+OK\r\n");
    }
    if (tick % 3 == 0 && !w[4].closed) {
      EXPECT_EQ(w[4].c.Call("QUEUE LATENCY default").rfind("$", 0), 0u);
    }
  }
  for (const Watched& x : w) {
    EXPECT_EQ(x.closed, x.expect_closed) << "the client " << x.what;
    if (x.closed)
      std::printf("the client %s was closed after %lld ms\n", x.what,
                  (long long)std::chrono::duration_cast<std::chrono::milliseconds>(x.closed_at - start)
                      .count());
  }
}

// Every accepted socket has TCP keepalive on, with werk's timings: the
// kernel shows the keepalive timer (timer kind 2 in /proc/net/tcp) on the
// server's side of an idle connection.
TEST(ConnectionLimits, AcceptedSocketsHaveKeepalive) {
  WerkdProcess server;
  LineClient c(server.port());
  ASSERT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ASSERT_EQ(::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &len), 0);
  char want[64];
  // The server's side: local port = the server's, remote port = ours.
  std::snprintf(want, sizeof want, "0100007F:%04X 0100007F:%04X 01", server.port(),
                unsigned(ntohs(local.sin_port)));
  std::string line;
  int timer = -1;
  long when_ticks = -1;
  for (int attempt = 0; attempt < 50 && timer != 2; ++attempt) {
    std::ifstream tcp("/proc/net/tcp");
    while (std::getline(tcp, line)) {
      if (line.find(want) == std::string::npos) continue;
      // ... st tx_queue:rx_queue tr:tm->when ...
      std::istringstream fields(line);
      std::string sl, local_addr, remote_addr, st, queues, timers;
      fields >> sl >> local_addr >> remote_addr >> st >> queues >> timers;
      timer = std::stoi(timers.substr(0, 2), nullptr, 16);
      when_ticks = std::stol(timers.substr(3), nullptr, 16);
    }
    if (timer != 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(timer, 2) << "no keepalive timer on the server's socket (" << want << ")";
  // USER_HZ (100) ticks until the first probe: about 60 s from now.
  const long hz = ::sysconf(_SC_CLK_TCK);
  EXPECT_GT(when_ticks, 30 * hz);
  EXPECT_LE(when_ticks, 61 * hz);
}

}  // namespace
}  // namespace werk::testing
