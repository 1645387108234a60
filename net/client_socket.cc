#include "net/client_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/limits.h"

namespace werk::net {

bool ConfigureClientSocket(int fd) {
  const int one = 1;
  const int idle = core::kKeepAliveIdleSeconds;
  const int interval = core::kKeepAliveIntervalSeconds;
  const int probes = core::kKeepAliveProbes;
  bool ok = ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  ok &= ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0;
  ok &= ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) == 0;
  ok &= ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval) == 0;
  ok &= ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes) == 0;
  return ok;
}

}  // namespace werk::net
