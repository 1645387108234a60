#pragma once
// Reads a range of a shard's log back from its segment files, for a standby
// further behind than the log keeps in memory (docs/replication.md,
// "Catching up from files"): records from..to, where every record <= to is
// durable, so their bytes in the files no longer change.
//
// The segments are pinned (Wal::Pin) for the source's life, so a checkpoint
// neither recycles nor removes them while they are read. Each is opened with
// Storage::OpenRead and read with asynchronous ReadAt calls on the shard's
// ring, one at a time and kFileReadBytes at most (more only for a record
// larger than that): what the source holds is one chunk and the frame cut
// at its end.
//
// Frames are checked as recovery checks them (wal/log_reader.h): the
// segment's header (its id and first LSN as the log lists it), each frame's
// hashes under the segment's salt, LSNs consecutive, epochs never lower,
// every record inside the write its marker begins. Write markers are
// skipped. A segment is read only up to its last record the log needs (the
// one before the next segment's first, or `to`): what follows it in a
// recycled file — an earlier use's frames, hashed with another salt — is
// never looked at. Records are handed out as a log cursor hands them out
// (FollowedRecord: the frame byte for byte, with its segment's salt), so the
// replication sender ships them unchanged.
//
// Errors end the source for good: kOutOfRange from Open when the segment
// holding `from` is gone (a checkpoint covers it: the standby needs a
// checkpoint bootstrap), the storage's error for a read that failed, and
// kDataLoss, naming the file and byte, for frames that do not verify.
//
// Thread affinity: the shard's thread, like the log.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <absl/functional/function_ref.h>
#include <absl/status/statusor.h>

#include "wal/log_follower.h"
#include "wal/log_format.h"
#include "wal/wal.h"

namespace werk::wal {

// Bytes a source asks the disk for at once.
inline constexpr size_t kFileReadBytes = 1u << 20;

class LogFileSource {
 public:
  struct Options {
    size_t read_bytes = kFileReadBytes;
    // Called (on the shard's thread, never from within Read) when a read
    // completed: more may be readable, or the source failed.
    std::function<void()> on_readable;
  };

  // Reads from..to of `wal`'s log (from <= to <= its durable LSN).
  static absl::StatusOr<std::unique_ptr<LogFileSource>> Open(Wal* wal, core::Lsn from,
                                                             core::Lsn to, Options options);
  ~LogFileSource();
  LogFileSource(const LogFileSource&) = delete;
  LogFileSource& operator=(const LogFileSource&) = delete;

  // As LogCursor::Read (wal/log_follower.h): hands the records read so far
  // from next_lsn() on to `take`, up to `bytes_max` of frames (one at
  // least), and starts the next read when it needs more bytes. 0: nothing
  // readable until a read completes (on_readable). The views are valid
  // during the call only.
  absl::StatusOr<size_t> Read(size_t bytes_max,
                              absl::FunctionRef<bool(const FollowedRecord&)> take);

  core::Lsn next_lsn() const { return core::Lsn(next_); }
  core::Lsn last_lsn() const { return core::Lsn(to_); }
  // Every record up to last_lsn() was handed out.
  bool done() const { return next_ > to_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t reads() const { return reads_; }

 private:
  struct Segment {
    Wal::SegmentRef ref;
    uint64_t last_lsn = 0;  // the last record of it the source needs
  };
  // Where the reader of the current segment stands, kept between reads.
  struct Position {
    uint64_t expected_lsn = 0;
    uint64_t min_epoch = 0;
    WriteMarker marker;
    uint64_t write_end = 0;  // offset in the segment
  };

  LogFileSource(Wal* wal, core::Lsn from, core::Lsn to, Options options);
  // Opens the current segment, or reads on in it, so that the window holds
  // `need` bytes after pos_.
  void Fetch(size_t need);
  void OnOpened(absl::StatusOr<std::unique_ptr<ReadableFile>> file);
  void OnData(absl::StatusOr<std::string> data);
  // Checks the segment header at the start of the window.
  absl::Status ReadHeader();
  // Bytes the frame at pos_ needs in the window (0: it is whole, or the
  // reader must judge it as it is).
  size_t FrameShortBy() const;
  absl::Status Fail(absl::Status st);
  void Notify();
  void NextSegment();

  Storage* storage_;
  SegmentPin pin_;
  Options options_;
  uint64_t from_;
  uint64_t to_;
  uint64_t next_;  // the next record to hand out
  std::vector<Segment> segments_;
  size_t seg_ = 0;
  std::unique_ptr<ReadableFile> file_;
  bool opening_ = false;
  bool reading_ = false;
  bool eof_ = false;  // the last read reached the end of the file
  bool header_read_ = false;
  uint64_t salt_ = 0;
  bool markers_ = false;
  std::string buf_;    // the window: bytes of the segment from base_
  uint64_t base_ = 0;  // segment offset of buf_[0]
  size_t pos_ = 0;     // in buf_: the next frame
  Position at_;
  absl::Status error_;
  uint64_t bytes_read_ = 0;
  uint64_t reads_ = 0;
  std::shared_ptr<bool> alive_;  // completions after destruction do nothing
};

}  // namespace werk::wal
