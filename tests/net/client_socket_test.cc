#include "net/client_socket.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/limits.h"

namespace werk::net {
namespace {

int IntOption(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  EXPECT_EQ(::getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

TEST(ClientSocket, KeepaliveAndNoDelay) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(ConfigureClientSocket(fd));
  EXPECT_NE(IntOption(fd, IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_NE(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE), core::kKeepAliveIdleSeconds);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL), core::kKeepAliveIntervalSeconds);
  EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPCNT), core::kKeepAliveProbes);
  ::close(fd);
}

}  // namespace
}  // namespace werk::net
