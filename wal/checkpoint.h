#pragma once
// Checkpoint images (docs/wal-format.md "Checkpoints"): the whole state of a
// shard as of an LSN, framed like log records and verified as a whole before
// any of it is used.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <absl/status/status.h>

#include "core/snapshot.h"
#include "wal/log_format.h"

namespace werk::wal {

// An image built an item at a time (a snapshot taken in slices), then
// sealed with its header.
class CheckpointWriter {
 public:
  CheckpointWriter(core::Epoch epoch, size_t bytes_hint);
  void Add(core::SnapshotItemType type, std::string_view body);
  // The image of a state that reflects every record up to `lsn`.
  std::string Finish(uint32_t shard, core::Lsn lsn, int64_t created_at) &&;
  uint64_t items() const { return n_; }

 private:
  core::Epoch epoch_;
  std::string out_;
  uint64_t n_ = 0;  // a checkpoint's frames are numbered 1, 2, ... in their LSN field
};

// Serializes `state`, which reflects every record up to `lsn`, in one go.
std::string BuildCheckpoint(const core::SnapshotSource& state, uint32_t shard, core::Lsn lsn,
                            core::Epoch epoch, int64_t created_at);

// Verifies every frame of `image` (header, hashes, item numbering, the end
// frame's count) and only then hands the items to `sink`, in order.
absl::Status LoadCheckpoint(
    std::string_view image, uint32_t shard, CheckpointHeader* header,
    const std::function<bool(core::SnapshotItemType, std::string_view)>& sink);

}  // namespace werk::wal
