#include "wal/wal.h"

#include <cstring>

#include <spdlog/spdlog.h>

#include "core/check.h"

namespace werk::wal {

Wal::Wal(Storage* storage, const core::Clock& clock, Options options, Position p)
    : storage_(storage),
      clock_(clock),
      options_(options),
      next_lsn_(p.next_lsn),
      durable_lsn_(p.next_lsn - 1),
      current_(std::move(p.current)),
      current_id_(p.current_id),
      current_offset_(p.current_offset),
      spare_(std::move(p.spare)),
      spare_id_(p.spare_id),
      next_segment_id_(p.next_segment_id),
      segments_(std::move(p.segments)),
      alive_(std::make_shared<bool>(true)) {
  WERK_CHECK(next_lsn_ >= 1);
  if (!spare_) RequestSpare();
}

Wal::~Wal() { *alive_ = false; }

core::Lsn Wal::Append(std::string_view body) {
  WERK_CHECK(body.size() <= kRecordBodyBytesMax);
  const uint64_t lsn = next_lsn_++;
  const size_t frame = kFrameHeaderBytes + body.size();
  // The front batch is sealed while it is being written.
  const bool front_sealed = write_inflight_ && batches_.size() == 1;
  if (batches_.empty() || front_sealed ||
      (!batches_.back().data.empty() &&
       batches_.back().data.size() + frame > options_.batch_bytes_max)) {
    batches_.emplace_back();
    batches_.back().data.reserve(std::min(options_.batch_bytes_max, size_t(64) << 10));
  }
  Batch& b = batches_.back();
  if (b.data.empty()) b.first_lsn = lsn;
  AppendFrame(b.data, lsn, options_.epoch, uint16_t(RecordType::kMutation), body);
  b.last_lsn = lsn;
  bytes_appended_ += frame;
  return core::Lsn(lsn);
}

void Wal::Commit() {
  if (!write_inflight_ && !batches_.empty() && !failed_) StartWrite();
}

void Wal::StartWrite() {
  WERK_DCHECK(!write_inflight_ && !batches_.empty());
  Batch& b = batches_.front();
  if (!current_ || current_offset_ >= options_.segment_bytes) {
    if (!spare_) {
      if (!spare_pending_) RequestSpare();
      return;  // resumes when the spare is ready
    }
    current_ = std::move(spare_);
    current_id_ = spare_id_;
    current_offset_ = 0;
    // The header goes out with the first batch: one write, one sync.
    SegmentHeader h;
    h.shard = options_.shard;
    h.segment_id = current_id_;
    h.first_lsn = b.first_lsn;
    h.epoch = options_.epoch;
    h.created_at = clock_.WallNow();
    char header[kSegmentHeaderBytes];
    EncodeSegmentHeader(h, header);
    b.data.insert(0, header, kSegmentHeaderBytes);
    segments_.emplace_back(current_id_, h.first_lsn);
    RequestSpare();
  }
  write_inflight_ = true;
  const size_t bytes = b.data.size();
  SPDLOG_DEBUG("wal: write segment {} offset {} bytes {} lsn {}..{}", current_id_, current_offset_,
               bytes, b.first_lsn, b.last_lsn);
  const uint64_t last = b.last_lsn;
  std::weak_ptr<bool> alive = alive_;
  current_->WriteDurable(current_offset_, b.data, [this, alive, bytes, last](int32_t res) {
    if (auto a = alive.lock(); a && *a) OnWritten(res, bytes, last);
  });
}

void Wal::OnWritten(int32_t res, size_t bytes, uint64_t last_lsn) {
  write_inflight_ = false;
  if (res < 0) {
    Fail(std::string("write+fdatasync of segment ") + SegmentName(current_id_) +
         " failed: " + std::strerror(-res));
    return;
  }
  WERK_CHECK(size_t(res) == bytes);
  ++syncs_;
  current_offset_ += bytes;
  durable_lsn_ = last_lsn;
  batches_.pop_front();
  if (!batches_.empty()) StartWrite();
}

void Wal::RequestSpare() {
  if (spare_pending_ || failed_) return;
  spare_pending_ = true;
  const uint64_t id = next_segment_id_++;
  std::weak_ptr<bool> alive = alive_;
  storage_->CreatePreallocated(
      SegmentName(id), options_.segment_bytes,
      [this, alive, id](absl::StatusOr<std::unique_ptr<SegmentFile>> file) {
        auto a = alive.lock();
        if (!a || !*a) return;
        spare_pending_ = false;
        if (!file.ok()) {
          Fail("cannot prepare the next segment: " + std::string(file.status().message()));
          return;
        }
        spare_ = std::move(*file);
        spare_id_ = id;
        if (!write_inflight_ && !batches_.empty() && !failed_) StartWrite();
      });
}

void Wal::ReleaseThrough(uint64_t lsn) {
  // Segment i is covered when the next one starts at or before lsn + 1.
  while (segments_.size() >= 2 && segments_[1].second <= lsn + 1 &&
         segments_[0].first != current_id_) {
    const std::string name = SegmentName(segments_[0].first);
    segments_.erase(segments_.begin());
    storage_->RemoveAsync(name, [name](int32_t res) {
      if (res < 0) spdlog::warn("cannot remove {}: {}", name, std::strerror(-res));
    });
  }
}

void Wal::Fail(std::string why) {
  if (failed_) return;
  failed_ = true;
  failure_ = std::move(why);
  spdlog::critical("write-ahead log failed, no further writes are possible: {}", failure_);
}

}  // namespace werk::wal
