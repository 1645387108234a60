#pragma once
// Reads the frames of one segment (or checkpoint) held in memory. The reader
// never guesses (style P4): at each position it reports a record, the clean
// end of the data, a torn tail (only possible in the newest segment: the last
// write was cut short by a crash), or corruption, with the byte offset.
//
// A recycled segment holds stale bytes of its earlier use after its own
// records. Frame headers are hashed with the segment's salt, so stale frames
// never validate; after the last record, the newest segment is searched for
// frames that do (LastValidFrameHeader): one beyond the torn-tail window is data
// that was once synced (corruption), ones within it are a cut write.

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
    uint64_t expected_lsn = 1;  // the first frame must carry this LSN
    uint64_t min_epoch = 0;
    uint64_t salt = 0;          // the segment's (SegmentHeader::salt)
    bool newest = false;        // a torn tail is possible only here
    bool check_lsn = true;      // checkpoints number items from 1 the same way
    size_t torn_window_bytes = kTornWindowBytes;  // the largest single write
  };

  LogReader(std::string_view data, Options o);

  ReadOutcome Next(Frame* frame);
  // Where the next frame would start: after the last good frame.
  uint64_t offset() const { return offset_; }
  uint64_t expected_lsn() const { return o_.expected_lsn; }
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

 private:
  ReadOutcome TornOrCorrupt(uint64_t window, std::string reason);
  bool ZeroFrom(uint64_t pos) const;

  std::string_view data_;
  Options o_;
  uint64_t offset_;
  std::string reason_;
  uint64_t torn_bytes_ = 0;
  uint64_t stale_bytes_ = 0;
  bool invalid_frame_ = false;
  bool cut_write_ = false;
};

// The offset of the last position in [from, data.size()) holding a frame
// header valid under `salt`, or UINT64_MAX. Recovery uses it on a segment
// whose header a crash may have cut (docs/wal-format.md, R4).
uint64_t LastValidFrameHeader(std::string_view data, uint64_t from, uint64_t salt);

}  // namespace werk::wal
