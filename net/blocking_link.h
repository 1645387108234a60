#pragma once
// Replication messages over a socket with blocking calls and a deadline, for
// the handshakes that run off the shards' threads (the primary's acceptor,
// the standby's connector): a shard's thread only ever sees a link that
// proved itself, on its own io_uring (net/replication_socket.h).
//
// Thread affinity: one thread at a time.

#include <cstdint>
#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "wal/replication_protocol.h"

namespace werk::net {

// A TCP connection to `host:port` (non-blocking once connected), within
// `timeout_ms`.
absl::StatusOr<int> ConnectTcp(const std::string& address, int64_t timeout_ms);

class BlockingLink {
 public:
  // Does not own `fd`. Every call below fails with kDeadlineExceeded once
  // `timeout_ms` from now has passed.
  BlockingLink(int fd, int64_t timeout_ms);

  absl::Status Send(std::string_view bytes);
  // The next message; its views point into the link's buffer and stay
  // valid until the next call. A peer that closes, or sends something
  // undecodable, is an error.
  absl::StatusOr<wal::Message> Next();
  // The bytes received after the last message Next() returned (the link's
  // next owner handles them first).
  std::string TakeRest();

 private:
  absl::Status WaitFor(short events);

  int fd_;
  int64_t deadline_ns_;
  std::string buf_;
  size_t consumed_ = 0;  // bytes of buf_ the last message took
};

}  // namespace werk::net
