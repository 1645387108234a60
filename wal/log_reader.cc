#include "wal/log_reader.h"

#include <algorithm>
#include <cstring>

namespace werk::wal {

LogReader::LogReader(std::string_view data, Options o)
    : data_(data), o_(o), offset_(o.start_offset) {}

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
    // Cheap filter first: the version field, then the hash.
    if (p[at + 38] != char(kFrameVersion & 0xff) || p[at + 39] != char(kFrameVersion >> 8))
      continue;
    FrameHeader h;
    if (DecodeFrameHeader(data.substr(at), &h, salt)) return at;
  }
  return UINT64_MAX;
}

ReadOutcome LogReader::TornOrCorrupt(uint64_t window, std::string reason) {
  reason_ = std::move(reason);
  invalid_frame_ = true;
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

ReadOutcome LogReader::Next(Frame* frame) {
  if (offset_ >= data_.size()) return ReadOutcome::kEnd;
  const std::string_view rest = data_.substr(offset_);
  if (rest.size() < kFrameHeaderBytes) {
    if (ZeroFrom(offset_)) return ReadOutcome::kEnd;
    return TornOrCorrupt(o_.torn_window_bytes, "partial frame header");
  }
  FrameHeader h;
  if (!DecodeFrameHeader(rest, &h, o_.salt)) {
    if (ZeroFrom(offset_)) return ReadOutcome::kEnd;
    return TornOrCorrupt(o_.torn_window_bytes, "frame header checksum mismatch");
  }
  if (h.version != kFrameVersion) {
    reason_ = "unknown frame version " + std::to_string(h.version);
    return ReadOutcome::kCorrupt;
  }
  if (h.body_bytes > kRecordBodyBytesMax) {
    reason_ = "frame length " + std::to_string(h.body_bytes) + " over the maximum";
    return ReadOutcome::kCorrupt;
  }
  const uint64_t frame_bytes = kFrameHeaderBytes + uint64_t(h.body_bytes);
  const uint64_t window = std::max<uint64_t>(o_.torn_window_bytes, frame_bytes);
  if (rest.size() < frame_bytes) return TornOrCorrupt(window, "frame body cut short");
  const std::string_view body = rest.substr(kFrameHeaderBytes, h.body_bytes);
  if (BodyHash(body) != StoredBodyHash(rest)) return TornOrCorrupt(window, "frame body checksum mismatch");
  if (o_.check_lsn && h.lsn != o_.expected_lsn) {
    reason_ = "LSN " + std::to_string(h.lsn) + " where " + std::to_string(o_.expected_lsn) +
              " was expected";
    return ReadOutcome::kCorrupt;
  }
  if (h.epoch < o_.min_epoch) {
    reason_ = "epoch " + std::to_string(h.epoch) + " is older than " + std::to_string(o_.min_epoch);
    return ReadOutcome::kCorrupt;
  }
  frame->header = h;
  frame->body = body;
  frame->offset = offset_;
  offset_ += frame_bytes;
  o_.expected_lsn = h.lsn + 1;
  o_.min_epoch = h.epoch;
  return ReadOutcome::kRecord;
}

}  // namespace werk::wal
