#pragma once
// The write-ahead log of one shard (implements core::Journal).
//
// Durability contract (design §3 "Replies wait for durability", style P6):
// Append() assigns the next LSN and buffers the frame; it never blocks and
// never fails (callers check failed() first). Commit() — once per loop
// iteration — starts writing the buffered frames if no write is in flight:
// one write at the end of the current segment plus an fdatasync ordered after
// it (group commit). While it is in flight the next batch fills and, if the
// file allows (kWritesInFlightMax), is written too; durable_lsn() moves over
// batches strictly in order, as their syncs complete. A failed write or sync is sticky: failed() stays true, no
// further write is issued, and nothing appended after the failure ever
// becomes durable.
//
// Frames are final when appended: a batch is bound to its segment when it is
// opened — the segment of the batch before it while that one ends below the
// segment size, else the next one, whose id (the spare's, or the ones
// RequestSpare() hands out after it) and salt (NextSalt) are known then — so
// each frame is hashed once, with the salt it is written under, and the
// bytes Append() produced are the bytes on disk. The choice follows the rule
// the writer applies at submission (a batch starts a new segment when the
// current one's write offset has reached its size), only made earlier, so
// segments are cut where they always were; StartWrite() checks the two agree.
//
// Every write begins with a write marker (docs/wal-format.md), filled in at
// submission: the write's sequence number and the durable LSN at that
// moment. A write submitted while another is in flight states only what was
// durable before it, so no marker ever claims a write a crash could cut;
// recovery relies on that to tell a torn tail from damage to synced data. A
// batch that starts a segment keeps room for the segment header in front of
// its marker, also filled in at submission (wal/log_batch.h).
//
// Segments: the log switches to a preallocated spare when the current
// segment is full (the header and the first batch go out in one write) and
// prepares the next spare in the background: a recycled segment if one is
// kept, else a new preallocated file. ReleaseThrough() recycles segments a
// durable checkpoint covers (up to Options::recycled_segments_max kept, renamed
// "<id>.free") and removes the rest. A recycled file's blocks are already
// written, so log writes into it need no extent conversion; its stale frames
// never validate, because each segment hashes its frame headers with its own
// salt (the next segment's follows from the current one's: NextSalt).
//
// Followers (wal/log_follower.h): Follow() gives a cursor that reads the
// records in order as they become durable; while any cursor exists, durable
// batches are kept for them (moved, not copied) up to a bound. With none,
// nothing is kept and Append/Commit do nothing more than without followers.
//
// Thread affinity: the shard thread that owns the Storage's reactor.

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/histogram.h"
#include "core/journal.h"
#include "core/participant.h"
#include "wal/log_batch.h"
#include "wal/log_format.h"
#include "wal/log_followers.h"
#include "wal/storage.h"

namespace werk::wal {

class Wal;

// Keeps the segments holding records from an LSN on in place while a reader
// reads them back (Wal::Pin): ReleaseThrough neither recycles them (a
// recycled file is overwritten) nor removes them until the pin is gone;
// what it was asked to release meanwhile is released then. Movable, not
// copyable; it may outlive its log (it then does nothing).
class SegmentPin {
 public:
  SegmentPin() = default;
  SegmentPin(SegmentPin&& other) noexcept { *this = std::move(other); }
  SegmentPin& operator=(SegmentPin&& other) noexcept;
  SegmentPin(const SegmentPin&) = delete;
  SegmentPin& operator=(const SegmentPin&) = delete;
  ~SegmentPin() { Release(); }

  bool held() const { return wal_ != nullptr; }
  core::Lsn lsn() const { return core::Lsn(held() ? *at_ : 0); }
  // Lets go now (as the destructor does).
  void Release();

 private:
  friend class Wal;
  Wal* wal_ = nullptr;
  std::weak_ptr<bool> alive_;
  std::multiset<uint64_t>::iterator at_;
};

// Also a participant of its shard's loop: after each commit it writes the
// idle marker when one is due, and the loop sleeps no longer than that.
class Wal final : public core::Journal, public core::Participant {
 public:
  struct Options {
    uint32_t shard = 0;
    core::Epoch epoch{1};
    uint64_t segment_bytes = kSegmentBytesDefault;
    size_t batch_bytes_max = kBatchBytesMax;
    // How long the log stays quiet after a write before a write of a marker
    // alone vouches for it (0: never). See WriteIdleMarkerIfDue().
    int64_t idle_marker_ns = kIdleMarkerNs;
    // What the log keeps, at most, of durable records its followers have
    // not all read (wal/log_followers.h).
    size_t follower_retained_bytes_max = kFollowerRetainedBytesDefault;
    // Covered segments kept for reuse while the log is busy (at least
    // kRecycledSegmentsMax), and how long the log stays quiet before it
    // removes all but kRecycledSegmentsMax of them (0: never).
    size_t recycled_segments_max = kRecycledSegmentsMax;
    int64_t recycled_trim_idle_ns = kRecycledTrimIdleNs;
  };

  // Where recovery left the log (see wal/recovery.h).
  struct Position {
    core::Lsn next_lsn{1};
    uint64_t next_write_sequence = 1;  // of the next write marker
    // The highest durable LSN a marker read states: what is vouched for.
    core::Lsn stated_durable_lsn{0};
    std::unique_ptr<SegmentFile> current;  // segment with a valid header, if any
    uint64_t current_id = 0;
    uint64_t current_offset = 0;
    uint64_t current_salt = 0;  // from its header
    // Its format version: the writer appends only to a segment of the
    // current version (older ones have no write markers), else it starts
    // the next segment.
    uint32_t current_version = kFormatVersion;
    std::unique_ptr<SegmentFile> spare;  // preallocated, header still zero
    uint64_t spare_id = 0;
    uint64_t next_segment_id = 1;
    // Every segment holding records, oldest first: (id, first LSN).
    std::vector<std::pair<uint64_t, uint64_t>> segments;
    // Covered segments kept for reuse ("<id>.free").
    std::vector<std::string> recycled;
  };

  Wal(Storage* storage, const core::Clock& clock, Options options, Position position);
  ~Wal() override;

  core::Lsn Append(std::string_view body) override;
  void Commit() override;
  core::Lsn appended_lsn() const override { return core::Lsn(next_lsn_ - 1); }
  core::Lsn durable_lsn() const override { return core::Lsn(durable_lsn_); }
  bool failed() const override { return failed_; }
  bool commit_pending() const override { return !failed_ && !batches_.empty(); }

  // The epoch records appended from now on carry (in their frames, their
  // write markers and the headers of the segments they start). SetEpoch
  // never lowers it (checked): epochs in a log only grow (docs/wal-format.md,
  // R10). Records already appended keep theirs.
  core::Epoch epoch() const { return options_.epoch; }
  void SetEpoch(core::Epoch epoch);

  // Once nothing was appended for Options::idle_marker_ns after the last
  // write completed, writes a marker alone stating that write durable: until
  // a later write says so, damage to the last write cannot be told from a
  // write cut by a crash (docs/wal-format.md), and is dropped on recovery.
  // Never starts a segment. The loop calls it once per iteration.
  void WriteIdleMarkerIfDue();
  void TrimRecycledIfIdle();
  // Nanoseconds until WriteIdleMarkerIfDue() would write (0: now), or -1 if
  // it would not: the loop's sleep is bounded by it.
  int64_t idle_marker_wait_ns() const;

  // Follows the log from `from` (wal/log_follower.h): the cursor reads the
  // records from `from` on, in order, as they become durable (or, with
  // Reach::kAppended, as they are appended). kOutOfRange if `from` is older
  // than what the log keeps for followers — nothing, before anyone follows:
  // a first follower starts at durable_lsn() + 1 or later —,
  // kInvalidArgument if it is beyond the next LSN.
  absl::StatusOr<std::unique_ptr<LogCursor>> Follow(core::Lsn from, FollowOptions options = {}) {
    return followers_.Follow(from, options);
  }
  const LogFollowers& followers() const { return followers_; }

  // Removes segments whose every record has an LSN <= `lsn` (never the
  // current one, nor a pinned one: those go once no pin holds them). Call
  // only once a checkpoint at `lsn` is durable.
  void ReleaseThrough(core::Lsn lsn);

  // Keeps every segment holding records >= `lsn` from being recycled or
  // removed while the pin lives (a standby catching up reads them back).
  SegmentPin Pin(core::Lsn lsn);
  size_t pins() const { return pins_.size(); }

  // A segment file holding records, as a reader finds it.
  struct SegmentRef {
    uint64_t id = 0;
    core::Lsn first_lsn;  // its first record's (the next one's, if it holds none)
    std::string name;
  };
  // The segments holding records >= `lsn`, oldest first. If the first one
  // starts after `lsn`, the records before it are gone from the files (a
  // checkpoint covers them).
  std::vector<SegmentRef> SegmentsFrom(core::Lsn lsn) const;
  Storage* storage() const { return storage_; }

  // As a participant (core/participant.h): no idle marker once stopping;
  // followers hear of what they can read now.
  void OnDurable(core::Lsn) override {
    if (!stopping_) WriteIdleMarkerIfDue();
    if (followers_.active()) followers_.Notify();
  }
  void OnLogFailed() override {
    if (followers_.active()) followers_.Notify();
  }
  void OnTurn() override {
    if (!stopping_) TrimRecycledIfIdle();
  }
  void OnStop() override { stopping_ = true; }
  int64_t WaitBudgetNs() override {
    if (stopping_) return core::kNoDeadline;
    int64_t wait = idle_marker_wait_ns();
    const int64_t trim = trim_wait_ns();
    if (trim >= 0 && (wait < 0 || trim < wait)) wait = trim;
    return wait < 0 ? core::kNoDeadline : wait;
  }
  bool IoIdle() const override { return io_idle(); }

  const std::string& failure() const { return failure_; }
  // No request of the log is in flight in the ring (writes, spare creation,
  // segment removal): the shard may stop.
  bool io_idle() const override { return io_pending_ == 0; }
  uint64_t bytes_appended() const { return bytes_appended_; }
  uint64_t syncs() const { return syncs_; }
  // Per durable write (a group commit's write + fdatasync, idle markers
  // included): µs from its submission to the ring until its completion ran
  // — the device's time plus the loop's delay in reaping it (at most one
  // iteration).
  const core::LatencyHistogram& sync_us() const { return sync_us_; }
  // Records per durable write (idle markers, with none, are not counted):
  // how well group commit batches.
  const core::CountHistogram& batch_records() const { return batch_records_; }
  // Segments reused instead of created (since start), and kept for reuse now.
  uint64_t segments_recycled() const { return segments_recycled_; }
  // When a quiet log is due to give back the covered segments it keeps
  // beyond kRecycledSegmentsMax: ns from now (0: now), or -1 if not.
  int64_t trim_wait_ns() const;
  uint64_t idle_markers() const { return idle_markers_; }
  size_t recycled_kept() const { return recycled_.size(); }
  size_t segment_count() const { return segments_.size(); }

 private:
  // Opens the next batch, bound for the segment it will be written to: the
  // segment of the batch before it while that one ends below the segment
  // size, else the next segment (its id and salt decided now).
  LogBatch& OpenBatch(uint64_t first_lsn, size_t reserve_bytes);
  // The id of the segment that will follow segment `id`.
  uint64_t SegmentIdAfter(uint64_t id) const;
  void StartWrites();
  bool StartWrite(LogBatch& b);
  void OnWritten(LogBatch* b, int32_t res, uint64_t segment_id);
  void RequestSpare();
  void OnSpare(uint64_t id, absl::StatusOr<std::unique_ptr<SegmentFile>> file);
  void Fail(std::string why);
  friend class SegmentPin;
  void Unpin(std::multiset<uint64_t>::iterator at);

  Storage* storage_;
  const core::Clock& clock_;
  Options options_;
  uint64_t next_lsn_;
  uint64_t durable_lsn_;
  uint64_t next_write_sequence_;
  uint64_t stated_durable_lsn_;  // the highest durable LSN an issued marker states
  int64_t last_write_done_ns_ = 0;
  std::shared_ptr<SegmentFile> current_;  // shared: writes in flight keep it alive
  uint64_t current_id_;
  uint64_t current_offset_;  // where the next write goes (advanced at submission)
  uint64_t current_salt_;    // 0 only before the first segment of a new log
  std::shared_ptr<SegmentFile> spare_;
  uint64_t spare_id_;  // of the spare, ready or being prepared
  bool spare_pending_ = false;
  uint64_t next_segment_id_;
  std::vector<std::string> recycled_;  // "<id>.free" files ready for reuse
  size_t recycling_ = 0;               // renames to ".free" in flight
  uint64_t segments_recycled_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> segments_;
  // LSNs pinned (SegmentPin), and the highest LSN ReleaseThrough was asked
  // to release through (0: never), done once the pins allow.
  std::multiset<uint64_t> pins_;
  uint64_t release_through_ = 0;
  std::deque<LogBatch> batches_;  // oldest first: done/writing, then the open one
  int writes_inflight_ = 0;
  bool failed_ = false;
  std::string failure_;
  uint64_t bytes_appended_ = 0;
  uint64_t syncs_ = 0;
  core::LatencyHistogram sync_us_;
  core::CountHistogram batch_records_;
  uint64_t idle_markers_ = 0;
  bool stopping_ = false;
  int io_pending_ = 0;
  LogFollowers followers_;  // after batches_: it reads them
  std::shared_ptr<bool> alive_;  // completions arriving after destruction do nothing
};

}  // namespace werk::wal
