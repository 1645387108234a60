#pragma once
// The per-shard state machine: queues, the scheduled/retry/dead sets, the
// reservations, counters and durable worker states (design §3).
//
// State changes only through Apply(const Mutation&), which is deterministic:
// the same sequence of mutations from the same starting state gives the same
// state, whether they come from live commands, WAL replay or a standby. The
// live path (net/) decides *what* to do by reading state through the const
// accessors, builds a Mutation, logs it, then applies it.
//
// Timers (scheduled `at`, retry due, reservation expiry, dead purge) live in a
// timer wheel keyed by wall-clock milliseconds; Apply arms and cancels them,
// and the shard polls DueJobs() to turn expirations into new mutations.
// Single-threaded: owned and used by one shard thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/btree_map.h>
#include <absl/container/btree_set.h>
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/node_hash_map.h>

#include "core/epoch_history.h"
#include "core/graveyard.h"
#include "core/job.h"
#include "core/job_index.h"
#include "core/mutation.h"
#include "core/op_status.h"
#include "core/queue.h"
#include "core/snapshot.h"
#include "core/string_hash.h"
#include "core/timer_wheel.h"

namespace werk::core {

struct DayCounts {
  int64_t processed = 0;
  int64_t failures = 0;
  bool operator==(const DayCounts&) const = default;
};

class StateMachine final : public SnapshotSource {
 public:
  // `now_ms`: where the timer wheel starts; anything due before fires at once.
  explicit StateMachine(int64_t now_ms);
  ~StateMachine();
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Total: any record the encoder can produce applies, whatever the state,
  // without crashing; what does not fit the state (an ACK of an unknown job,
  // a queue named twice) is a no-op or a partial no-op reported by the
  // status. Live commands are validated before their record is built, so on
  // the live path and on replay every logged record returns OK; anything
  // else on replay means the log and the state disagree. The status has a
  // code and no message (absl keeps it inline: no allocation):
  //   kNotFound         a job it names is not in the state the record expects
  //   kAlreadyExists    a push whose jid is live; a global operation applied already
  //   kInvalidArgument  malformed (a global operation whose steps do not decode):
  //                     nothing applied
  OpStatus Apply(const Mutation& m);

  // --- Reads -------------------------------------------------------------
  const Job* FindJob(std::string_view jid) const;
  const Queue* FindQueue(std::string_view name) const;
  // Known queues, sorted by name.
  std::vector<const Queue*> SortedQueues() const;
  // Moves whenever a queue is created or removed (the Queue pointers of an
  // earlier SortedQueues() stay valid while it does not).
  uint64_t queue_set_version() const { return queue_set_version_; }
  const JobSet& Set(SetTarget t) const;
  size_t scheduled_size() const { return scheduled_.size(); }
  size_t retries_size() const { return retries_.size(); }
  size_t dead_size() const { return dead_.size(); }
  size_t reserved_size() const { return reserved_list_.size(); }
  // The reserved jobs, oldest reservation first.
  const IntrusiveList<Job, QueueTag>& reserved_jobs() const { return reserved_list_; }
  size_t job_count() const { return jobs_.size() - doomed_; }
  size_t queued_total() const;
  int64_t total_processed() const { return processed_; }
  int64_t total_failures() const { return failures_; }
  const absl::btree_map<int64_t, DayCounts>& history() const { return history_; }
  WorkerState worker_state(std::string_view wid) const;
  const absl::flat_hash_map<std::string, WorkerState, StringHash, StringEq>& worker_states() const {
    return worker_states_;
  }
  // The epochs that wrote this shard's log, and whether it acknowledged
  // writes alone (core/epoch_history.h).
  const EpochHistory& epochs() const { return epochs_; }
  // The last global operation applied from each origin shard.
  const absl::btree_map<uint32_t, GlobalOpRecord>& last_global_ops() const {
    return last_global_ops_;
  }
  // Cron (invariant I5): the latest tick fired here of each entry (by entry
  // id), from cron-push records. A tick at or before it is refused. FLUSH
  // keeps it: it records what fired, not a job.
  const absl::btree_map<uint64_t, int64_t>& cron_fired() const { return cron_fired_; }

  // --- Timers ------------------------------------------------------------
  // Jobs whose timer has expired at `now_ms`, at most `max` per call. Each is
  // disarmed; the caller must apply a mutation for it in the same loop
  // iteration (EnqueueDue, PurgeDead or an expiry Fail).
  size_t DueJobs(int64_t now_ms, std::vector<const Job*>& out, size_t max);
  std::optional<int64_t> NextTimerMs() const { return wheel_->NextEventTick(); }

  // --- Garbage (core/graveyard.h) -----------------------------------------
  // FLUSH and QUEUE REMOVE detach what they remove; the shard frees it a
  // slice at a time between commands. Nothing observable depends on it.
  bool has_garbage() const { return !graveyard_.empty(); }
  // Frees up to about `max_jobs` removed jobs.
  void Reclaim(size_t max_jobs);
  size_t garbage_jobs() const { return graveyard_.pending_jobs(); }

  // --- Notifications -----------------------------------------------------
  // Queues that received a job since the last call; the shard hands them to
  // blocked fetchers. Cleared by the call.
  void TakeReadyQueues(std::vector<std::string>& out);

  // A deterministic digest of the whole state, for tests comparing replicas
  // and replays.
  uint64_t StateHash() const;

  // --- Checkpoints (core/snapshot.h) ---------------------------------------
  // Emits the whole state as items: counters, workers, queues, then jobs
  // (each queue's in FIFO order, then the sets in order, then reservations).
  // A session run to its end in one go (core/snapshot_session.h).
  void Snapshot(const SnapshotSink& sink) const override;
  std::unique_ptr<SnapshotSession> BeginSnapshot(SnapshotSink sink) const override;
  // The open session, if any (for tests).
  bool snapshot_open() const { return snap_ != nullptr; }
  size_t snapshot_bytes_hint() const override { return job_count() * 256; }
  // Applies one item to a state machine being rebuilt from a checkpoint.
  // False if the item is malformed. With `renumber`, a job item gets this
  // state machine's next sequence number and queue position instead of its
  // own (its items come from several state machines: core/repartition.h).
  bool RestoreItem(SnapshotItemType type, std::string_view body, bool renumber = false);
  // Called once the last item is restored (before any record is replayed):
  // puts each queue in position order, since items need not come in FIFO
  // order (docs/wal-format.md "Checkpoints"). O(queues) when they did.
  void FinishRestore();
  // The position the next enqueued job gets (part of the state as of a
  // checkpoint; not observable otherwise).
  uint64_t next_queue_pos() const { return next_queue_pos_; }
  // Adds `other`'s counters and daily history to this one's.
  void AddCounters(const StateMachine& other);

 private:
  friend class SnapshotSession;
  // Every path that changes a job's fields or takes it out of its place goes
  // through a Job* from MutableJob (or, for a set scan, Touch): while a
  // snapshot session is open, the job is emitted as it still is first.
  Job* MutableJob(std::string_view jid);
  void Touch(const Job* job) const;
  void AbortSnapshot();
  Queue& GetOrCreateQueue(std::string_view name);
  JobSet& MutableSet(SetTarget t);
  void Enqueue(Job* job, UnixNanos enqueued_at);
  void AddToSet(Job* job, JobState state, UnixNanos key, UnixNanos fire_at);
  void Detach(Job* job);  // from queue/set/reservation, disarming its timer
  void Erase(Job* job);   // Detach + delete
  void Arm(Job* job, UnixNanos at);
  void CountProcessed(UnixNanos t, bool failed);
  void RemoveQueue(Queue* q);
  void MarkReady(Queue& q);

  OpStatus ApplyPush(UnixNanos t, const JobSpec& job);
  OpStatus ApplyCronPush(UnixNanos t, const CronPushRecord& r);
  OpStatus ApplyReserve(UnixNanos t, const ReserveRecord& r);
  OpStatus ApplyAck(UnixNanos t, const AckRecord& r);
  OpStatus ApplyFail(UnixNanos t, const FailRecord& r);
  OpStatus ApplyEnqueueDue(UnixNanos t, const EnqueueDueRecord& r);
  OpStatus ApplyPurgeDead(const PurgeDeadRecord& r);
  OpStatus ApplyMutateSet(UnixNanos t, const MutateSetRecord& r);
  OpStatus ApplyQueue(MutationType type, const QueueRecord& r);
  OpStatus ApplyFlush();

  // A job of a removed queue that is not reclaimed yet: still an entry of
  // jobs_, but absent to every reader.
  static bool Doomed(const Job* j) {
    return j->state == JobState::kQueued && j->queue->removed();
  }

  JobIndex jobs_;  // every live job, and doomed ones (doomed_ of them)
  size_t doomed_ = 0;
  QueueMap queues_;
  uint64_t queue_set_version_ = 0;
  JobSet scheduled_;
  JobSet retries_;
  JobSet dead_;
  // Reserved jobs, linked through the queue hook (free while reserved), so a
  // snapshot walks them without scanning jobs_.
  IntrusiveList<Job, QueueTag> reserved_list_;
  size_t queued_count_ = 0;
  std::unique_ptr<TimerWheel> wheel_;  // replaced whole by a flush
  uint64_t next_seq_ = 1;
  // Queue positions (Job::set_key while queued): FIFO order as a number, so
  // a checkpoint's items may come in any order (FinishRestore sorts).
  uint64_t next_queue_pos_ = 0;
  // Restoring a version 1 image: its queued jobs get positions in item order.
  bool restore_v1_ = false;
  // Queues restored out of position order, sorted by FinishRestore.
  absl::flat_hash_set<Queue*> unsorted_;
  int64_t processed_ = 0;
  int64_t failures_ = 0;
  absl::btree_map<int64_t, DayCounts> history_;  // UTC day number -> counts
  absl::btree_map<uint32_t, GlobalOpRecord> last_global_ops_;  // by origin shard
  EpochHistory epochs_;
  absl::btree_map<uint64_t, int64_t> cron_fired_;  // entry id -> latest tick
  absl::flat_hash_map<std::string, WorkerState, StringHash, StringEq> worker_states_;  // non-running only
  std::vector<Queue*> ready_;
  // The open snapshot session and the last session number (marks in jobs).
  // Bookkeeping of the session, changed by the const walk.
  mutable SnapshotSession* snap_ = nullptr;
  mutable uint32_t snap_gen_ = 0;
  Graveyard graveyard_;  // after jobs_: destroyed before it
};

// The retry policy (reference §4.4), shared by FAIL and reservation expiry:
// what happens to `job` if it fails now. `random_0_29` is the caller's random
// draw, so the decision can be recorded and replayed.
FailRecord DecideFailure(const Job& job, UnixNanos now, FailCause cause, std::string errtype,
                         std::string message, std::vector<std::string> backtrace,
                         int random_0_29);
// n^4 + 15 + r*(n+1) seconds for the n-th retry (n = retry_count).
int64_t RetryDelaySeconds(int64_t retry_count, int random_0_29);

}  // namespace werk::core
