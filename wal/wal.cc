#include "wal/wal.h"

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/check.h"

namespace werk::wal {

Wal::Wal(Storage* storage, const core::Clock& clock, Options options, Position p)
    : storage_(storage),
      clock_(clock),
      options_(options),
      next_lsn_(p.next_lsn.value()),
      durable_lsn_(p.next_lsn.value() - 1),
      next_write_sequence_(p.next_write_sequence),
      stated_durable_lsn_(p.stated_durable_lsn.value()),
      current_(std::move(p.current)),
      current_id_(p.current_id),
      current_offset_(p.current_offset),
      current_salt_(p.current_salt),
      spare_(std::move(p.spare)),
      spare_id_(p.spare_id),
      next_segment_id_(p.next_segment_id),
      recycled_(std::move(p.recycled)),
      segments_(std::move(p.segments)),
      followers_(*this, batches_, options_.follower_retained_bytes_max),
      alive_(std::make_shared<bool>(true)) {
  WERK_CHECK(next_lsn_ >= 1);
  // A log written by an older version continues in a new segment.
  if (current_ && p.current_version != kFormatVersion) current_offset_ = options_.segment_bytes;
  if (!spare_) RequestSpare();
}

Wal::~Wal() { *alive_ = false; }

core::Lsn Wal::Append(std::string_view body) {
  WERK_CHECK(body.size() <= kRecordBodyBytesMax);
  const uint64_t lsn = next_lsn_++;
  const size_t frame = kFrameHeaderBytes + body.size();
  // Only the last batch takes records, and only while nothing writes it.
  if (batches_.empty() || batches_.back().state != LogBatch::State::kOpen ||
      batches_.back().epoch != options_.epoch.value() ||
      (batches_.back().records > 0 &&
       batches_.back().write_bytes() + frame > options_.batch_bytes_max)) {
    OpenBatch(lsn, std::min(options_.batch_bytes_max, size_t(64) << 10));
  }
  LogBatch& b = batches_.back();
  AppendFrame(b.data, core::Lsn(lsn), options_.epoch, uint16_t(RecordType::kMutation), body,
              b.salt);
  b.last_lsn = lsn;
  ++b.records;
  bytes_appended_ += frame;
  return core::Lsn(lsn);
}

LogBatch& Wal::OpenBatch(uint64_t first_lsn, size_t reserve_bytes) {
  // The batch goes where the one before it ends (every batch before it is
  // sealed, so that is known): to the same segment while that one's offset
  // is below its size — as the write is submitted — else to the next one.
  uint64_t id = current_id_;
  uint64_t salt = current_salt_;
  uint64_t offset = current_ ? current_offset_ : options_.segment_bytes;
  if (!batches_.empty()) {
    const LogBatch& last = batches_.back();
    id = last.segment_id;
    salt = last.salt;
    offset = last.offset + last.data.size();
  }
  LogBatch& b = batches_.emplace_back();
  b.first_lsn = first_lsn;
  b.last_lsn = first_lsn - 1;
  b.epoch = options_.epoch.value();
  if (offset >= options_.segment_bytes) {
    b.segment_id = SegmentIdAfter(id);
    b.salt = salt == 0 && id == 0 ? FreshSalt() : NextSalt(salt, b.segment_id);
    b.marker_at = kSegmentHeaderBytes;
    b.offset = 0;
  } else {
    b.segment_id = id;
    b.salt = salt;
    b.offset = offset;
  }
  b.data.reserve(reserve_bytes);
  b.data.assign(b.frames_from(), '\0');
  return b;
}

uint64_t Wal::SegmentIdAfter(uint64_t id) const {
  // The spare (ready or being prepared) follows the current segment; the
  // ones after it take the ids RequestSpare() hands out next, in order.
  if (id == current_id_) return spare_id_;
  if (id == spare_id_) return next_segment_id_;
  WERK_DCHECK(id >= next_segment_id_);
  return id + 1;
}

void Wal::Commit() { StartWrites(); }

void Wal::SetEpoch(core::Epoch epoch) {
  WERK_CHECK(epoch >= options_.epoch);
  // The open batch keeps the old epoch; the next Append opens a new one.
  options_.epoch = epoch;
}

void Wal::StartWrites() {
  if (failed_) return;
  for (LogBatch& b : batches_) {
    if (b.state != LogBatch::State::kOpen) continue;
    const int limit = current_ ? std::min(current_->concurrent_writes_max(), kWritesInFlightMax) : 1;
    if (writes_inflight_ >= limit || !StartWrite(b)) return;
  }
}

bool Wal::StartWrite(LogBatch& b) {
  const bool starts_segment = !current_ || current_offset_ >= options_.segment_bytes;
  // The segment was decided when the batch was opened (OpenBatch); the frames
  // were hashed with its salt then.
  WERK_CHECK(starts_segment == b.starts_segment());
  if (starts_segment) {
    // Never have writes in flight to two segments: a crash can then cut only
    // the last segment written (recovery relies on it, docs/wal-format.md).
    if (writes_inflight_ > 0) return false;
    if (!spare_) {
      if (!spare_pending_) RequestSpare();
      return false;  // resumes when the spare is ready
    }
    WERK_CHECK(b.segment_id == spare_id_);
    current_ = std::move(spare_);
    current_salt_ = b.salt;
    current_id_ = spare_id_;
    current_offset_ = 0;
    segments_.emplace_back(current_id_, b.first_lsn);
    RequestSpare();
  }
  WERK_CHECK(b.segment_id == current_id_ && b.salt == current_salt_ &&
             b.offset == current_offset_);
  // The write marker: this write's place in the log's sequence of writes and
  // what was durable when it was issued. Recovery reads it as evidence: a
  // damaged frame before a marker that shows the frame's LSN durable was
  // synced and acknowledged, never cut by a crash (docs/wal-format.md).
  WriteMarker marker;
  marker.sequence = next_write_sequence_++;
  marker.durable_lsn = durable_lsn_;
  marker.write_bytes = b.write_bytes();
  stated_durable_lsn_ = std::max(stated_durable_lsn_, durable_lsn_);
  EncodeWriteMarker(marker, core::Lsn(b.first_lsn), core::Epoch(b.epoch), b.salt,
                    b.data.data() + b.marker_at);
  bytes_appended_ += kWriteMarkerFrameBytes;
  if (starts_segment) {
    // The header goes out with the first batch: one write, one sync.
    SegmentHeader h;
    h.shard = options_.shard;
    h.segment_id = current_id_;
    h.first_lsn = b.first_lsn;
    h.epoch = b.epoch;
    h.created_at = clock_.WallNow();
    h.salt = b.salt;
    EncodeSegmentHeader(h, b.data.data());
  }
  b.state = LogBatch::State::kWriting;
  b.submitted_ns = clock_.MonotonicNow();  // one clock read per write, not per record
  ++writes_inflight_;
  const uint64_t offset = current_offset_;
  current_offset_ += b.data.size();
  SPDLOG_DEBUG("wal: write {} segment {} offset {} bytes {} lsn {}..{} durable {}",
               marker.sequence, current_id_, offset, b.data.size(), b.first_lsn, b.last_lsn,
               marker.durable_lsn);
  std::weak_ptr<bool> alive = alive_;
  std::shared_ptr<SegmentFile> file = current_;  // lives until the write completes
  LogBatch* batch = &b;  // deque elements stay put while others are added or popped
  const uint64_t id = current_id_;
  ++io_pending_;
  file->WriteDurable(offset, b.data, [this, alive, file, batch, id](int32_t res) {
    if (auto a = alive.lock(); a && *a) {
      --io_pending_;
      OnWritten(batch, res, id);
    }
  });
  return true;
}

void Wal::OnWritten(LogBatch* b, int32_t res, uint64_t segment_id) {
  --writes_inflight_;
  if (res < 0) {
    Fail(std::string("write+fdatasync of segment ") + SegmentName(segment_id) +
         " failed: " + std::strerror(-res));
    return;
  }
  if (failed_) return;
  WERK_CHECK(size_t(res) == b->data.size());
  ++syncs_;
  last_write_done_ns_ = clock_.MonotonicNow();
  sync_us_.Record(uint64_t(std::max<int64_t>(0, last_write_done_ns_ - b->submitted_ns)) / 1000);
  if (b->records > 0) batch_records_.Record(b->records);
  b->state = LogBatch::State::kDone;
  // Durability moves over completed batches in order only.
  while (!batches_.empty() && batches_.front().state == LogBatch::State::kDone) {
    LogBatch& done = batches_.front();
    durable_lsn_ = done.last_lsn;
    if (followers_.active() && done.records > 0) followers_.Retain(std::move(done));
    batches_.pop_front();
  }
  StartWrites();
}

int64_t Wal::idle_marker_wait_ns() const {
  // Due only when nothing is pending, the last write is not vouched for yet,
  // and the marker fits in the current segment.
  if (failed_ || options_.idle_marker_ns <= 0 || !batches_.empty() || !current_ ||
      stated_durable_lsn_ >= durable_lsn_ || current_offset_ >= options_.segment_bytes)
    return -1;
  const int64_t due = last_write_done_ns_ + options_.idle_marker_ns;
  return std::max<int64_t>(0, due - clock_.MonotonicNow());
}

void Wal::WriteIdleMarkerIfDue() {
  if (idle_marker_wait_ns() != 0) return;
  // A marker alone carries the next LSN; it fits the current segment.
  WERK_CHECK(!OpenBatch(next_lsn_, 0).starts_segment());
  ++idle_markers_;
  StartWrites();
}

int64_t Wal::trim_wait_ns() const {
  if (failed_ || options_.recycled_trim_idle_ns <= 0 || recycled_.size() <= kRecycledSegmentsMax ||
      !batches_.empty())
    return -1;
  const int64_t due = last_write_done_ns_ + options_.recycled_trim_idle_ns;
  return std::max<int64_t>(0, due - clock_.MonotonicNow());
}

void Wal::TrimRecycledIfIdle() {
  if (trim_wait_ns() != 0) return;
  // The newest kept first: the oldest stay (any would do, they are alike).
  while (recycled_.size() > kRecycledSegmentsMax) {
    std::string name = std::move(recycled_.back());
    recycled_.pop_back();
    ++io_pending_;
    std::weak_ptr<bool> alive = alive_;
    storage_->RemoveAsync(name, [this, alive, name](int32_t res) {
      if (auto a = alive.lock(); a && *a) --io_pending_;
      if (res < 0) spdlog::warn("cannot remove {}: {}", name, std::strerror(-res));
    });
  }
}

void Wal::RequestSpare() {
  if (spare_pending_ || failed_) return;
  spare_pending_ = true;
  const uint64_t id = next_segment_id_++;
  spare_id_ = id;  // known now: batches opened from here on may be bound for it
  std::weak_ptr<bool> alive = alive_;
  ++io_pending_;
  auto done = [this, alive, id](absl::StatusOr<std::unique_ptr<SegmentFile>> file) {
    auto a = alive.lock();
    if (!a || !*a) return;
    --io_pending_;
    OnSpare(id, std::move(file));
  };
  if (recycled_.empty()) {
    storage_->CreatePreallocated(SegmentName(id), options_.segment_bytes, std::move(done));
    return;
  }
  const std::string from = std::move(recycled_.back());
  recycled_.pop_back();
  storage_->Reuse(from, SegmentName(id),
                  [this, alive, id, from, done = std::move(done)](
                      absl::StatusOr<std::unique_ptr<SegmentFile>> file) mutable {
                    auto a = alive.lock();
                    if (!a || !*a) return;
                    if (file.ok()) {
                      ++segments_recycled_;
                      done(std::move(file));
                      return;
                    }
                    // A kept file that cannot be reused (removed by hand, say)
                    // costs only the reuse: a new file takes its place.
                    spdlog::warn("cannot reuse {}: {}; creating a new segment", from,
                                 std::string(file.status().message()));
                    storage_->CreatePreallocated(SegmentName(id), options_.segment_bytes,
                                                 std::move(done));
                  });
}

void Wal::OnSpare(uint64_t id, absl::StatusOr<std::unique_ptr<SegmentFile>> file) {
  spare_pending_ = false;
  if (!file.ok()) {
    Fail("cannot prepare the next segment: " + std::string(file.status().message()));
    return;
  }
  spare_ = std::shared_ptr<SegmentFile>(std::move(*file));
  spare_id_ = id;
  StartWrites();
}

void Wal::ReleaseThrough(core::Lsn through) {
  release_through_ = std::max(release_through_, through.value());
  // Segment i is covered when the next one starts at or before lsn + 1,
  // and free of pins when the next one starts at or before the lowest
  // pinned LSN (all its records are older).
  uint64_t limit = release_through_ + 1;
  if (!pins_.empty()) limit = std::min(limit, *pins_.begin());
  while (segments_.size() >= 2 && segments_[1].second <= limit &&
         segments_[0].first != current_id_) {
    const uint64_t id = segments_[0].first;
    const std::string name = SegmentName(id);
    segments_.erase(segments_.begin());
    ++io_pending_;
    std::weak_ptr<bool> alive = alive_;
    if (recycled_.size() + recycling_ <
        std::max(kRecycledSegmentsMax, options_.recycled_segments_max)) {
      // Kept for reuse: renamed, so recovery never reads it as log.
      ++recycling_;
      const std::string to = RecycledName(id);
      storage_->RenameAsync(name, to, [this, alive, name, to](int32_t res) {
        auto a = alive.lock();
        if (!a || !*a) return;
        --io_pending_;
        --recycling_;
        if (res < 0) {
          spdlog::warn("cannot keep {} for reuse: {}", name, std::strerror(-res));
          return;
        }
        recycled_.push_back(to);
      });
      continue;
    }
    storage_->RemoveAsync(name, [this, alive, name](int32_t res) {
      if (auto a = alive.lock(); a && *a) --io_pending_;
      if (res < 0) spdlog::warn("cannot remove {}: {}", name, std::strerror(-res));
    });
  }
}

SegmentPin Wal::Pin(core::Lsn lsn) {
  SegmentPin pin;
  pin.wal_ = this;
  pin.alive_ = alive_;
  pin.at_ = pins_.insert(lsn.value());
  return pin;
}

void Wal::Unpin(std::multiset<uint64_t>::iterator at) {
  const uint64_t lowest = *pins_.begin();
  pins_.erase(at);
  // What was held back for this pin goes now, if no other pin holds it.
  if (release_through_ > 0 && (pins_.empty() || *pins_.begin() > lowest))
    ReleaseThrough(core::Lsn(release_through_));
}

std::vector<Wal::SegmentRef> Wal::SegmentsFrom(core::Lsn lsn) const {
  std::vector<SegmentRef> out;
  for (size_t i = 0; i < segments_.size(); ++i) {
    // Segment i holds records >= lsn unless the next one starts at or
    // before it.
    if (i + 1 < segments_.size() && segments_[i + 1].second <= lsn.value()) continue;
    out.push_back({segments_[i].first, core::Lsn(segments_[i].second),
                   SegmentName(segments_[i].first)});
  }
  return out;
}

SegmentPin& SegmentPin::operator=(SegmentPin&& other) noexcept {
  if (this != &other) {
    Release();
    wal_ = std::exchange(other.wal_, nullptr);
    alive_ = std::move(other.alive_);
    at_ = other.at_;
  }
  return *this;
}

void SegmentPin::Release() {
  if (!wal_) return;
  Wal* wal = std::exchange(wal_, nullptr);
  if (auto a = alive_.lock(); a && *a) wal->Unpin(at_);
}

void Wal::Fail(std::string why) {
  if (failed_) return;
  failed_ = true;
  failure_ = std::move(why);
  followers_.SetFailure(failure_);
  spdlog::critical("write-ahead log failed, no further writes are possible: {}", failure_);
}

}  // namespace werk::wal
