#pragma once
// One shard of the server (net/server.h): its thread, the shard, its
// storage and its replication participant. Shared by server.cc and
// server_promote.cc.

#include <memory>
#include <thread>
#include <vector>

#include <absl/status/status.h>

#include "core/mutation.h"
#include "net/replication_primary.h"
#include "net/replication_standby.h"
#include "net/server.h"
#include "net/shard.h"
#include "net/shard_storage.h"

namespace werk::net {

struct Server::Slot {
  std::thread thread;
  std::unique_ptr<Shard> shard;
  ShardStorage storage;
  absl::Status error;
  bool journal_failed = false;
  std::vector<core::Mutation> roll_forward;  // global operations to complete first
  std::unique_ptr<ReplicationPrimary> primary;  // with --replication-bind (or promoted)
  std::unique_ptr<ReplicationStandby> standby;  // with --replica-of
};

}  // namespace werk::net
