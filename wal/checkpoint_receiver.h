#pragma once
// The standby's side of a bootstrap's checkpoint (docs/replication.md
// "Bootstrap"): writes the primary's CHECKPOINT_CHUNKs, in order, into a
// staging file, and once the last one is in, syncs it, checks the whole
// image with the checkpoint loader (every frame's hashes, the numbering,
// the end frame's count, the shard and the LSN the WELCOME announced), and
// only then renames it to its checkpoint name in the staging directory
// (which is synced). Nothing of the shard's own log is touched: the install
// happens at the next start (net/bootstrap.h).
//
// A chunk out of order, past the announced size, or an image that does not
// verify fails the receiver (kDataLoss, naming the shard, the LSN and the
// offset) and removes the staging file: nothing is installed.
//
// Blocking writes and a blocking read-back on the calling thread (the
// standby shard's, which has nothing else to do while it is bootstrapped).

#include <cstdint>
#include <memory>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/types.h"
#include "wal/replication_protocol.h"

namespace werk::wal {

class CheckpointReceiver {
 public:
  struct Options {
    std::string dir;  // the staging directory (created; its contents replaced)
    uint32_t shard = 0;
    core::Lsn lsn{0};    // the checkpoint's LSN, as WELCOME said
    uint64_t bytes = 0;  // its size, as WELCOME said
  };

  static absl::StatusOr<std::unique_ptr<CheckpointReceiver>> Open(Options options);
  ~CheckpointReceiver();
  CheckpointReceiver(const CheckpointReceiver&) = delete;
  CheckpointReceiver& operator=(const CheckpointReceiver&) = delete;

  // The next chunk. After the last, complete() is true or an error says why
  // the image was refused.
  absl::Status Take(const CheckpointChunk& chunk);
  bool complete() const { return complete_; }
  uint64_t bytes_received() const { return written_; }
  // The verified checkpoint file (once complete).
  std::string path() const;

 private:
  explicit CheckpointReceiver(Options options);
  absl::Status Fail(absl::Status st);
  absl::Status Seal();

  Options options_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool complete_ = false;
  absl::Status error_;
};

}  // namespace werk::wal
