// The in-test TCP proxy (tests/support/fault_proxy.h) against a plain echo
// server: it forwards faithfully, and each fault does what it says. Timing
// enters only as generous bounds (a wait that must end, a delay that must
// at least have passed), never as a race the test could lose on a busy
// machine.

#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace werk::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kPatience = 20s;  // "eventually": far beyond any healthy wait

// Echoes every byte back on every connection, one thread per connection; a
// half-close is echoed as a half-close.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    accept_.join();
    ::close(fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (int c : conns_) ::shutdown(c, SHUT_RDWR);  // wakes their recv()
    for (auto& t : threads_) t.join();
    for (int c : conns_) ::close(c);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    for (;;) {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      ++accepted_;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(c);
      threads_.emplace_back([c] {
        char buf[65536];
        for (;;) {
          const ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          for (ssize_t off = 0; off < n;) {
            const ssize_t w = ::send(c, buf + off, size_t(n - off), MSG_NOSIGNAL);
            if (w <= 0) return;
            off += w;
          }
        }
        ::shutdown(c, SHUT_WR);
      });
    }
  }

  int fd_;
  uint16_t port_ = 0;
  std::thread accept_;
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
};

// A blocking client socket; -1 and errno if the connection was refused.
int Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

struct Socket {
  explicit Socket(int f) : fd(f) {}
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
  int fd;
};

void SendAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << errno;
    s.remove_prefix(size_t(n));
  }
}

// Reads until `n` bytes, EOF, an error or `patience` ran out.
std::string Recv(int fd, size_t n, std::chrono::milliseconds patience = kPatience) {
  std::string out;
  const auto until = Clock::now() + patience;
  char buf[65536];
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(left.count())) <= 0) break;
    const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, size_t(r));
  }
  return out;
}

// Whether the peer closed: EOF or a reset within `patience`.
bool ClosedByPeer(int fd, std::chrono::milliseconds patience = kPatience) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, int(patience.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

template <typename F>
bool Eventually(F cond) {
  const auto until = Clock::now() + kPatience;
  while (Clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    s[i] = char(seed >> 24);
  }
  return s;
}

TEST(FaultProxy, PassesBytesBothWaysUnchanged) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket c(Connect(proxy.port()));
  ASSERT_GE(c.fd, 0);
  SendAll(c.fd, "hello");
  EXPECT_EQ(Recv(c.fd, 5), "hello");
  // More than the proxy queues per direction, sent while reading, so both
  // directions fill and drain.
  const std::string big = Pattern(12u << 20, 7);
  std::thread writer([&] { SendAll(c.fd, big); });
  const std::string back = Recv(c.fd, big.size());
  writer.join();
  EXPECT_TRUE(back == big) << back.size();
  // The proxy counts a chunk after its send returns, which can be after the
  // client has read it: the count catches up, it is not there at once.
  EXPECT_TRUE(Eventually([&] { return proxy.forwarded_bytes() >= 2 * big.size(); }))
      << proxy.forwarded_bytes();
  EXPECT_EQ(proxy.connections(), 1u);
}

TEST(FaultProxy, AHalfCloseIsPassedOnAndTheConnectionEnds) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket c(Connect(proxy.port()));
  SendAll(c.fd, "last words");
  ::shutdown(c.fd, SHUT_WR);
  EXPECT_EQ(Recv(c.fd, 100), "last words");  // then EOF from the echo server, via the proxy
  EXPECT_TRUE(Eventually([&] { return proxy.connections() == 0; }));
}

TEST(FaultProxy, PauseHoldsEverythingAndResumeDeliversIt) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket c(Connect(proxy.port()));
  SendAll(c.fd, "before");
  EXPECT_EQ(Recv(c.fd, 6), "before");
  proxy.Pause();
  SendAll(c.fd, "during");
  EXPECT_EQ(Recv(c.fd, 6, 300ms), "");  // nothing comes back while paused
  EXPECT_EQ(proxy.connections(), 1u);   // and nothing was closed
  // A connection made while paused is accepted, and paused too.
  Socket c2(Connect(proxy.port()));
  ASSERT_GE(c2.fd, 0);
  SendAll(c2.fd, "second");
  proxy.Resume();
  EXPECT_EQ(Recv(c.fd, 6), "during");
  EXPECT_EQ(Recv(c2.fd, 6), "second");
  EXPECT_EQ(proxy.dropped_bytes(), 0u);
}

TEST(FaultProxy, CutClosesConnectionsAndRefusesNewOnesUntilPass) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket c(Connect(proxy.port()));
  SendAll(c.fd, "x");
  EXPECT_EQ(Recv(c.fd, 1), "x");
  proxy.Cut(FaultProxy::NewConnections::kRefuse);
  EXPECT_EQ(proxy.connections(), 0u);
  EXPECT_TRUE(ClosedByPeer(c.fd));
  EXPECT_EQ(Connect(proxy.port()), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  proxy.Pass();  // the same port accepts again
  Socket c2(Connect(proxy.port()));
  ASSERT_GE(c2.fd, 0);
  SendAll(c2.fd, "again");
  EXPECT_EQ(Recv(c2.fd, 5), "again");
}

TEST(FaultProxy, CutCanKeepAcceptingNewConnections) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket a(Connect(proxy.port()));
  Socket b(Connect(proxy.port()));
  ASSERT_TRUE(Eventually([&] { return proxy.connections() == 2; }));
  proxy.Cut(FaultProxy::NewConnections::kAccept);
  EXPECT_TRUE(ClosedByPeer(a.fd));
  EXPECT_TRUE(ClosedByPeer(b.fd));
  Socket c(Connect(proxy.port()));
  ASSERT_GE(c.fd, 0);
  SendAll(c.fd, "new");
  EXPECT_EQ(Recv(c.fd, 3), "new");
  EXPECT_EQ(proxy.accepted(), 3u);
}

TEST(FaultProxy, DelayHoldsEachChunkAtLeastThatLong) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket c(Connect(proxy.port()));
  proxy.Delay(150);
  const auto start = Clock::now();
  SendAll(c.fd, "slow");
  EXPECT_EQ(Recv(c.fd, 4), "slow");
  // Held once each way.
  EXPECT_GE(Clock::now() - start, 300ms);
  proxy.Pass();
  SendAll(c.fd, "fast");
  EXPECT_EQ(Recv(c.fd, 4), "fast");
}

TEST(FaultProxy, BlackholeDropsBothWaysAndKeepsTheConnection) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  Socket c(Connect(proxy.port()));
  proxy.Blackhole();
  SendAll(c.fd, "lost");
  ASSERT_TRUE(Eventually([&] { return proxy.dropped_bytes() == 4; }));
  EXPECT_TRUE(Eventually([&] { return echo.accepted() == 1; }));  // the proxy did connect
  EXPECT_EQ(Recv(c.fd, 4, 200ms), "");
  EXPECT_EQ(proxy.connections(), 1u);
  proxy.Resume();
  SendAll(c.fd, "kept");
  EXPECT_EQ(Recv(c.fd, 4), "kept");  // "lost" never arrives
}

TEST(FaultProxy, ATargetThatIsDownClosesTheClient) {
  uint16_t dead_port;
  {
    EchoServer gone;
    dead_port = gone.port();
  }
  FaultProxy proxy(dead_port);
  Socket c(Connect(proxy.port()));
  ASSERT_GE(c.fd, 0);
  EXPECT_TRUE(ClosedByPeer(c.fd));
  EXPECT_EQ(proxy.connections(), 0u);
}

TEST(FaultProxy, ControlFromSeveralThreadsWhileTrafficFlows) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  std::atomic<bool> stop{false};
  std::vector<std::thread> controllers;
  for (int t = 0; t < 3; ++t) {
    controllers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        switch ((i + t) % 4) {
          case 0:
            proxy.Pause();
            break;
          case 1:
            proxy.Resume();
            break;
          case 2:
            proxy.Delay(1);
            break;
          case 3:
            proxy.Pass();
            break;
        }
      }
    });
  }
  Socket c(Connect(proxy.port()));
  const std::string data = Pattern(256u << 10, 3);
  std::thread writer([&] { SendAll(c.fd, data); });
  // Every state the controllers leave it in forwards eventually, and none
  // of them loses or reorders a byte.
  std::string back;
  const auto until = Clock::now() + kPatience;
  while (back.size() < data.size() && Clock::now() < until) {
    back += Recv(c.fd, data.size() - back.size(), 100ms);
  }
  stop = true;
  for (auto& t : controllers) t.join();
  proxy.Pass();
  back += Recv(c.fd, data.size() - back.size());
  writer.join();
  EXPECT_TRUE(back == data) << back.size();
}

TEST(FaultProxy, ShutsDownCleanlyWithConnectionsOpenAndPaused) {
  EchoServer echo;
  Socket c(-1);
  {
    FaultProxy proxy(echo.port());
    c.fd = Connect(proxy.port());
    SendAll(c.fd, "x");
    EXPECT_EQ(Recv(c.fd, 1), "x");
    proxy.Pause();
    SendAll(c.fd, std::string(10000, 'y'));
  }
  EXPECT_TRUE(ClosedByPeer(c.fd));
}

}  // namespace
}  // namespace werk::testing
