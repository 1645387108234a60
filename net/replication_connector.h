#pragma once
// The standby's way to its primary (--replica-of): connects and runs each
// shard's handshake on its own thread, with blocking calls and a deadline,
// and hands the authenticated link, with the primary's decision, to the
// shard (net/replication_standby.h). A shard whose link ended asks again
// (Request); failures to reach the primary are retried every retry_ms and
// logged when they change or every 30 s. A refusal retrying cannot fix — a
// proof that does not verify (wrong password), another cluster, another
// shard count — is fatal: the server stops, naming it.
//
// Thread affinity: Request from any thread; the rest on the connector's.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <absl/status/statusor.h>

#include "core/types.h"
#include "net/replication_handshake.h"
#include "net/unique_fd.h"

namespace werk::net {

// The primary's link for one shard, authenticated, with its decision.
struct ProvenPrimary {
  UniqueFd fd;
  WelcomeDecision welcome;
  core::Epoch primary_epoch{0};
  std::string rest;  // bytes received after WELCOME (the first records)
};

struct ConnectSettings {
  std::string primary;  // host:port of its --replication-bind
  std::string password;
  std::string cluster_id;  // empty: a fresh standby
  uint32_t shard_count = 1;
  int64_t timeout_ms = 5'000;
};

// One handshake, blocking: kUnavailable/kDeadlineExceeded when the primary
// cannot be reached (retry), kUnauthenticated or kFailedPrecondition when it
// refused (do not).
absl::StatusOr<ProvenPrimary> ConnectToPrimary(const ConnectSettings& settings, uint32_t shard,
                                               StandbyPosition position, core::Epoch epoch);

// What a fresh standby adopts before it has a data directory: the primary's
// cluster id (authenticated by WELCOME's proof) and shard count.
struct PrimaryShape {
  std::string cluster_id;
  uint32_t shard_count = 0;
};
absl::StatusOr<PrimaryShape> ProbePrimary(const ConnectSettings& settings);

class ReplicationConnector {
 public:
  using Deliver = std::function<void(uint32_t shard, ProvenPrimary link)>;
  using Fatal = std::function<void(const absl::Status& why)>;

  ReplicationConnector(ConnectSettings settings, int64_t retry_ms, Deliver deliver, Fatal fatal);
  ~ReplicationConnector();
  ReplicationConnector(const ReplicationConnector&) = delete;
  ReplicationConnector& operator=(const ReplicationConnector&) = delete;

  void Start();
  void Stop();
  // Any thread: link shard `shard` from `position` (after retry_ms unless
  // `at_once`).
  void Request(uint32_t shard, StandbyPosition position, core::Epoch epoch, bool at_once);

 private:
  struct Pending {
    uint32_t shard;
    StandbyPosition position;
    core::Epoch epoch;
    int64_t not_before_ms;
  };
  void Loop();
  void Failed(const Pending& p, const absl::Status& st);

  ConnectSettings settings_;
  int64_t retry_ms_;
  Deliver deliver_;
  Fatal fatal_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> pending_;
  bool stopping_ = false;
  std::thread thread_;
  std::string last_error_;
  int64_t last_logged_ms_ = 0;
};

}  // namespace werk::net
