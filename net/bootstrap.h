#pragma once
// Installing a standby's bootstrap (docs/replication.md "Bootstrap"): the
// checkpoint a shard received from its primary replaces that shard's log
// directory at the next start, before recovery.
//
// While it runs, a standby shard writes the checkpoint into its staging
// directory, wal/shard-NNN.bootstrap (wal::CheckpointReceiver: synced and
// verified whole, then named as a checkpoint). Then the server writes the
// BOOTSTRAP file, naming each shard whose checkpoint is ready and its LSN,
// and restarts (tools/werkd.cc). The next start runs FinishPendingBootstraps
// for each shard it names:
//   1. shard-NNN is renamed to shard-NNN.old (an .old a finished install
//      left is removed first);
//   2. shard-NNN.bootstrap is renamed to shard-NNN;
//   3. shard-NNN.old is removed;
// and then the BOOTSTRAP file. Each rename is followed by a sync of wal/,
// and each step is decided by what is on disk, so a crash anywhere leaves a
// state the next start finishes: before the BOOTSTRAP file, the old
// directory is untouched and the staging one is removed at the next start;
// after it, the install is run again from where it stopped. The old
// contents are deleted, not kept: a standby's log is a prefix of its
// primary's, which the checkpoint covers (a rejoin keeps its forensic copy
// elsewhere, net/rejoin.h).
//
// Blocking file-system calls, at start (and the marker's write on a standby
// shard's thread, which stops anyway).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/types.h"

namespace werk::net {

struct PendingBootstrap {
  uint32_t shard = 0;
  core::Lsn lsn{0};  // the checkpoint's
  bool operator==(const PendingBootstrap&) const = default;
};

std::string BootstrapMarkerPath(const std::string& data_dir);
// Where shard `shard` stages the checkpoint it receives.
std::string BootstrapStagingDir(const std::string& data_dir, uint32_t shard);
std::string FormatBootstrapPlan(const std::vector<PendingBootstrap>& plan);
absl::StatusOr<std::vector<PendingBootstrap>> ParseBootstrapPlan(std::string_view text);

// Written atomically and synced, with the directory.
absl::Status WriteBootstrapMarker(const std::string& data_dir,
                                  const std::vector<PendingBootstrap>& plan);
// Empty without one.
absl::StatusOr<std::vector<PendingBootstrap>> ReadBootstrapMarker(const std::string& data_dir);

// At start, before the shards recover: finishes the installs the BOOTSTRAP
// file names (above), or removes staging directories no BOOTSTRAP file
// names (a bootstrap that did not finish). Each step is described in
// `notes`. An error leaves the BOOTSTRAP file for the next start.
absl::Status FinishPendingBootstraps(const std::string& data_dir, std::vector<std::string>* notes);

}  // namespace werk::net
