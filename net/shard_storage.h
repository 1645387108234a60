#pragma once
// Gives a shard its durable storage: opens the shard's log directory on the
// shard's io_uring, recovers the state machine from the newest checkpoint and
// the log after it, and attaches the write-ahead log and the checkpointer.
// Used by the server at start, and by tests that restart a shard.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "core/clock.h"
#include "net/server_options.h"
#include "net/shard.h"
#include "wal/checkpointer.h"
#include "wal/durability_gate.h"
#include "wal/recovery.h"
#include "wal/uring_storage.h"
#include "wal/wal.h"

namespace werk::net {

struct ShardStorage {
  std::unique_ptr<wal::UringStorage> storage;
  std::unique_ptr<wal::Wal> wal;
  std::unique_ptr<wal::Checkpointer> checkpointer;
  // The shard's journal: the log, gated on the standby's acknowledgements
  // when there is one (wal/durability_gate.h).
  std::unique_ptr<wal::DurabilityGate> gate;
  wal::RecoveryResult recovery;  // what recovery found and did (position moved out)
  // Records skipped at the operator's request (--skip-record), described.
  std::vector<std::string> skipped_records;
  double recovery_ms = 0;
};

// The log directory of shard 0 under `data_dir`.
std::string ShardLogDir(const std::string& data_dir, uint32_t shard = 0);

absl::StatusOr<ShardStorage> OpenShardStorage(Shard& shard, const ServerOptions& options,
                                              const core::Clock& clock, uint32_t shard_id = 0);

// Replays one record of `shard`'s log into `sm` during recovery, or skips it
// if the operator named it (--skip-record; described in `skipped`). An error
// names the record and how to look at it or get past it.
absl::Status ReplayOrSkip(const ServerOptions& options, uint32_t shard, uint64_t lsn,
                          std::string_view body, core::StateMachine& sm,
                          std::vector<std::string>* skipped);

// How many shard log directories `data_dir` holds (0 for a new one).
uint32_t CountShardDirs(const std::string& data_dir);

}  // namespace werk::net
