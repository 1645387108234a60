#pragma once
// A point-in-time snapshot of a state machine built in slices
// (docs/replication-plan.md §3): the image is exactly the state as of the
// moment the session began (state(L)), while the shard keeps applying
// mutations between slices.
//
// - Begin emits what is small at once (counters, workers, global operations,
//   queues) and captures the walk: the queues as they are, a position in
//   each set, the reserved list.
// - Each job carries a mark (Job::snap_gen). A job is *covered* once emitted
//   or when it did not exist at the start (a push marks it). Before a job of
//   the start changes or leaves, the state machine emits it as it still is
//   (its pre-image: StateMachine::Touch), so every job is emitted with its
//   fields as of the start, exactly once.
// - Step walks up to a number of jobs, emitting the ones not covered: the
//   captured queues through a cursor the state machine advances when the
//   job under it leaves, the sets through a position held by value, then the
//   reserved list through a cursor like the queues'.
// - FLUSH and QUEUE REMOVE take containers away in O(1): they abort the
//   session (pre-imaging everything they hold would cost O(n)), and the
//   partial image is dropped.
//
// Items leave queue order (a pre-image comes before its turn): the restore
// sorts queues by position (StateMachine::FinishRestore). Single-threaded,
// on the state machine's thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/job_index.h"
#include "core/snapshot.h"

namespace werk::core {

class Queue;
class StateMachine;

class SnapshotSession {
 public:
  enum class Status : uint8_t { kRunning, kDone, kAborted };

  // Unregisters from the state machine if still running (an abort).
  ~SnapshotSession();
  SnapshotSession(const SnapshotSession&) = delete;
  SnapshotSession& operator=(const SnapshotSession&) = delete;

  // Visits up to `max_jobs` jobs of the walk (covered ones included, so a
  // step's cost is bounded) and emits the uncovered ones.
  Status Step(size_t max_jobs);
  Status status() const { return status_; }
  // Jobs emitted so far, pre-images included.
  uint64_t jobs_emitted() const { return emitted_; }
  uint64_t pre_images() const { return pre_images_; }

 private:
  friend class StateMachine;
  enum class Phase : uint8_t { kQueues, kSets, kReserved, kDone };

  // Emits the small items and captures the walk (StateMachine::BeginSnapshot).
  SnapshotSession(const StateMachine& sm, uint32_t gen, SnapshotSink sink);

  // --- Called by the state machine ---------------------------------------
  uint32_t gen() const { return gen_; }
  // Emits `job` as it is now and marks it covered.
  void Emit(const Job& job);
  void PreImage(const Job& job) {
    ++pre_images_;
    Emit(job);
  }
  // `job` is about to leave its queue or the reserved list (`next` is what
  // follows it there): a cursor on it moves on.
  void Leaving(const Job* job, const Job* next) {
    if (cursor_ == job) cursor_ = next;
  }
  // A flush or a queue removal: the walk's containers may be gone.
  void Abort() { Finish(Status::kAborted); }
  void Finish(Status s);

  bool WalkQueues(size_t& budget);
  bool WalkSets(size_t& budget);
  bool WalkReserved(size_t& budget);

  const StateMachine* sm_;
  uint32_t gen_;
  SnapshotSink sink_;
  std::string buf_;
  Status status_ = Status::kRunning;
  Phase phase_ = Phase::kQueues;
  std::vector<const Queue*> queues_;  // captured at the start, by name
  size_t queue_i_ = 0;
  uint64_t start_queue_pos_ = 0;  // the first position given after the start
  bool started_ = false;         // the current queue, set or list is under way
  const Job* cursor_ = nullptr;  // next job of the current queue or of the reserved list
  int set_i_ = 0;                // scheduled, retries, dead
  SetPosition set_pos_;          // next position to visit in the current set
  uint64_t emitted_ = 0;
  uint64_t pre_images_ = 0;
};

}  // namespace werk::core
