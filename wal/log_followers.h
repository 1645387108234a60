#pragma once
// The log's side of following (wal/log_follower.h is the follower's): the
// cursors of one shard's log and the durable batches kept for them.
//
// What is kept. Nothing while no cursor exists: the log's hot path is then
// what it was (Wal::Append never copies a record, and a durable batch is
// freed as before). While cursors exist, each batch that becomes durable is
// moved here — its buffer, not a copy of it (a nearly empty one is shrunk
// to its size, a copy of at most an eighth of it) — and let go once every cursor
// has read past it, or once what is kept exceeds `retained_bytes_max`
// (counted as the buffers' capacity, i.e. the memory held) once the
// listeners were told of them (Notify, each loop iteration): then the oldest
// batches are let go even though a slow cursor still needs them, and that
// cursor has fallen behind (kOutOfRange on its next Read; its listener is
// told on the next Notify). A follower that reads whenever it is told never
// falls behind, however much one iteration made durable. Between two
// Notify() calls the bound may be exceeded by what became durable in
// between (the writes in flight: kWritesInFlightMax batches), and the newest
// durable batch is always kept (a record can be larger than any bound).
// Records not yet durable are read from the log's own batches and cost
// nothing here.
//
// Which records a cursor may start at: from the oldest kept here (the
// durable LSN + 1 when nothing is kept) to the next LSN to be appended.
//
// Thread affinity: the shard's thread, like the log that owns it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/journal.h"
#include "wal/log_batch.h"
#include "wal/log_follower.h"

namespace werk::wal {

// What a shard's log keeps for followers, at most (a slow follower falls
// behind beyond it): sixteen full batches.
inline constexpr size_t kFollowerRetainedBytesDefault = 16 * kBatchBytesMax;

class LogFollowers {
 public:
  // `log` and `pending` (its batches not yet durable, oldest first) belong to
  // the Wal that owns this.
  LogFollowers(const core::Journal& log, const std::deque<LogBatch>& pending,
               size_t retained_bytes_max);
  ~LogFollowers();  // cursors left read kFailedPrecondition
  LogFollowers(const LogFollowers&) = delete;
  LogFollowers& operator=(const LogFollowers&) = delete;

  // See Wal::Follow().
  absl::StatusOr<std::unique_ptr<LogCursor>> Follow(core::Lsn from, FollowOptions options);

  // --- What the log tells it --------------------------------------------
  bool active() const { return !cursors_.empty(); }
  // The oldest pending batch became durable: kept while anyone follows.
  void Retain(LogBatch&& batch);
  // Tells the listeners whose cursors have something new, then holds the
  // bound (Wal::OnDurable, Wal::OnLogFailed).
  void Notify();
  // The log failed: why (read back to cursors that reach its end).
  void SetFailure(std::string why) { failure_ = std::move(why); }

  // --- Figures -------------------------------------------------------------
  size_t cursors() const { return cursors_.size(); }
  size_t retained_batches() const { return retained_.size(); }
  size_t retained_bytes() const { return retained_bytes_; }
  // Cursors that fell behind what was kept (since start).
  uint64_t fell_behind() const { return fell_behind_; }

 private:
  friend class LogCursor;
  absl::StatusOr<size_t> Read(LogCursor& c, size_t bytes_max,
                              absl::FunctionRef<bool(const FollowedRecord&)> take);
  void Remove(LogCursor* c);
  // The oldest LSN a cursor can still read.
  uint64_t OldestReadable() const;
  // The highest LSN `c` may read now.
  uint64_t Horizon(const LogCursor& c) const;
  // The batch holding `lsn` (kept or pending), or null.
  const LogBatch* Find(uint64_t lsn) const;
  // Lets go of what every cursor has read, then, with `bound`, of the oldest
  // batches beyond the bound.
  void Trim(bool bound);

  const core::Journal& log_;
  const std::deque<LogBatch>& pending_;
  const size_t retained_bytes_max_;
  std::vector<LogCursor*> cursors_;
  std::deque<LogBatch> retained_;  // durable batches, oldest first, contiguous
  size_t retained_bytes_ = 0;
  uint64_t fell_behind_ = 0;
  std::string failure_;
  bool notifying_ = false;
};

}  // namespace werk::wal
