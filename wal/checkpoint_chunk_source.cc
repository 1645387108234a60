#include "wal/checkpoint_chunk_source.h"

#include <algorithm>
#include <utility>

#include "wal/replication_protocol.h"

namespace werk::wal {

CheckpointChunkSource::CheckpointChunkSource(Storage* storage, std::string name, uint64_t bytes,
                                             std::function<void()> on_readable,
                                             size_t chunk_bytes)
    : storage_(storage),
      name_(std::move(name)),
      bytes_(bytes),
      chunk_bytes_(chunk_bytes == 0 ? kCheckpointChunkBytesMax
                                    : std::min(chunk_bytes, kCheckpointChunkBytesMax)),
      on_readable_(std::move(on_readable)),
      alive_(std::make_shared<bool>(true)) {
  busy_ = true;
  std::weak_ptr<bool> alive = alive_;
  storage_->OpenRead(name_, [this, alive](absl::StatusOr<std::unique_ptr<ReadableFile>> file) {
    if (auto a = alive.lock(); !a || !*a) return;
    busy_ = false;
    if (!file.ok()) {
      error_ = absl::Status(file.status().code(), "bootstrap: opening the checkpoint " + name_ +
                                                      ": " + std::string(file.status().message()));
    } else {
      file_ = std::move(*file);
      Fetch();
    }
    if (!error_.ok()) Notify();
  });
}

CheckpointChunkSource::~CheckpointChunkSource() { *alive_ = false; }

void CheckpointChunkSource::Fetch() {
  if (busy_ || ready_ || !error_.ok() || !file_ || taken_last_) return;
  const size_t len = size_t(std::min<uint64_t>(chunk_bytes_, bytes_ - next_));
  // One byte more than the file should hold at its end: a file longer than
  // the checkpoint's recorded size is not the checkpoint.
  const size_t ask = next_ + len >= bytes_ ? len + 1 : len;
  busy_ = true;
  std::weak_ptr<bool> alive = alive_;
  const uint64_t at = next_;
  file_->ReadAt(at, ask, [this, alive, at, len](absl::StatusOr<std::string> data) {
    if (auto a = alive.lock(); !a || !*a) return;
    busy_ = false;
    if (!data.ok()) {
      error_ = absl::Status(data.status().code(), "bootstrap: reading the checkpoint " + name_ +
                                                      ": " + std::string(data.status().message()));
    } else if (data->size() != len) {
      error_ = absl::DataLossError("bootstrap: the checkpoint " + name_ + " holds " +
                                   (data->size() < len ? "fewer" : "more") + " bytes than the " +
                                   std::to_string(bytes_) + " recorded (read " +
                                   std::to_string(data->size()) + " at offset " +
                                   std::to_string(at) + ")");
    } else {
      buf_ = std::move(*data);
      ready_ = true;
    }
    Notify();
  });
}

void CheckpointChunkSource::Notify() {
  // A copy: the listener may destroy this source.
  if (std::function<void()> tell = on_readable_) tell();
}

absl::StatusOr<bool> CheckpointChunkSource::Take(const std::function<void(const Chunk&)>& send) {
  if (!error_.ok()) return error_;
  if (!ready_) {
    Fetch();
    return false;
  }
  Chunk c;
  c.offset = next_;
  c.data = buf_;
  c.last = next_ + buf_.size() >= bytes_;
  send(c);
  next_ += buf_.size();
  taken_last_ = c.last;
  ready_ = false;
  buf_.clear();
  Fetch();
  return true;
}

}  // namespace werk::wal
