#pragma once
// Reads the frames of one segment (or checkpoint) held in memory. The reader
// never guesses (style P4): at each position it reports a record, the clean
// end of the data, a torn tail (only possible in the newest segment: the last
// writes were cut short by a crash), or corruption, with the byte offset.
//
// Version 3 segments begin every write with a write marker frame (returned
// as a kRecord of type RecordType::kWrite; it takes no LSN). At a damaged
// frame of the newest segment, the reader looks further on for a marker of
// this segment stating that the damaged LSN was durable when that later
// write was issued: if there is one, the damaged bytes had been synced and
// acknowledged — corruption; if not, they belong to writes still in flight
// at the crash — a torn tail, cut there. No byte distance is involved.
//
// Version 1 and 2 segments have no markers: a damaged frame of the newest
// segment is a torn tail only if the frames of this segment after it lie
// within the torn-tail window (the most a crash can cut), corruption beyond.
//
// A recycled segment holds stale bytes of its earlier use after its own
// records. Frame headers are hashed with the segment's salt, so stale frames
// never validate; after the last record, the newest segment is searched for
// frames that do (position by position).

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/log_format.h"

namespace werk::wal {

enum class ReadOutcome : uint8_t { kRecord, kEnd, kTornTail, kCorrupt };

struct Frame {
  FrameHeader header;
  std::string_view body;
  uint64_t offset = 0;  // of the frame header in the file
};

class LogReader {
 public:
  struct Options {
    uint64_t start_offset = kSegmentHeaderBytes;
    core::Lsn expected_lsn{1};  // the first frame must carry this LSN
    uint64_t min_epoch = 0;
    uint64_t salt = 0;          // the segment's (SegmentHeader::salt)
    bool newest = false;        // a torn tail is possible only here
    bool check_lsn = true;      // checkpoints number items from 1 the same way
    // A version 3 segment: every write begins with a write marker, and a
    // torn tail is told from corruption by them.
    bool write_markers = false;
    // Evidence from a later segment (the one after the newest segment with
    // a header, whose first write went out only once every write to this
    // one had completed): the durable LSN its strongest marker states, and
    // where that marker is, for the message. 0: none.
    core::Lsn later_durable_lsn{0};
    std::string later_evidence;
    // Versions 1 and 2 only: the most a crash can cut.
    size_t torn_window_bytes = kTornWindowBytes;
    // Version 3, reading on where an earlier reader of the same segment
    // stopped (a segment read back in pieces, wal/log_file_source.h): the
    // last write marker it read, and where in `data` that marker's write
    // ends (0: before `data` begins, so the next frame must be a marker).
    WriteMarker marker;
    uint64_t write_end = 0;
  };

  LogReader(std::string_view data, Options o);

  ReadOutcome Next(Frame* frame);
  // Where the next frame would start: after the last good frame.
  uint64_t offset() const { return offset_; }
  core::Lsn expected_lsn() const { return o_.expected_lsn; }
  uint64_t epoch() const { return o_.min_epoch; }
  // Why the last Next() returned kTornTail or kCorrupt.
  const std::string& reason() const { return reason_; }
  // For a torn tail: the number of bytes after offset() recovery must
  // zero before the writer continues there.
  uint64_t torn_bytes() const { return torn_bytes_; }
  // Whether the last kCorrupt was an invalid frame (bad hash, cut short),
  // not a valid one out of place: in an older segment, that is where a
  // recycled file's stale bytes begin if the next segment continues there.
  bool invalid_frame() const { return invalid_frame_; }
  // For a torn tail: whether a frame of this segment was among the bytes
  // (a write certainly cut by a crash), not only unreadable bytes.
  bool cut_write() const { return cut_write_; }
  // For a clean end followed by bytes of a recycled file's earlier use.
  uint64_t stale_bytes() const { return stale_bytes_; }

  // Version 3. The last write marker read (sequence 0: none yet) and where
  // it is; the write it begins ends at marker_offset() + write_bytes.
  const WriteMarker& marker() const { return marker_; }
  uint64_t marker_offset() const { return marker_offset_; }
  // Where that write ends (offset in `data`).
  uint64_t write_end() const { return write_end_; }
  // For a torn tail: the LSNs of the records dropped with it, as far as
  // their frames can be read (last < first: no complete record among them).
  core::Lsn dropped_first_lsn() const { return core::Lsn(dropped_first_lsn_); }
  core::Lsn dropped_last_lsn() const { return core::Lsn(dropped_last_lsn_); }
  // For a kCorrupt proven by a later write marker: that marker's offset
  // (UINT64_MAX otherwise).
  uint64_t evidence_offset() const { return evidence_offset_; }

 private:
  ReadOutcome Damaged(uint64_t window, std::string reason);
  ReadOutcome TornOrCorrupt(uint64_t window, std::string reason);  // versions 1, 2
  ReadOutcome CutOrCorrupt(std::string reason);                     // version 3
  ReadOutcome Corrupt(std::string reason);
  ReadOutcome ReadMarker(const FrameHeader& h, std::string_view body, Frame* frame);
  bool ZeroFrom(uint64_t pos) const;
  // Inside the extent of the last marker's write, which has not ended yet.
  bool InWrite() const { return o_.write_markers && offset_ < write_end_; }

  std::string_view data_;
  Options o_;
  uint64_t offset_;
  std::string reason_;
  uint64_t torn_bytes_ = 0;
  uint64_t stale_bytes_ = 0;
  bool invalid_frame_ = false;
  bool cut_write_ = false;
  WriteMarker marker_;
  uint64_t marker_offset_ = 0;
  uint64_t write_end_ = 0;
  uint64_t dropped_first_lsn_ = 0;
  uint64_t dropped_last_lsn_ = 0;
  uint64_t evidence_offset_ = UINT64_MAX;
};

// The offset of the last position in [from, data.size()) holding a frame
// header valid under `salt`, or UINT64_MAX. Recovery uses it on a segment
// whose header a crash may have cut (docs/wal-format.md, R4).
uint64_t LastValidFrameHeader(std::string_view data, uint64_t from, uint64_t salt);

// Every frame of a segment (valid under `salt`) at or after `from`, found
// position by position: what recovery needs to tell a cut write from damage
// to synced data (docs/wal-format.md, R4, R5, R8).
struct FrameScan {
  uint64_t last_header = UINT64_MAX;  // the last valid frame header
  uint64_t min_lsn = UINT64_MAX;      // of valid frames (a marker's: its write's first)
  uint64_t max_lsn = 0;               // of valid record frames
  uint64_t markers = 0;               // write markers (header and body verified)
  // The first marker with the highest durable LSN: the strongest evidence
  // of what was durable (valid only if markers > 0).
  uint64_t strongest = UINT64_MAX;
  WriteMarker strongest_marker;
};
FrameScan ScanFrames(std::string_view data, uint64_t from, uint64_t salt);

}  // namespace werk::wal
