#pragma once
// The composition root: binds the listener, builds the shard with its
// journal, and runs it until SIGTERM/SIGINT.

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/journal.h"
#include "net/server_options.h"
#include "net/shard.h"
#include "net/shard_storage.h"

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
  ShardStorage storage_;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  int port_ = 0;
};

}  // namespace werk::net
