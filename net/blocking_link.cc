#include "net/blocking_link.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/clock.h"
#include "net/config.h"

namespace werk::net {

namespace {

int64_t NowNs() { return core::SystemClock::Instance().MonotonicNow(); }

int RemainingMs(int64_t deadline_ns) {
  const int64_t left = deadline_ns - NowNs();
  if (left <= 0) return 0;
  return int(std::min<int64_t>((left + 999'999) / 1'000'000, 60'000));
}

}  // namespace

absl::StatusOr<int> ConnectTcp(const std::string& address, int64_t timeout_ms) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port))
    return absl::InvalidArgumentError("invalid address '" + address + "' (expected host:port)");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc =
      getaddrinfo(host.empty() ? "127.0.0.1" : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0)
    return absl::UnavailableError("cannot resolve '" + address + "': " + gai_strerror(rc));
  const int64_t deadline = NowNs() + timeout_ms * 1'000'000;
  std::string last = "no address";
  int fd = -1;
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        const int n = ::poll(&p, 1, RemainingMs(deadline));
        if (n == 1) {
          socklen_t len = sizeof err;
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        } else {
          err = n == 0 ? ETIMEDOUT : errno;
        }
      }
    }
    if (err != 0) {
      last = std::strerror(err);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return absl::UnavailableError("cannot connect to " + address + ": " + last);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

BlockingLink::BlockingLink(int fd, int64_t timeout_ms)
    : fd_(fd), deadline_ns_(NowNs() + timeout_ms * 1'000'000) {}

absl::Status BlockingLink::WaitFor(short events) {
  pollfd p{fd_, events, 0};
  const int n = ::poll(&p, 1, RemainingMs(deadline_ns_));
  if (n == 1) return absl::OkStatus();
  if (n == 0) return absl::DeadlineExceededError("the peer did not answer in time");
  if (errno == EINTR) return absl::OkStatus();
  return absl::UnavailableError(std::string("poll: ") + std::strerror(errno));
}

absl::Status BlockingLink::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(size_t(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (auto st = WaitFor(POLLOUT); !st.ok()) return st;
      continue;
    }
    return absl::UnavailableError(std::string("send: ") + std::strerror(errno));
  }
  return absl::OkStatus();
}

absl::StatusOr<wal::Message> BlockingLink::Next() {
  buf_.erase(0, consumed_);
  consumed_ = 0;
  for (;;) {
    wal::DecodeResult r = wal::DecodeMessage(buf_);
    if (r.outcome == wal::DecodeResult::Outcome::kMessage) {
      consumed_ = r.bytes;
      return std::move(r.message);
    }
    if (r.outcome == wal::DecodeResult::Outcome::kError)
      return absl::InvalidArgumentError("undecodable message: " +
                                        std::string(wal::ProtocolErrorName(r.error)));
    // What the decoder asked for, or a little more (TakeRest keeps it).
    const size_t want = std::max<size_t>(r.bytes, buf_.size() + 1) - buf_.size();
    const size_t at = buf_.size();
    buf_.resize(at + std::max<size_t>(want, 4096));
    const ssize_t n = ::recv(fd_, buf_.data() + at, buf_.size() - at, MSG_DONTWAIT);
    if (n > 0) {
      buf_.resize(at + size_t(n));
      continue;
    }
    buf_.resize(at);
    if (n == 0) return absl::UnavailableError("the peer closed the connection");
    if (errno == EAGAIN || errno == EINTR) {
      if (auto st = WaitFor(POLLIN); !st.ok()) return st;
      continue;
    }
    return absl::UnavailableError(std::string("recv: ") + std::strerror(errno));
  }
}

std::string BlockingLink::TakeRest() {
  buf_.erase(0, consumed_);
  consumed_ = 0;
  return std::move(buf_);
}

}  // namespace werk::net
