#pragma once
// Reads the frames of one segment (or checkpoint) held in memory. The reader
// never guesses (style P4): at each position it reports a record, the clean
// end of the data, a torn tail (only possible in the newest segment: the last
// write was cut short by a crash), or corruption, with the byte offset.

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
  // For a torn tail: the number of non-zero bytes dropped after offset().
  uint64_t torn_bytes() const { return torn_bytes_; }

 private:
  ReadOutcome TornOrCorrupt(uint64_t window, std::string reason);
  bool ZeroFrom(uint64_t pos) const;

  std::string_view data_;
  Options o_;
  uint64_t offset_;
  std::string reason_;
  uint64_t torn_bytes_ = 0;
};

}  // namespace werk::wal
