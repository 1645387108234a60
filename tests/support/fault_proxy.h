#pragma once
// An in-test TCP proxy on 127.0.0.1 that forwards to a target port and
// misbehaves on command: the network faults a replication link must survive
// (a stall, a cut, a slow path, a black hole) made on demand, between real
// sockets, without root or tc.
//
//   FaultProxy proxy(target_port);    // listens on proxy.port()
//   ... connect to proxy.port() ...
//   proxy.Pause();                    // nothing moves either way; connections stay open
//   proxy.Resume();                   // what waited is forwarded
//   proxy.Cut(FaultProxy::NewConnections::kRefuse);  // close all; refuse new ones
//   proxy.Pass();                     // forward, no delay, accept again
//
// Every control call takes effect before it returns: bytes the test sends
// after Pause() returns are not forwarded, connections are closed when
// Cut() returns. Control calls may come from any thread.
//
// One thread runs the proxy: poll() over the listener, both sockets of every
// connection and an eventfd that wakes it for control calls. Each direction
// of a connection queues what it read (as chunks, each stamped with the time
// it may be forwarded) up to kQueueBytesMax, then stops reading, so a stalled
// side holds the other back as TCP would. A half-close is forwarded once the
// direction's queue is drained.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace werk::testing {

class FaultProxy {
 public:
  enum class NewConnections : uint8_t { kAccept, kRefuse };
  static constexpr size_t kQueueBytesMax = 4u << 20;  // per direction of a connection
  static constexpr size_t kReadChunkBytes = 64u << 10;

  explicit FaultProxy(uint16_t target_port) : target_port_(target_port) {
    listen_fd_ = Listen(0);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    Require(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0, "getsockname");
    port_ = ntohs(a.sin_port);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    Require(wake_fd_ >= 0, "eventfd");
    thread_ = std::thread([this] { Run(); });
  }

  ~FaultProxy() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
    for (Link& l : links_) CloseLink(l);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::close(wake_fd_);
  }

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }

  // Forward both ways with no delay, and accept new connections.
  void Pass() {
    Control([](Desired& d) {
      d.mode = Mode::kForward;
      d.delay_ms = 0;
      d.accept = true;
    });
  }
  // Stop forwarding both ways: nothing is read or written, connections stay
  // open (their kernel buffers fill, then the peers' sends block). New
  // connections are accepted and paused too.
  void Pause() {
    Control([](Desired& d) { d.mode = Mode::kPause; });
  }
  // Forward again (after Pause or Blackhole); the delay stays as set.
  void Resume() {
    Control([](Desired& d) { d.mode = Mode::kForward; });
  }
  // Close every current connection (both sockets). kRefuse: new connections
  // are refused (the port stays reserved for the proxy) until Pass().
  void Cut(NewConnections then) {
    Control([then](Desired& d) {
      ++d.cut;
      d.accept = then == NewConnections::kAccept;
    });
  }
  // Forward, holding every chunk read `ms` milliseconds before writing it
  // (chunks already queued keep their time).
  void Delay(int64_t ms) {
    Control([ms](Desired& d) {
      d.mode = Mode::kForward;
      d.delay_ms = ms;
    });
  }
  // Read and drop everything, both ways; connections stay open and a
  // half-close is not passed on until forwarding resumes.
  void Blackhole() {
    Control([](Desired& d) { d.mode = Mode::kBlackhole; });
  }

  size_t connections() const { return open_.load(); }
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t forwarded_bytes() const { return forwarded_.load(); }
  uint64_t dropped_bytes() const { return dropped_.load(); }

 private:
  enum class Mode : uint8_t { kForward, kPause, kBlackhole };
  struct Desired {
    Mode mode = Mode::kForward;
    int64_t delay_ms = 0;
    bool accept = true;
    uint64_t cut = 0;
  };
  struct Chunk {
    std::chrono::steady_clock::time_point due;
    std::string bytes;
    size_t written = 0;
  };
  // One direction of a connection: from one socket to the other.
  struct Flow {
    int from = -1;
    int to = -1;
    std::deque<Chunk> queue;
    size_t queued_bytes = 0;
    bool eof = false;   // `from` said it sends nothing more
    bool shut = false;  // and that was passed on to `to`
  };
  struct Link {
    int client = -1;
    int server = -1;
    Flow up;    // client to server
    Flow down;  // server to client
    bool dead = false;
  };

  [[noreturn]] static void Die(const char* what) {
    std::fprintf(stderr, "FaultProxy: %s failed: errno %d\n", what, errno);
    std::abort();
  }
  static void Require(bool ok, const char* what) {
    if (!ok) Die(what);
  }

  // A listening socket on 127.0.0.1:port (0: any free port).
  static int Listen(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    Require(fd >= 0, "socket");
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    // Taking the port back after a refusing Cut can race with another
    // socket's use of it for a moment: retry briefly.
    for (int attempt = 0;; ++attempt) {
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
      Require(attempt < 100, "bind");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Require(::listen(fd, 128) == 0, "listen");
    return fd;
  }

  // Runs `change` on the desired state and waits until the proxy thread has
  // applied it.
  template <typename F>
  void Control(F change) {
    std::unique_lock<std::mutex> lock(mu_);
    change(desired_);
    const uint64_t ticket = ++requested_;
    lock.unlock();
    Wake();
    lock.lock();
    done_.wait(lock, [&] { return applied_ >= ticket; });
  }

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  // Takes in what the control calls asked for. Returns false to stop.
  bool ApplyControl() {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    if (applied_ == requested_) return true;
    if (desired_.cut != now_.cut) {
      for (Link& l : links_) CloseLink(l);
      links_.clear();
    }
    if (desired_.accept && listen_fd_ < 0) listen_fd_ = Listen(port_);
    if (!desired_.accept && listen_fd_ >= 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    now_ = desired_;
    applied_ = requested_;
    done_.notify_all();
    return true;
  }

  void CloseLink(Link& l) {
    if (l.client >= 0) ::close(l.client);
    if (l.server >= 0) ::close(l.server);
    l.client = l.server = -1;
    open_.fetch_sub(1);
  }

  void Accept() {
    for (;;) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) return;  // EAGAIN, or a connection that went away first
      accepted_.fetch_add(1);
      const int s = ConnectTarget();
      if (s < 0) {
        ::close(c);  // the target is down: so is the connection
        continue;
      }
      Link& l = links_.emplace_back();
      l.client = c;
      l.server = s;
      l.up.from = l.down.to = c;
      l.up.to = l.down.from = s;
      open_.fetch_add(1);
    }
  }

  // A blocking connect (loopback: immediate), then non-blocking.
  int ConnectTarget() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(target_port_);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  bool WantRead(const Flow& f) const {
    return now_.mode != Mode::kPause && !f.eof && f.queued_bytes < kQueueBytesMax;
  }
  bool WantWrite(const Flow& f, std::chrono::steady_clock::time_point t) const {
    return now_.mode == Mode::kForward && !f.queue.empty() && f.queue.front().due <= t;
  }

  void Read(Flow& f, Link& l, std::chrono::steady_clock::time_point t) {
    char buf[kReadChunkBytes];
    const ssize_t n = ::recv(f.from, buf, sizeof buf, 0);
    if (n == 0) {
      f.eof = true;
    } else if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) l.dead = true;
    } else if (now_.mode == Mode::kBlackhole) {
      dropped_.fetch_add(uint64_t(n));
    } else {
      f.queue.push_back(
          {t + std::chrono::milliseconds(now_.delay_ms), std::string(buf, size_t(n))});
      f.queued_bytes += size_t(n);
    }
  }

  void Write(Flow& f, Link& l, std::chrono::steady_clock::time_point t) {
    while (WantWrite(f, t)) {
      Chunk& c = f.queue.front();
      const ssize_t n =
          ::send(f.to, c.bytes.data() + c.written, c.bytes.size() - c.written, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) l.dead = true;
        return;
      }
      c.written += size_t(n);
      forwarded_.fetch_add(uint64_t(n));
      if (c.written < c.bytes.size()) return;
      f.queued_bytes -= c.bytes.size();
      f.queue.pop_front();
    }
  }

  // A half-close goes on once what came before it has.
  void PassEof(Flow& f) {
    if (now_.mode == Mode::kForward && f.eof && f.queue.empty() && !f.shut) {
      ::shutdown(f.to, SHUT_WR);
      f.shut = true;
    }
  }

  void Run() {
    std::vector<pollfd> fds;
    std::vector<Link*> owners;  // the link of fds[i], for i >= 2
    while (ApplyControl()) {
      const auto t = std::chrono::steady_clock::now();
      fds.clear();
      owners.clear();
      fds.push_back({wake_fd_, POLLIN, 0});
      fds.push_back({listen_fd_, short(listen_fd_ >= 0 ? POLLIN : 0), 0});
      int timeout_ms = -1;
      for (Link& l : links_) {
        // Paused sockets are left out entirely, so even a peer's reset
        // waits (as it would behind a stalled network).
        if (now_.mode == Mode::kPause) continue;
        for (int fd : {l.client, l.server}) {
          const Flow& in = fd == l.client ? l.up : l.down;
          const Flow& out = fd == l.client ? l.down : l.up;
          short events = 0;
          if (WantRead(in)) events |= POLLIN;
          if (WantWrite(out, t)) events |= POLLOUT;
          // A socket with nothing to do is not polled (poll would report a
          // hang-up on it again and again); an error on it shows when it is
          // next read or written.
          if (events != 0) {
            fds.push_back({fd, events, 0});
            owners.push_back(&l);
          }
          if (now_.mode == Mode::kForward && !out.queue.empty() && out.queue.front().due > t) {
            const auto wait =
                std::chrono::ceil<std::chrono::milliseconds>(out.queue.front().due - t);
            if (timeout_ms < 0 || wait.count() < timeout_ms) timeout_ms = int(wait.count());
          }
        }
      }
      if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) Die("poll");
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        [[maybe_unused]] ssize_t n = ::read(wake_fd_, &v, sizeof v);
      }
      if (listen_fd_ >= 0 && (fds[1].revents & POLLIN)) Accept();
      const auto after = std::chrono::steady_clock::now();
      for (size_t i = 2; i < fds.size(); ++i) {
        Link& l = *owners[i - 2];
        if (l.dead) continue;
        Flow& in = fds[i].fd == l.client ? l.up : l.down;
        const short ev = fds[i].revents;
        if (ev & POLLIN) Read(in, l, after);
        // An error, or a hang-up on a socket we wanted only to write to
        // (a reset): nothing more can pass through it.
        if ((ev & POLLERR) || ((ev & POLLHUP) && !(ev & POLLIN))) l.dead = true;
      }
      // Writes are not tied to POLLOUT alone: a delayed chunk falls due on
      // a timeout, and a socket with room takes it at once.
      for (Link& l : links_) {
        if (l.dead || now_.mode == Mode::kPause) continue;
        for (Flow* f : {&l.up, &l.down}) {
          Write(*f, l, after);
          PassEof(*f);
        }
      }
      for (auto it = links_.begin(); it != links_.end();) {
        if (it->dead || (it->up.shut && it->down.shut)) {
          CloseLink(*it);
          it = links_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  const uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable done_;
  Desired desired_;         // guarded by mu_
  uint64_t requested_ = 0;  // guarded by mu_
  uint64_t applied_ = 0;    // guarded by mu_
  bool stop_ = false;       // guarded by mu_

  // The proxy thread's own.
  Desired now_;
  std::list<Link> links_;

  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace werk::testing
