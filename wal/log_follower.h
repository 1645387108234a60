#pragma once
// Following a shard's log (the follower's side): a cursor that reads the
// shard's records in LSN order, each once, without gaps, as they become
// durable locally — or, if asked, as soon as they are appended, so that a
// standby can write and sync them while the primary syncs its own.
// Replication is the first follower; the log does not know who follows it.
//
// Pull with a budget: the follower reads when it can take records
// (LogCursor::Read, at most `bytes_max` of frames per call, and it may turn
// down any record), and the log keeps what a cursor has not read yet. The
// log tells a cursor's listener when there is something new to read; a
// follower that cannot take it now simply reads later. What the log keeps
// for its followers is bounded (wal/log_followers.h): a cursor left further
// behind than that, or one asking for records already let go, gets
// kOutOfRange and must start over: older records are read back from the
// segment files (wal/log_file_source.h), or from a checkpoint once those
// are gone.
//
// Records are final when they are appended (wal/wal.h): a record's frame is
// the bytes written to its segment, hashed with that segment's salt, so a
// follower may ship frames byte for byte or re-encode (lsn, epoch, type,
// body) into a log of its own, whose segments and salts differ.
//
// Thread affinity: everything here runs on the shard's thread, like the log.

#include <absl/functional/function_ref.h>
#include <absl/status/statusor.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/types.h"
#include "wal/log_format.h"

namespace werk::wal {

class LogCursor;
class LogFollowers;

// One record as a follower receives it. The views are valid only during the
// call that delivers it.
struct FollowedRecord {
  core::Lsn lsn;
  core::Epoch epoch;
  RecordType type = RecordType::kMutation;
  std::string_view body;
  // The frame as written: its 40-byte header (hashed with `salt`) and body.
  std::string_view frame;
  uint64_t segment_id = 0;
  uint64_t salt = 0;
  // Durable locally when it was delivered. One delivered before it was
  // (FollowOptions::Reach::kAppended) may never be: the log may fail first,
  // and then nothing after its durable LSN ever becomes durable.
  bool durable = false;
};

// Told when a cursor has something new to read.
class LogListener {
 public:
  virtual ~LogListener() = default;
  // From the log's OnDurable — after the loop iteration's commit, so records
  // a kAppended cursor reads then are being written while it ships them —
  // when records past the cursor became readable since it was last told, or
  // the cursor fell behind what the log keeps; and once from OnLogFailed.
  // The listener may Read() now or later; it must not destroy a cursor here.
  virtual void OnReadable(LogCursor& cursor) = 0;
};

struct FollowOptions {
  enum class Reach : uint8_t {
    kDurable,   // records durable locally
    kAppended,  // also records appended but not yet durable (flagged so)
  };
  Reach reach = Reach::kDurable;
  LogListener* listener = nullptr;  // none: the follower polls
};

// A follower's position in the log, made by Wal::Follow(); destroying it
// unsubscribes. It may outlive the log (it then reads kFailedPrecondition).
class LogCursor {
 public:
  ~LogCursor();
  LogCursor(const LogCursor&) = delete;
  LogCursor& operator=(const LogCursor&) = delete;

  // The LSN the next record read will carry.
  core::Lsn next_lsn() const { return core::Lsn(next_); }
  const FollowOptions& options() const { return options_; }

  // Delivers the readable records from next_lsn() in order to `take` until
  // `take` returns false (that record is not consumed: the next Read starts
  // with it), the frames delivered reach `bytes_max` (a record larger than
  // the budget is delivered alone), or none is left. Returns how many were
  // taken (0: nothing readable yet). `take` must not call into the log nor
  // destroy the cursor. Errors:
  //   kOutOfRange          the cursor fell behind what the log keeps; it
  //                        will never read again: follow anew
  //   kFailedPrecondition  the log failed and every durable record was read
  //                        (nothing after its durable LSN ever will be), or
  //                        the log is gone
  absl::StatusOr<size_t> Read(size_t bytes_max,
                              absl::FunctionRef<bool(const FollowedRecord&)> take);

 private:
  friend class LogFollowers;
  LogCursor(LogFollowers* log, core::Lsn from, FollowOptions options)
      : log_(log), next_(from.value()), told_(from.value() - 1), options_(options) {}

  LogFollowers* log_;  // null once the log is gone
  uint64_t next_;
  // Where next_ is, when known: the batch (by its first LSN) and the offset
  // of the frame in it. Batches never move their frames (wal/log_batch.h).
  uint64_t at_batch_ = 0;
  size_t at_offset_ = 0;
  uint64_t told_;  // how far the listener was told records are readable
  bool told_behind_ = false;
  bool told_failed_ = false;
  FollowOptions options_;
};

}  // namespace werk::wal
