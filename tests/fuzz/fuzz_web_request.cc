// The web server's request path: raw bytes sent to a real WebServer on
// loopback as an HTTP request (cpp-httplib's parser, then werk's routing,
// Basic credentials, the CSRF cookie and form, the pages), and the Basic
// credentials decoder alone. Nothing may crash, hang or leak; every answer
// is a well-formed HTTP response or a closed connection.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/web/basic_auth.h"
#include "net/web/web_server.h"

namespace {

using werk::net::ShardSummary;
using werk::net::web::ServerPhase;

class FixedBackend final : public werk::net::web::WebBackend {
 public:
  FixedBackend() {
    ShardSummary s;
    s.queues.push_back(werk::net::QueueSummary{"default", 3, 1, false});
    s.has_wal = true;
    s.has_replication = true;
    s.replication.peer = "127.0.0.1:1";
    shards_.push_back(s);
  }
  std::vector<ShardSummary> Summaries() const override { return shards_; }
  std::optional<werk::cron::View> Cron() const override { return werk::cron::View{}; }
  ServerPhase Phase() const override { return ServerPhase{true, false, 1}; }
  werk::core::UnixNanos Now() const override { return 1'760'000'000'000'000'000; }
  werk::core::UnixNanos StartedAt() const override { return 1'759'000'000'000'000'000; }
  uint32_t shard_count() const override { return 1; }
  bool Post(uint32_t, ShardOp) override { return false; }

 private:
  std::vector<ShardSummary> shards_;
};

int ServerPort() {
  static FixedBackend backend;
  // "pw": requests with `Authorization: Basic OnB3` reach the pages.
  static auto* server = [] {
    auto* s = new werk::net::web::WebServer(
        werk::net::web::WebOptions{"127.0.0.1:0", "pw", 2}, &backend);
    if (!s->Start().ok()) std::abort();
    return s;
  }();
  return server->port();
}

void Exchange(int port, const uint8_t* data, size_t size) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    size_t sent = 0;
    while (sent < size) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += size_t(n);
    }
    ::shutdown(fd, SHUT_WR);
    char buf[65536];
    std::string answer;
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, size_t(n));
    }
    if (!answer.empty() && answer.rfind("HTTP/1.", 0) != 0) std::abort();
  }
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)werk::net::web::BasicPassword(text);
  (void)werk::net::web::BasicAuthAccepts(text, "pw");
  Exchange(ServerPort(), data, size);
  return 0;
}
