#pragma once
// Cutting a shard's log after an LSN, offline (docs/wal-format.md, "Cutting
// the log"; docs/replication-plan.md §5 "Rejoin", step 9). A former primary
// that rejoins as a standby may hold records its successor never had: every
// record after the fork LSN F-1. TruncateAfter(F-1) makes them disappear
// durably, before the shard's Wal is opened, with the blocking Storage
// calls only.
//
// Crash safety: the cut is a sequence of durable steps (each a Remove,
// which syncs the directory, or an Overwrite, which is pwrite + fdatasync),
// ordered so that after a crash at any point recovery accepts the log and
// finds every record <= keep_through and, after them, a prefix of the old
// log's later records: the old log, the cut one, or one in between, which
// running TruncateAfter again (the rejoin does, since the primary answers
// DIVERGED again) cuts the rest of. The steps and why each is safe are in
// wal/truncate.cc and docs/wal-format.md.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "core/types.h"
#include "wal/log_format.h"
#include "wal/storage.h"

namespace werk::wal {

struct TruncateOptions {
  uint32_t shard = 0;
  // Only read and count: nothing is written, removed or synced.
  bool dry_run = false;
  // Versions 1 and 2 only: the most a crash can cut (RecoveryOptions's).
  size_t torn_window_bytes = kTornWindowBytes;
  // Called with each record the cut drops (LSN and body, in log order),
  // dry run or not: the rejoin looks in the tail for what it may not drop.
  std::function<void(core::Lsn lsn, std::string_view body)> on_dropped;
};

struct TruncateReport {
  core::Lsn keep_through{0};
  core::Lsn last_lsn{0};  // the log's last record before the cut
  // The records dropped: LSNs first..last (records == 0: nothing to cut),
  // their frames' bytes (markers of the dropped writes included) and the
  // epochs their frames carry, ascending.
  uint64_t records_dropped = 0;
  uint64_t bytes_dropped = 0;
  core::Lsn first_dropped{0};
  core::Lsn last_dropped{0};
  std::vector<core::Epoch> epochs_dropped;
  // Where the cut is: the segment kept with its tail zeroed from
  // cut_offset (empty when no segment holds records on both sides of the
  // cut: it falls on a segment boundary), and the files removed, in order.
  std::string cut_segment;
  uint64_t cut_offset = 0;
  std::vector<std::string> segments_removed;
  std::vector<std::string> checkpoints_removed;
  // The state the cut log starts from: the newest checkpoint at or below
  // keep_through (0: the empty state, the log holds LSN 1).
  core::Lsn start_lsn{0};
  bool dry_run = false;
  // What was done (or, in a dry run, would be), one line each.
  std::vector<std::string> notes;
};

// Keeps every record <= keep_through and drops every later one, with the
// checkpoints taken after keep_through. Refuses, changing nothing:
//  - OutOfRange: keep_through is past the log's last record;
//  - FailedPrecondition: a checkpoint past keep_through exists and the cut
//    log would have no consistent start (no checkpoint at or below
//    keep_through, and the log does not reach back to it or to LSN 1): the
//    caller must bootstrap from the primary instead;
//  - DataLoss / FailedPrecondition: the log does not read as recovery would
//    accept it (run recovery first: it truncates torn tails and judges
//    damaged segments).
// With keep_through equal to the last record it writes nothing.
absl::StatusOr<TruncateReport> TruncateAfter(Storage& storage, core::Lsn keep_through,
                                             const TruncateOptions& options = {});

}  // namespace werk::wal
