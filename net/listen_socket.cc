#include "net/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "net/config.h"

namespace werk::net {
namespace {

constexpr int kBindRetryMillis = 5000;

}  // namespace

core::OpResult<int> Listen(const std::string& binding, int* port) {
  std::string host, port_str;
  if (!SplitHostPort(binding, &host, &port_str))
    return absl::FailedPreconditionError("invalid binding '" + binding + "' (expected host:port)");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0)
    return absl::FailedPreconditionError("cannot resolve '" + binding + "': " + gai_strerror(rc));
  int fd = -1;
  std::string last_error = "no address";
  // A werkd killed a moment ago may still hold the port: its io_uring is torn
  // down after the process has gone, and a pending accept keeps the listening
  // socket open until then (SO_REUSEADDR does not help: the socket is still
  // listening). So a busy port is retried for a while before giving up.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBindRetryMillis);
  bool busy_logged = false;
  for (addrinfo* ai = res; ai;) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      ai = ai->ai_next;
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) break;
    const int err = errno;
    last_error = std::strerror(err);
    ::close(fd);
    fd = -1;
    if (err == EADDRINUSE && std::chrono::steady_clock::now() < give_up) {
      if (!busy_logged) {
        spdlog::warn("{} is in use; waiting up to {} ms for it (a werkd that was just killed "
                     "may still be releasing it)",
                     binding, kBindRetryMillis);
        busy_logged = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;  // the same address again
    }
    ai = ai->ai_next;
  }
  freeaddrinfo(res);
  if (fd < 0)
    return absl::FailedPreconditionError("cannot listen on " + binding + ": " + last_error);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}


}  // namespace werk::net
