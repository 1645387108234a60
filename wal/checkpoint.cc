#include "wal/checkpoint.h"

#include <cstring>
#include <vector>

#include "core/byte_codec.h"
#include "wal/log_reader.h"

namespace werk::wal {

CheckpointWriter::CheckpointWriter(core::Epoch epoch, size_t bytes_hint)
    : epoch_(epoch), out_(kCheckpointHeaderBytes, '\0') {
  // Reserved once: growing a large image later would copy it in one go,
  // the very stall a sliced snapshot avoids.
  out_.reserve(bytes_hint + 4096);
}

void CheckpointWriter::Add(core::SnapshotItemType type, std::string_view body) {
  AppendFrame(out_, core::Lsn(++n_), epoch_, uint16_t(type), body);
}

std::string CheckpointWriter::Finish(uint32_t shard, core::Lsn lsn, int64_t created_at) && {
  std::string count;
  core::ByteWriter(count).U64(n_);
  AppendFrame(out_, core::Lsn(n_ + 1), epoch_, uint16_t(RecordType::kEnd), count);
  CheckpointHeader h;
  h.shard = shard;
  h.lsn = lsn.value();
  h.epoch = epoch_.value();
  h.created_at = created_at;
  h.item_count = n_;
  EncodeCheckpointHeader(h, out_.data());
  return std::move(out_);
}

std::string BuildCheckpoint(const core::SnapshotSource& state, uint32_t shard, core::Lsn lsn,
                            core::Epoch epoch, int64_t created_at) {
  CheckpointWriter w(epoch, state.snapshot_bytes_hint());
  state.Snapshot([&](core::SnapshotItemType type, std::string_view body) { w.Add(type, body); });
  return std::move(w).Finish(shard, lsn, created_at);
}

absl::Status LoadCheckpoint(
    std::string_view image, uint32_t shard, CheckpointHeader* header,
    const std::function<bool(core::SnapshotItemType, std::string_view)>& sink) {
  switch (DecodeCheckpointHeader(image, header)) {
    case HeaderStatus::kOk: break;
    case HeaderStatus::kBadMagic: return absl::DataLossError("not a werk checkpoint (bad magic)");
    case HeaderStatus::kBadVersion:
      return absl::FailedPreconditionError("unsupported checkpoint format version " +
                                           std::to_string(header->version));
    default: return absl::DataLossError("checkpoint header checksum mismatch");
  }
  if (header->shard != shard)
    return absl::FailedPreconditionError("checkpoint of shard " + std::to_string(header->shard) +
                                         " found in the directory of shard " +
                                         std::to_string(shard));
  // Pass 1: verify everything. Pass 2: hand out the items.
  std::vector<Frame> frames;
  LogReader::Options o;
  o.start_offset = kCheckpointHeaderBytes;
  o.expected_lsn = core::Lsn(1);
  LogReader reader(image, o);
  bool ended = false;
  while (!ended) {
    Frame f;
    switch (reader.Next(&f)) {
      case ReadOutcome::kRecord:
        if (f.header.type == uint16_t(RecordType::kEnd)) {
          core::ByteReader r(f.body);
          const uint64_t count = r.U64();
          if (!r.ok() || !r.at_end() || count != header->item_count ||
              count != frames.size())
            return absl::DataLossError("checkpoint item count mismatch");
          ended = true;
        } else {
          frames.push_back(f);
        }
        break;
      case ReadOutcome::kEnd:
        return absl::DataLossError("checkpoint ends before its end frame (" +
                                   std::to_string(frames.size()) + " items read)");
      case ReadOutcome::kTornTail:
      case ReadOutcome::kCorrupt:
        return absl::DataLossError("checkpoint corrupt at byte " + std::to_string(reader.offset()) +
                                   ": " + reader.reason());
    }
  }
  if (reader.offset() != image.size())
    return absl::DataLossError("checkpoint has bytes after its end frame");
  for (const Frame& f : frames) {
    if (!sink(core::SnapshotItemType(f.header.type), f.body))
      return absl::DataLossError("checkpoint item " + std::to_string(f.header.lsn) +
                                 " (type " + std::to_string(f.header.type) + ") is malformed");
  }
  return absl::OkStatus();
}

}  // namespace werk::wal
