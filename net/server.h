#pragma once
// The composition root: binds the listener, builds the shard with its
// journal, and runs it until SIGTERM/SIGINT.

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/journal.h"
#include "net/server_options.h"
#include "net/shard.h"
#include "wal/checkpointer.h"
#include "wal/uring_storage.h"
#include "wal/wal.h"

namespace werk::net {

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Binds the command port and prepares the shard. Returns an error message,
  // or empty on success.
  std::string Start();
  // Serves until a stop signal, then shuts down cleanly. Returns the exit code.
  int Run();
  int port() const { return port_; }

 private:
  std::string Recover();

  ServerOptions options_;
  std::unique_ptr<Shard> shard_;
  std::unique_ptr<wal::UringStorage> storage_;
  std::unique_ptr<wal::Wal> wal_;
  std::unique_ptr<wal::Checkpointer> checkpointer_;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  int port_ = 0;
};

}  // namespace werk::net
