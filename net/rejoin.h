#pragma once
// Rejoining as a standby after a divergence (docs/replication.md "Rejoin"):
// the pending cut, kept durably in the data directory between the moment a
// shard heard DIVERGED and the start that cuts its log.
//
// The in-memory state already holds the diverged records, so the cut cannot
// be made by a running server: the shard that decided to discard writes a
// REJOIN file naming each shard's fork LSN and where the forensic copy goes,
// and the server restarts (tools/werkd.cc). The next start, before any shard
// recovers, runs FinishPendingCuts: for each shard, the copy (once: the file
// records that it was made), then wal::TruncateAfter(fork - 1), then the
// file is removed. A crash at any step leaves a state the next start
// finishes: a copy not recorded as made is made again from scratch, and the
// cut is re-runnable (wal/truncate.h).
//
// Blocking file-system calls: at start, and on a standby shard's thread when
// it has heard DIVERGED (that shard stops either way).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/types.h"
#include "net/rejoin_decision.h"

namespace werk::net {

struct PendingCut {
  uint32_t shard = 0;
  core::Lsn fork{0};    // the first LSN to drop
  bool copied = false;  // the forensic copy of this shard is complete
  // Not a cut: the shard's log is emptied and bootstrapped from the
  // primary's checkpoint (net/bootstrap.h).
  bool bootstrap = false;
  bool operator==(const PendingCut&) const = default;
};

struct RejoinPlan {
  std::string copy_dir;  // under the data directory (wal::DivergedDirName)
  std::vector<PendingCut> cuts;
  bool operator==(const RejoinPlan&) const = default;
};

std::string RejoinMarkerPath(const std::string& data_dir);
std::string FormatRejoinPlan(const RejoinPlan& plan);
absl::StatusOr<RejoinPlan> ParseRejoinPlan(std::string_view text);

// Written atomically and synced, with the directory.
absl::Status WriteRejoinMarker(const std::string& data_dir, const RejoinPlan& plan);
// Removes it (no-op without one), and syncs the directory.
absl::Status ClearRejoinMarker(const std::string& data_dir);
// nullopt without one.
absl::StatusOr<std::optional<RejoinPlan>> ReadRejoinMarker(const std::string& data_dir);

// Shard `shard`'s tail from `fork` on, read from its log files (a dry run
// of the cut; the running shard's log is not touched): what would be
// dropped and whether a `replication` record is among it. `alone_since` is
// the state's, at the log's end. A cut that would be refused is reported in
// `cut_refused`. Also gives the newest epoch the dropped frames carry.
DivergedTail InspectDivergedTail(const std::string& data_dir, uint32_t shard, core::Lsn fork,
                                 std::optional<core::Lsn> alone_since, core::Epoch* epoch);

// At start, before the shards recover: runs the pending cuts, if any
// (above). Each step is described in `notes`. An error leaves the REJOIN
// file in place for the next start.
absl::Status FinishPendingCuts(const std::string& data_dir, std::vector<std::string>* notes);

}  // namespace werk::net
