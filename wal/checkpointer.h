#pragma once
// Takes checkpoints of one shard (docs/wal-format.md "Checkpoints") and
// removes what they make redundant, driven by the shard loop.
//
// Poll() is called once per loop iteration. When the log written since the
// last checkpoint exceeds max(min_log_bytes, 2 × the last checkpoint's size),
// or `interval` has passed with anything logged, it begins a snapshot of the
// state as of the last appended LSN (core/snapshot_session.h) and builds the
// image a slice per iteration (about `slice_jobs` jobs, ~0.4 ms: the loop
// never waits on it), waits until the log is durable up to the checkpoint's
// LSN, writes the file atomically in the background, and then removes older
// checkpoints and the segments now covered.
//
// A FLUSH or QUEUE REMOVE aborts a snapshot under way; the next poll starts
// again. After `aborts_before_whole` aborts in a row the next checkpoint is
// serialized in one go (a pause of ~0.37 µs per live job), so a client
// flushing or removing queues in a loop cannot put checkpoints off forever.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/snapshot_session.h"
#include "wal/checkpoint.h"

#include "core/clock.h"
#include "core/participant.h"
#include "core/snapshot.h"
#include "wal/storage.h"
#include "wal/wal.h"

namespace werk::wal {

// A participant of its shard's loop: it polls after each commit, and a
// clean stop ends with a checkpoint (the next start reads one file instead
// of replaying the log).
class Checkpointer final : public core::Participant {
 public:
  struct Options {
    uint32_t shard = 0;
    uint64_t min_log_bytes = 64u << 20;
    int64_t interval_ns = 600LL * 1'000'000'000;
    size_t slice_jobs = 1024;
    int aborts_before_whole = 3;
  };
  struct Stats {
    uint64_t taken = 0;
    uint64_t failed = 0;
    core::Lsn last_lsn{0};
    uint64_t last_bytes = 0;
    int64_t last_pause_ns = 0;  // the longest slice of serialization on the shard thread
    int64_t last_total_ns = 0;  // start to durable
    uint64_t last_slices = 0;   // iterations the last image took to build
    uint64_t aborted = 0;       // snapshots a flush or queue removal dropped
    uint64_t whole = 0;         // checkpoints serialized in one go after aborts
  };

  Checkpointer(Storage* storage, Wal* wal, const core::Clock& clock, Options options,
               core::Lsn recovered_lsn, uint64_t recovered_bytes);
  ~Checkpointer();

  void Poll(const core::SnapshotSource& state);
  // What the participant takes checkpoints of; before the loop runs.
  void AttachSource(const core::SnapshotSource* state) { source_ = state; }
  void OnDurable(core::Lsn) override {
    if (source_) Poll(*source_);
  }
  void OnStopped(core::ShardRuntime& runtime) override;
  bool IoIdle() const override { return io_idle(); }
  // A snapshot under way takes its next slice at once, like deferred work.
  int64_t WaitBudgetNs() override {
    const bool freeing = spent_ && spent_.use_count() == 1;  // the storage let go of it
    return state_ == State::kBuilding || freeing ? 0 : core::kNoDeadline;
  }
  // Takes a checkpoint at the next Poll() regardless of the thresholds.
  void RequestNow() { requested_ = true; }
  // While *hold is true (set from any thread), no checkpoint begins, the
  // stop's included; one being built is abandoned, and one whose write is
  // under way releases nothing (neither the previous checkpoint nor the
  // log it covers). A standby whose log is
  // about to be cut sets it (net/rejoin.h): a checkpoint past the cut would
  // release the segments the cut log starts from.
  void set_hold(const std::atomic<bool>* hold) { hold_ = hold; }
  bool busy() const { return state_ != State::kIdle; }
  // No request of the checkpointer is in flight in the ring.
  bool io_idle() const { return state_ != State::kWriting && removals_pending_ == 0; }
  const Stats& stats() const { return stats_; }
  // The newest checkpoint file that is durable and not yet removed (what a
  // standby is bootstrapped from: docs/replication.md "Bootstrap"): its
  // name, LSN and size; an empty name if there is none. A newer checkpoint
  // may remove it once this returns: a reader opens it at once, and an
  // open file keeps reading (wal/storage.h ReadableFile).
  struct Newest {
    std::string name;
    core::Lsn lsn{0};
    uint64_t bytes = 0;
  };
  Newest newest() const { return {previous_name_, newest_lsn_, newest_bytes_}; }

 private:
  enum class State : uint8_t { kIdle, kBuilding, kWaitDurable, kWriting };
  bool Due() const;
  void Begin(const core::SnapshotSource& state);
  // One slice; true when the image is complete.
  bool BuildSlice();
  void OnWritten(int32_t res);

  Storage* storage_;
  Wal* wal_;
  const core::Clock& clock_;
  Options options_;
  State state_ = State::kIdle;
  bool requested_ = false;
  uint64_t log_bytes_at_last_ = 0;
  int64_t last_time_ns_ = 0;
  uint64_t pending_lsn_ = 0;
  int64_t started_ns_ = 0;
  int64_t created_at_ = 0;
  int aborts_in_row_ = 0;
  std::unique_ptr<CheckpointWriter> writer_;
  std::unique_ptr<core::SnapshotSession> session_;
  std::shared_ptr<const std::string> image_;
  // A written image, given back to the kernel a slice per loop turn: freeing
  // a few hundred MB at once stalls the loop for tens of ms.
  std::shared_ptr<const std::string> spent_;
  size_t spent_done_ = 0;
  void ReleaseSpentSlice();
  std::string previous_name_;  // the newest checkpoint file (Newest)
  core::Lsn newest_lsn_{0};
  uint64_t newest_bytes_ = 0;
  Stats stats_;
  int removals_pending_ = 0;
  std::shared_ptr<bool> alive_;
  const core::SnapshotSource* source_ = nullptr;
  const std::atomic<bool>* hold_ = nullptr;
  bool held() const { return hold_ && hold_->load(std::memory_order_acquire); }
};

}  // namespace werk::wal
