#pragma once
// One write of the log (wal::Wal's group commit): the bytes that go to the
// disk in one write + fdatasync, and where they go.
//
//   [segment header]  kSegmentHeaderBytes, only in a batch that starts its
//                     segment (the header and the first batch go out in one
//                     write); filled in at submission
//   write marker      kWriteMarkerFrameBytes; filled in at submission, when
//                     its sequence and the durable LSN it states are known
//   frames            the records, final as appended: their segment, hence
//                     their salt, is decided when the batch is opened
//
// The frames' bytes never change after Append, and their offsets in `data`
// never move (the header's room is reserved up front), so a follower may
// keep an offset into a batch across appends (wal/log_followers.h).

#include <cstddef>
#include <cstdint>
#include <string>

#include "wal/log_format.h"

namespace werk::wal {

struct LogBatch {
  enum class State : uint8_t { kOpen, kWriting, kDone };

  std::string data;
  uint64_t first_lsn = 0;  // the next LSN when it was opened
  uint64_t last_lsn = 0;   // first_lsn - 1 while it holds no record
  size_t records = 0;
  uint64_t segment_id = 0;  // the segment it is written to
  uint64_t salt = 0;        // that segment's: the frames' headers are hashed with it
  uint64_t offset = 0;      // where in the segment it is written
  uint32_t marker_at = 0;   // where the write marker begins: the header's room, if any
  // The epoch of every frame in it, and of its marker and segment header:
  // a batch never spans an epoch change, so the epochs a reader sees never
  // go down (Wal::SetEpoch opens a new batch).
  uint64_t epoch = 0;
  State state = State::kOpen;
  int64_t submitted_ns = 0;  // monotonic, when its write was submitted (Wal::sync_us)

  bool starts_segment() const { return marker_at != 0; }
  size_t frames_from() const { return marker_at + kWriteMarkerFrameBytes; }
  // The bytes a write marker counts: the marker and the frames.
  size_t write_bytes() const { return data.size() - marker_at; }
};

}  // namespace werk::wal
