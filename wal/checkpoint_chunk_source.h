#pragma once
// Reads a checkpoint file for a standby's bootstrap (docs/replication.md
// "Bootstrap"), a chunk of at most kCheckpointChunkBytesMax at a time, with
// asynchronous reads on the shard's ring (Storage::OpenRead, ReadAt): the
// loop never waits on the disk, and at most one chunk is held at once.
//
// The file is opened at once: a newer checkpoint may remove its name while
// it is sent, and the open file keeps reading. Its size is the checkpoint's
// as the checkpointer recorded it; a file that ends before it, or goes on
// after it, fails the source (kDataLoss, naming the file and the offset).
// The standby checks the whole image anyway before it uses any of it.
//
// Thread affinity: the shard's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "wal/storage.h"

namespace werk::wal {

class CheckpointChunkSource {
 public:
  struct Chunk {
    uint64_t offset = 0;
    std::string_view data;
    bool last = false;
  };

  // Opens `name` (of `bytes` bytes) and starts reading its first chunk.
  // `on_readable` is called (never from within Take) when a read completed.
  CheckpointChunkSource(Storage* storage, std::string name, uint64_t bytes,
                        std::function<void()> on_readable, size_t chunk_bytes = 0);
  ~CheckpointChunkSource();
  CheckpointChunkSource(const CheckpointChunkSource&) = delete;
  CheckpointChunkSource& operator=(const CheckpointChunkSource&) = delete;

  // The next chunk if one was read, handed to `send` (the view is valid
  // during the call), and the read of the one after started. False: none is
  // ready yet. An error ends the source.
  absl::StatusOr<bool> Take(const std::function<void(const Chunk&)>& send);
  // Every chunk was taken.
  bool done() const { return next_ >= bytes_ && taken_last_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t bytes_sent() const { return next_; }

 private:
  void Fetch();
  void Notify();

  Storage* storage_;
  std::string name_;
  uint64_t bytes_;
  size_t chunk_bytes_;
  std::function<void()> on_readable_;
  std::unique_ptr<ReadableFile> file_;
  bool busy_ = false;        // an open or a read is in flight
  bool ready_ = false;       // buf_ holds the chunk at next_
  bool taken_last_ = false;  // the last chunk was handed out
  uint64_t next_ = 0;        // the offset of the next chunk to hand out
  std::string buf_;
  absl::Status error_;
  std::shared_ptr<bool> alive_;  // completions after destruction do nothing
};

}  // namespace werk::wal
