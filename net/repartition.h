#pragma once
// Changing the shard count between restarts (docs/running.md): the log of M
// shards becomes the log of N, each new shard starting from a checkpoint
// that holds its part of the state (core/repartition.h).
//
// The switch is crash-safe. The data directory's logs live in wal/shard-NNN/.
// The new layout is written beside it, in wal.new/, every file synced, and
// marked complete by wal.new/COMPLETE (synced, with its directory); then
// wal/ is renamed to wal.old/ and wal.new/ to wal/ (the data directory synced
// after each rename), and wal.old/ is removed. A crash before COMPLETE leaves
// the old layout in force (the next start deletes the partial wal.new/); a
// crash after it leaves a complete new layout that the next start finishes
// switching to (FinishLayoutSwitch, called at every start).

#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/status.h>

#include "core/clock.h"
#include "net/server_options.h"

namespace werk::net {

// Completes or discards a switch a crash interrupted. `notes` says what it did.
absl::Status FinishLayoutSwitch(const std::string& data_dir, std::vector<std::string>* notes);

// Rewrites the log of `from` shards as the log of `to` shards.
absl::Status RepartitionLog(const ServerOptions& options, const core::Clock& clock, uint32_t from,
                            uint32_t to, std::vector<std::string>* notes);

}  // namespace werk::net
