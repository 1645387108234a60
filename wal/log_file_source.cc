#include "wal/log_file_source.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/check.h"
#include "wal/log_reader.h"

namespace werk::wal {

absl::StatusOr<std::unique_ptr<LogFileSource>> LogFileSource::Open(Wal* wal, core::Lsn from,
                                                                   core::Lsn to,
                                                                   Options options) {
  WERK_CHECK(from.value() >= 1 && to <= wal->durable_lsn());
  std::unique_ptr<LogFileSource> s(new LogFileSource(wal, from, to, std::move(options)));
  if (s->done()) return s;  // nothing to read
  const std::vector<Wal::SegmentRef> refs = wal->SegmentsFrom(from);
  if (refs.empty() || refs[0].first_lsn > from) {
    return absl::OutOfRangeError(
        "LSN " + std::to_string(from.value()) + " is no longer in the log's segment files (" +
        (refs.empty() ? std::string("none is left")
                      : "the oldest begins at LSN " + std::to_string(refs[0].first_lsn.value())) +
        "): the standby needs a checkpoint bootstrap");
  }
  for (size_t i = 0; i < refs.size() && refs[i].first_lsn <= to; ++i) {
    // A segment's records end where the next one's begin.
    uint64_t last = to.value();
    if (i + 1 < refs.size()) last = std::min(last, refs[i + 1].first_lsn.value() - 1);
    s->segments_.push_back({refs[i], last});
  }
  s->pin_ = wal->Pin(from);
  s->at_.expected_lsn = s->segments_[0].ref.first_lsn.value();
  s->Fetch(kSegmentHeaderBytes);  // the first bytes are on their way
  return s;
}

LogFileSource::LogFileSource(Wal* wal, core::Lsn from, core::Lsn to, Options options)
    : storage_(wal->storage()),
      options_(std::move(options)),
      from_(from.value()),
      to_(to.value()),
      next_(from.value()),
      alive_(std::make_shared<bool>(true)) {}

LogFileSource::~LogFileSource() { *alive_ = false; }

absl::Status LogFileSource::Fail(absl::Status st) {
  error_ = std::move(st);
  file_.reset();
  pin_.Release();
  return error_;
}

void LogFileSource::Fetch(size_t need) {
  if (opening_ || reading_ || !error_.ok()) return;
  std::weak_ptr<bool> alive = alive_;
  if (!file_) {
    opening_ = true;
    storage_->OpenRead(segments_[seg_].ref.name,
                       [this, alive](absl::StatusOr<std::unique_ptr<ReadableFile>> file) {
                         if (auto a = alive.lock(); a && *a) OnOpened(std::move(file));
                       });
    return;
  }
  // Only the frame not yet read stays: the window is one read and the frame
  // cut at its end.
  buf_.erase(0, pos_);
  base_ += pos_;
  pos_ = 0;
  reading_ = true;
  ++reads_;
  file_->ReadAt(base_ + buf_.size(), std::max(options_.read_bytes, need),
                [this, alive](absl::StatusOr<std::string> data) {
                  if (auto a = alive.lock(); a && *a) OnData(std::move(data));
                });
}

void LogFileSource::OnOpened(absl::StatusOr<std::unique_ptr<ReadableFile>> file) {
  opening_ = false;
  if (!file.ok()) {
    (void)Fail(absl::Status(file.status().code(), "catching up from the log's files: " +
                                                      std::string(file.status().message())));
    Notify();
    return;
  }
  file_ = std::move(*file);
  Fetch(kSegmentHeaderBytes);
}

void LogFileSource::OnData(absl::StatusOr<std::string> data) {
  reading_ = false;
  if (!data.ok()) {
    (void)Fail(absl::Status(data.status().code(), "catching up from the log's files: " +
                                                      std::string(data.status().message())));
  } else {
    bytes_read_ += data->size();
    eof_ = data->empty();
    buf_.append(*data);
  }
  Notify();
}

void LogFileSource::Notify() {
  // A copy: the listener may destroy this source.
  if (std::function<void()> tell = options_.on_readable) tell();
}

absl::Status LogFileSource::ReadHeader() {
  const Segment& s = segments_[seg_];
  SegmentHeader h;
  if (DecodeSegmentHeader(buf_, &h) != HeaderStatus::kOk) {
    return absl::DataLossError(s.ref.name + ": the segment header does not verify");
  }
  if (h.segment_id != s.ref.id || h.first_lsn != s.ref.first_lsn.value()) {
    return absl::DataLossError(s.ref.name + " holds segment " + std::to_string(h.segment_id) +
                               " from LSN " + std::to_string(h.first_lsn) + ", not segment " +
                               std::to_string(s.ref.id) + " from LSN " +
                               std::to_string(s.ref.first_lsn.value()) + " as the log lists it");
  }
  if (h.first_lsn != at_.expected_lsn) {
    return absl::DataLossError(s.ref.name + " begins at LSN " + std::to_string(h.first_lsn) +
                               " where " + std::to_string(at_.expected_lsn) + " was expected");
  }
  header_read_ = true;
  salt_ = h.salt;
  markers_ = h.version >= kFormatVersionMarkers;
  at_.min_epoch = std::max(at_.min_epoch, h.epoch);
  at_.marker = {};
  at_.write_end = 0;
  pos_ = kSegmentHeaderBytes;
  return absl::OkStatus();
}

size_t LogFileSource::FrameShortBy() const {
  if (eof_) return 0;  // all there is: the reader judges it
  const size_t avail = buf_.size() - pos_;
  if (avail < kFrameHeaderBytes) return kFrameHeaderBytes - avail;
  // A header that does not verify is the reader's to report; one that does
  // says how long its frame is.
  FrameHeader h;
  if (!DecodeFrameHeader(std::string_view(buf_).substr(pos_), &h, salt_) ||
      h.version != kFrameVersion || h.body_bytes > kRecordBodyBytesMax)
    return 0;
  const size_t frame = kFrameHeaderBytes + h.body_bytes;
  return avail < frame ? frame - avail : 0;
}

void LogFileSource::NextSegment() {
  file_.reset();
  buf_.clear();
  base_ = 0;
  pos_ = 0;
  header_read_ = false;
  eof_ = false;
  ++seg_;
}

absl::StatusOr<size_t> LogFileSource::Read(size_t bytes_max,
                                           absl::FunctionRef<bool(const FollowedRecord&)> take) {
  if (!error_.ok()) return error_;
  size_t taken = 0;
  size_t bytes = 0;
  while (!done()) {
    if (opening_ || reading_) break;
    if (seg_ >= segments_.size()) {
      (void)Fail(absl::InternalError("the log's segments end before LSN " +
                                     std::to_string(at_.expected_lsn)));
      break;
    }
    const Segment& s = segments_[seg_];
    if (!file_) {
      Fetch(kSegmentHeaderBytes);
      break;
    }
    if (!header_read_) {
      if (buf_.size() < kSegmentHeaderBytes && !eof_) {
        Fetch(kSegmentHeaderBytes - buf_.size());
        break;
      }
      if (auto st = ReadHeader(); !st.ok()) {
        (void)Fail(std::move(st));
        break;
      }
      continue;
    }
    if (at_.expected_lsn > s.last_lsn) {
      NextSegment();
      continue;
    }
    if (const size_t short_by = FrameShortBy(); short_by > 0) {
      Fetch(short_by);
      break;
    }
    // The reader continues where the last one stopped: fresh over the
    // window (which a read may have moved), with the position kept.
    LogReader::Options ro;
    ro.start_offset = pos_;
    ro.expected_lsn = core::Lsn(at_.expected_lsn);
    ro.min_epoch = at_.min_epoch;
    ro.salt = salt_;
    ro.write_markers = markers_;
    ro.marker = at_.marker;
    ro.write_end = at_.write_end > base_ ? at_.write_end - base_ : 0;
    LogReader reader(buf_, ro);
    Frame f;
    const ReadOutcome out = reader.Next(&f);
    if (out != ReadOutcome::kRecord) {
      // Every record up to to_ is durable: anything but the next frame is
      // damage (or a file that changed under the pin).
      (void)Fail(absl::DataLossError(
          s.ref.name + " at byte " + std::to_string(base_ + reader.offset()) + ": " +
          (out == ReadOutcome::kEnd ? std::string("the data ends") : reader.reason()) +
          " where durable LSN " + std::to_string(at_.expected_lsn) + " was expected"));
      break;
    }
    const bool marker = markers_ && f.header.type == uint16_t(RecordType::kWrite);
    if (!marker && f.header.type != uint16_t(RecordType::kMutation)) {
      (void)Fail(absl::DataLossError(s.ref.name + " at byte " + std::to_string(base_ + pos_) +
                                     ": unknown record type " + std::to_string(f.header.type)));
      break;
    }
    if (!marker && f.header.lsn >= from_) {
      const std::string_view frame(buf_.data() + pos_, reader.offset() - pos_);
      if (taken > 0 && bytes + frame.size() > bytes_max) break;
      FollowedRecord r;
      r.lsn = core::Lsn(f.header.lsn);
      r.epoch = core::Epoch(f.header.epoch);
      r.type = RecordType(f.header.type);
      r.body = f.body;
      r.frame = frame;
      r.segment_id = s.ref.id;
      r.salt = salt_;
      r.durable = true;
      if (!take(r)) break;  // not consumed: the position stays before it
      ++taken;
      bytes += frame.size();
      next_ = f.header.lsn + 1;
    }
    pos_ = size_t(reader.offset());
    at_.expected_lsn = reader.expected_lsn().value();
    at_.min_epoch = reader.epoch();
    at_.marker = reader.marker();
    at_.write_end = base_ + reader.write_end();
  }
  if (done()) {
    // Nothing more to read: the segments may go.
    file_.reset();
    pin_.Release();
  }
  // An error after records were handed out is reported by the next call.
  if (taken == 0 && !error_.ok()) return error_;
  return taken;
}

}  // namespace werk::wal
