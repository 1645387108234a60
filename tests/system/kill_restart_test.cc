// Restarting werkd right after kill -9 (a supervisor's restart loop): the
// port and the data directory are taken over reliably.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A killed werkd's listening socket outlives the process for a moment (its
// io_uring, holding a pending accept, is torn down after it); an immediate
// restart on the same port once failed with "Address already in use" about
// one time in five.
TEST(KillRestart, ImmediateRestartTakesTheSamePort) {
  char tmpl[] = "/tmp/werk-killrestart-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  const std::string binding = "127.0.0.1:" + std::to_string(FreePort());
  // SIGKILL and start the next at once, as a supervisor does; the killed
  // ones are reaped at the end.
  std::vector<std::unique_ptr<WerkdProcess>> killed;
  for (int round = 0; round < 15; ++round) {
    auto server = std::make_unique<WerkdProcess>(
        WerkdProcess::Options{.data_dir = root + "/data", .binding = binding});
    LineClient c(server->port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    ASSERT_EQ(c.Call(R"(PUSH {"jid":"round-job-)" + std::to_string(1000 + round) +
                     R"(","jobtype":"T","args":[]})"),
              "+OK\r\n");
    ::kill(server->pid(), SIGKILL);
    killed.push_back(std::move(server));
  }
  WerkdProcess last({.data_dir = root + "/data", .binding = binding});
  LineClient c(last.port());
  c.ReadOrFail();
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  EXPECT_NE(c.Call("INFO").find("\"default\":15"), std::string::npos);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace werk::testing
