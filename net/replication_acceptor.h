#pragma once
// The primary's replication port (--replication-bind): accepts standbys on
// its own thread and runs each handshake up to the standby's proof with
// blocking calls and a deadline — a slow or hostile peer holds this thread,
// never a shard — then hands the proven link to the shard it is for, which
// decides (continue, diverged, refused) and welcomes it on its own io_uring
// (net/replication_primary.h). Refusals of another cluster or shard count,
// and bad proofs, never reach a shard.
//
// One handshake at a time: the port serves one standby's few connections
// (one per shard), each done within the deadline.
//
// Thread affinity: Start/Stop from the owner's thread; the rest runs on the
// acceptor's own thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/types.h"
#include "net/replication_handshake.h"
#include "net/unique_fd.h"

namespace werk::net {

// A standby's link for one shard, authenticated, waiting for WELCOME.
struct ProvenStandby {
  UniqueFd fd;
  std::unique_ptr<PrimaryHandshake> handshake;
  std::string rest;  // bytes received after PROOF
  std::string peer;  // host:port, for the log
};

class ReplicationAcceptor {
 public:
  struct Settings {
    std::string password;
    std::string cluster_id;
    uint32_t shard_count = 1;
    int64_t handshake_timeout_ms = 5'000;
  };
  // On the acceptor's thread: `link.handshake->shard()` is the shard's.
  using Deliver = std::function<void(ProvenStandby link)>;
  // The epoch CHALLENGE carries (the group's, read from any thread).
  using EpochFn = std::function<core::Epoch()>;

  // `listen_fd` is listening; the acceptor owns it from now on.
  ReplicationAcceptor(int listen_fd, Settings settings, EpochFn epoch, Deliver deliver);
  ~ReplicationAcceptor();
  ReplicationAcceptor(const ReplicationAcceptor&) = delete;
  ReplicationAcceptor& operator=(const ReplicationAcceptor&) = delete;

  void Start();
  // Stops accepting and joins the thread (a handshake in progress ends at
  // its deadline at the latest).
  void Stop();

 private:
  void Loop();
  void Serve(UniqueFd fd, std::string peer);

  UniqueFd listen_fd_;
  Settings settings_;
  EpochFn epoch_;
  Deliver deliver_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  int last_accept_error_ = 0;
};

}  // namespace werk::net
