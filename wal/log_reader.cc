#include "wal/log_reader.h"

#include <algorithm>
#include <cstring>

namespace werk::wal {
namespace {

// Cheap filter before a hash: the frame version field.
bool VersionAt(const char* p, uint64_t at) {
  return p[at + 38] == char(kFrameVersion & 0xff) && p[at + 39] == char(kFrameVersion >> 8);
}

}  // namespace

LogReader::LogReader(std::string_view data, Options o)
    : data_(data), o_(o), offset_(o.start_offset), marker_(o.marker), write_end_(o.write_end) {}

bool LogReader::ZeroFrom(uint64_t pos) const {
  for (uint64_t i = pos; i < data_.size(); ++i)
    if (data_[i] != 0) return false;
  return true;
}

uint64_t LastValidFrameHeader(std::string_view data, uint64_t from, uint64_t salt) {
  if (data.size() < kFrameHeaderBytes) return UINT64_MAX;
  const char* p = data.data();
  for (uint64_t i = data.size() - kFrameHeaderBytes + 1; i > from; --i) {
    const uint64_t at = i - 1;
    if (!VersionAt(p, at)) continue;
    FrameHeader h;
    if (DecodeFrameHeader(data.substr(at), &h, salt)) return at;
  }
  return UINT64_MAX;
}

FrameScan ScanFrames(std::string_view data, uint64_t from, uint64_t salt) {
  FrameScan s;
  // A frame header's version field (byte 38) is not zero, so no header
  // starts within 39 bytes of the end of the non-zero data: the zeros of
  // preallocated space are not searched.
  static_assert(kFrameVersion & 0xff);
  uint64_t end = data.size();
  while (end > from && data[end - 1] == 0) --end;
  const char* p = data.data();
  for (uint64_t at = from; at + 39 <= end && at + kFrameHeaderBytes <= data.size(); ++at) {
    if (!VersionAt(p, at)) continue;
    FrameHeader h;
    if (!DecodeFrameHeader(data.substr(at), &h, salt)) continue;
    s.last_header = at;
    if (h.type == uint16_t(RecordType::kMutation)) {
      s.min_lsn = std::min(s.min_lsn, h.lsn);
      s.max_lsn = std::max(s.max_lsn, h.lsn);
      continue;
    }
    // A marker counts only if its body verifies too.
    WriteMarker m;
    if (h.type != uint16_t(RecordType::kWrite) || h.body_bytes != kWriteMarkerBodyBytes ||
        at + kWriteMarkerFrameBytes > data.size())
      continue;
    const std::string_view body = data.substr(at + kFrameHeaderBytes, kWriteMarkerBodyBytes);
    if (BodyHash(body) != StoredBodyHash(data.substr(at)) || !DecodeWriteMarker(body, &m))
      continue;
    s.min_lsn = std::min(s.min_lsn, h.lsn);
    if (s.markers++ == 0 || m.durable_lsn > s.strongest_marker.durable_lsn) {
      s.strongest = at;
      s.strongest_marker = m;
    }
  }
  return s;
}

ReadOutcome LogReader::Corrupt(std::string reason) {
  reason_ = std::move(reason);
  return ReadOutcome::kCorrupt;
}

ReadOutcome LogReader::Damaged(uint64_t window, std::string reason) {
  invalid_frame_ = true;
  if (o_.write_markers) return CutOrCorrupt(std::move(reason));
  return TornOrCorrupt(window, std::move(reason));
}

ReadOutcome LogReader::TornOrCorrupt(uint64_t window, std::string reason) {
  reason_ = std::move(reason);
  if (!o_.newest) return ReadOutcome::kCorrupt;
  // A crash can only cut the last write (two batches, the window). A frame
  // of this segment (valid under its salt) after this point is part of it —
  // or, further away than one write, was synced once and is now cut off.
  const uint64_t last = LastValidFrameHeader(data_, offset_, o_.salt);
  if (last != UINT64_MAX) {
    if (last - offset_ >= window) {
      reason_ += " (followed by a record of this segment " + std::to_string(last - offset_) +
                 " bytes later, further than one write could leave behind)";
      return ReadOutcome::kCorrupt;
    }
    cut_write_ = true;
    torn_bytes_ = last + kFrameHeaderBytes - offset_;
    return ReadOutcome::kTornTail;
  }
  // Nothing here can be read as a frame of this segment: bytes of a write
  // cut inside a frame header, or a recycled file's stale bytes. Within one
  // write's reach they are zeroed all the same (a fresh segment is zero
  // beyond it); further they can only be stale, and the segment ends here.
  uint64_t last_nonzero = offset_;
  for (uint64_t i = data_.size(); i > offset_; --i) {
    if (data_[i - 1] != 0) {
      last_nonzero = i;
      break;
    }
  }
  if (last_nonzero - offset_ <= window) {
    torn_bytes_ = last_nonzero - offset_;
    return ReadOutcome::kTornTail;
  }
  stale_bytes_ = data_.size() - offset_;
  reason_.clear();
  return ReadOutcome::kEnd;
}

ReadOutcome LogReader::CutOrCorrupt(std::string reason) {
  reason_ = std::move(reason);
  if (!o_.newest) return ReadOutcome::kCorrupt;
  // Writes are issued in order, each stating what was durable when it was
  // issued. One issued after the damaged LSN was durable proves these bytes
  // had been synced (and acknowledged): no crash can have cut them.
  const FrameScan scan = ScanFrames(data_, offset_, o_.salt);
  if (scan.markers > 0 && scan.strongest_marker.durable_lsn >= o_.expected_lsn.value()) {
    evidence_offset_ = scan.strongest;
    reason_ += " at LSN " + std::to_string(o_.expected_lsn.value()) +
               ", synced before the write at byte " +
               std::to_string(scan.strongest) + " (write " +
               std::to_string(scan.strongest_marker.sequence) +
               ") was issued: its marker states every LSN up to " +
               std::to_string(scan.strongest_marker.durable_lsn) + " durable";
    return ReadOutcome::kCorrupt;
  }
  if (o_.later_durable_lsn >= o_.expected_lsn) {
    reason_ += " at LSN " + std::to_string(o_.expected_lsn.value()) + ", synced before " +
               o_.later_evidence + " was issued: its marker states every LSN up to " +
               std::to_string(o_.later_durable_lsn.value()) + " durable";
    return ReadOutcome::kCorrupt;
  }
  // No later write knew these bytes durable: they belong to the writes in
  // flight at the crash. Cut here, and zero the rest of the write they are
  // part of and every later frame of this segment, so none of them can ever
  // follow the writer's next records.
  uint64_t end = offset_;
  if (InWrite()) end = std::min<uint64_t>(write_end_, data_.size());
  if (scan.last_header != UINT64_MAX) end = std::max(end, scan.last_header + kFrameHeaderBytes);
  if (end == offset_ && !InWrite()) {
    // Between writes, and nothing of this segment follows: zeros, a
    // recycled file's stale bytes, or a write cut inside its marker's header
    // (then none of its records is readable, and none was acknowledged).
    stale_bytes_ = ZeroFrom(offset_) ? 0 : data_.size() - offset_;
    reason_.clear();
    return ReadOutcome::kEnd;
  }
  cut_write_ = true;
  torn_bytes_ = end - offset_;
  dropped_first_lsn_ = o_.expected_lsn.value();
  dropped_last_lsn_ = std::max(scan.max_lsn, o_.expected_lsn.value() - 1);
  return ReadOutcome::kTornTail;
}

ReadOutcome LogReader::ReadMarker(const FrameHeader& h, std::string_view body, Frame* frame) {
  WriteMarker m;
  if (!DecodeWriteMarker(body, &m) || m.write_bytes < kWriteMarkerFrameBytes)
    return Corrupt("malformed write marker");
  if (o_.check_lsn && h.lsn != o_.expected_lsn.value())
    return Corrupt("write marker for LSN " + std::to_string(h.lsn) + " where " +
                   std::to_string(o_.expected_lsn.value()) + " was expected");
  if (m.durable_lsn >= h.lsn)
    return Corrupt("write marker states LSN " + std::to_string(m.durable_lsn) +
                   " durable before its own first LSN " + std::to_string(h.lsn));
  if (marker_.sequence != 0 && m.sequence <= marker_.sequence)
    return Corrupt("write marker " + std::to_string(m.sequence) + " after write " +
                   std::to_string(marker_.sequence));
  if (h.epoch < o_.min_epoch)
    return Corrupt("epoch " + std::to_string(h.epoch) + " is older than " +
                   std::to_string(o_.min_epoch));
  marker_ = m;
  marker_offset_ = offset_;
  write_end_ = offset_ + m.write_bytes;
  frame->header = h;
  frame->body = body;
  frame->offset = offset_;
  offset_ += kWriteMarkerFrameBytes;
  o_.min_epoch = h.epoch;
  return ReadOutcome::kRecord;  // takes no LSN
}

ReadOutcome LogReader::Next(Frame* frame) {
  // Inside a write, zeros are where its bytes never landed, not the end.
  if (offset_ >= data_.size()) {
    if (InWrite()) return Damaged(0, "write cut at the end of the file");
    return ReadOutcome::kEnd;
  }
  const std::string_view rest = data_.substr(offset_);
  if (rest.size() < kFrameHeaderBytes) {
    if (!InWrite() && ZeroFrom(offset_)) return ReadOutcome::kEnd;
    return Damaged(o_.torn_window_bytes, "partial frame header");
  }
  FrameHeader h;
  if (!DecodeFrameHeader(rest, &h, o_.salt)) {
    if (!InWrite() && ZeroFrom(offset_)) return ReadOutcome::kEnd;
    return Damaged(o_.torn_window_bytes, "frame header checksum mismatch");
  }
  if (h.version != kFrameVersion)
    return Corrupt("unknown frame version " + std::to_string(h.version));
  if (h.body_bytes > kRecordBodyBytesMax)
    return Corrupt("frame length " + std::to_string(h.body_bytes) + " over the maximum");
  const uint64_t frame_bytes = kFrameHeaderBytes + uint64_t(h.body_bytes);
  const uint64_t window = std::max<uint64_t>(o_.torn_window_bytes, frame_bytes);
  if (rest.size() < frame_bytes) return Damaged(window, "frame body cut short");
  const std::string_view body = rest.substr(kFrameHeaderBytes, h.body_bytes);
  if (BodyHash(body) != StoredBodyHash(rest))
    return Damaged(window, "frame body checksum mismatch");
  if (o_.write_markers) {
    if (h.type == uint16_t(RecordType::kWrite)) return ReadMarker(h, body, frame);
    // Every frame belongs to the write its marker begins.
    if (marker_.sequence == 0) return Corrupt("record before any write marker");
    if (offset_ + frame_bytes > write_end_)
      return Corrupt("record crosses the end of the write at byte " +
                     std::to_string(marker_offset_));
  }
  if (o_.check_lsn && h.lsn != o_.expected_lsn.value())
    return Corrupt("LSN " + std::to_string(h.lsn) + " where " +
                   std::to_string(o_.expected_lsn.value()) +
                   " was expected");
  if (h.epoch < o_.min_epoch)
    return Corrupt("epoch " + std::to_string(h.epoch) + " is older than " +
                   std::to_string(o_.min_epoch));
  frame->header = h;
  frame->body = body;
  frame->offset = offset_;
  offset_ += frame_bytes;
  o_.expected_lsn = core::Lsn(h.lsn + 1);
  o_.min_epoch = h.epoch;
  return ReadOutcome::kRecord;
}

}  // namespace werk::wal
