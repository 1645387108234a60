#pragma once
// Startup recovery of one shard's log (docs/wal-format.md, decision table
// R1–R14; style P5): load the newest checkpoint, replay every later record in
// order, truncate a torn tail of the newest segment, and refuse to start on
// anything else that is wrong — with the file and byte offset — unless
// `repair` is set, in which case the log is cut at the first bad byte and
// the loss is logged loudly.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/statusor.h>

#include "core/snapshot.h"
#include "wal/storage.h"
#include "wal/wal.h"

namespace werk::wal {

struct RecoveryOptions {
  uint32_t shard = 0;
  bool repair = false;
  size_t torn_window_bytes = kTornWindowBytes;
};

struct RecoveryResult {
  core::Lsn checkpoint_lsn{0};
  uint64_t checkpoint_items = 0;
  uint64_t checkpoint_bytes = 0;
  uint64_t records_replayed = 0;
  core::Lsn last_lsn{0};
  core::Epoch epoch{1};  // the newest the log states: what its writer continues with
  Wal::Position position;
  // What recovery did, one line each (torn tails truncated, files removed).
  std::vector<std::string> notes;
};

struct RecoverySinks {
  // A checkpoint item; false = malformed (recovery fails).
  std::function<bool(core::SnapshotItemType, std::string_view)> item;
  // A log record after the checkpoint, in LSN order. An error stops
  // recovery (R14): it is returned with the file, offset and LSN.
  std::function<absl::Status(core::Lsn lsn, std::string_view body)> record;
  // After the checkpoint's last item, before the first record (when set):
  // where the state machine finishes a restore (StateMachine::FinishRestore).
  std::function<void()> items_done;
};

absl::StatusOr<RecoveryResult> Recover(Storage& storage, const RecoveryOptions& options,
                                       const RecoverySinks& sinks);

}  // namespace werk::wal
