#pragma once
// Moving a copy of a shard's log aside for forensics before its diverged
// tail is cut (docs/replication-plan.md §5 "Rejoin"): the files are copied,
// not moved, so the cut still works on the live directory, and the copy is
// made durable before the cut begins, so a crash during the cut never loses
// both. Plain blocking file I/O at start, before the shard runs: the copy
// goes to a directory the shard's Storage does not own.

#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "core/types.h"

namespace werk::wal {

// "diverged-e<epoch>-<unix seconds>": the directory, beside the shard
// directories' parent, that holds one copy per shard (shard-NNN/ inside).
std::string DivergedDirName(core::Epoch epoch, int64_t unix_seconds);

struct CopyReport {
  std::vector<std::string> files;  // names copied, in order
  uint64_t bytes = 0;
};

// Copies the log's files of `from_dir` (segments, checkpoints; not recycled
// `.free` files nor `.tmp` leftovers, which are no part of the log) into
// `to_dir`, which must not exist yet and is created with its missing
// parents. Each file is fsynced, then `to_dir` and its parent, so the copy
// survives a crash once this returns.
absl::StatusOr<CopyReport> CopyShardDir(const std::string& from_dir, const std::string& to_dir);

}  // namespace werk::wal
