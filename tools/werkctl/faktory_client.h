#pragma once
// A minimal blocking Faktory client for werkctl: connect, the HI/HELLO
// handshake as a producer (no wid), then commands answered one reply each.
//
// Every wait (connecting, the greeting, each reply) is bounded by the
// timeout given to Connect, so a server that accepts and never answers (a
// stopped process, a black-holed route) ends werkctl with an error instead of
// hanging an operator's script.
//
// Errors are statuses whose message does not name the address (the caller
// prefixes it once): kUnavailable for the network and a server that closes
// or answers garbage, kPermissionDenied for a refused password, and
// kDeadlineExceeded for timeouts. A server's `-ERR` reply to a command is not
// an error here: it is a Reply the caller judges.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>

#include "tools/werkctl/client_tls.h"

#include "tools/werkctl/server_url.h"

namespace werk::ctl {

// A whole RESP2 reply as Faktory sends them (reference §1.3).
struct Reply {
  enum class Type : uint8_t { kSimple, kError, kBulk, kNull, kInteger };
  Type type = Type::kSimple;
  // Simple/error/integer: the line without its prefix ("OK", "ERR unknown
  // command PROMOTE", "42"); bulk: the payload; null: empty.
  std::string text;
};

// The largest reply accepted: a bound, not an expectation (INFO of a server
// with very many queues is the largest thing werkctl asks for).
inline constexpr size_t kReplyBytesMax = size_t(256) << 20;

enum class ParseOutcome : uint8_t { kReply, kIncomplete, kMalformed };
// Parses one reply from the front of `buf`. On kReply, `*consumed` is its
// length in bytes. On kMalformed, `reply->text` says what is wrong. Replies
// end in CRLF; a bare LF is accepted too, as Faktory's own readers do.
ParseOutcome ParseReply(std::string_view buf, size_t* consumed, Reply* reply);

class FaktoryClient {
 public:
  // Connects to `url` (every address its host resolves to, in order), reads
  // `+HI`, and answers HELLO with `v` 2, the URL's user name if any, and the
  // password hash if the server asks for one (net::PasswordHash, the same
  // function the server verifies with). Fails if the server asks for a
  // password and `url` has none, or refuses the one given.
  static absl::StatusOr<FaktoryClient> Connect(const ServerUrl& url,
                                               std::chrono::milliseconds timeout);

  FaktoryClient(FaktoryClient&& other) noexcept;
  FaktoryClient& operator=(FaktoryClient&& other) noexcept;
  FaktoryClient(const FaktoryClient&) = delete;
  FaktoryClient& operator=(const FaktoryClient&) = delete;
  ~FaktoryClient();

  // Sends `command` and a CRLF, and returns the server's reply.
  absl::StatusOr<Reply> Call(std::string_view command);
  // Sends END (the server closes without replying) and closes the socket.
  void End();

 private:
  FaktoryClient(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  absl::Status Handshake(const ServerUrl& url);
  absl::Status Send(std::string_view bytes);
  absl::StatusOr<Reply> ReadReply();

  int fd_ = -1;
  std::unique_ptr<ClientTls> tls_;  // tcp+tls://
  std::chrono::milliseconds timeout_;
  std::string buf_;  // received, not yet parsed
};

}  // namespace werk::ctl
