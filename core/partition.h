#pragma once
// This shard's part of the jobs (design §3 "Ownership"): the state machine
// holding every job whose jid hashes to this shard, and the operations the
// owner runs on them. Each operation applies its mutation, then appends it
// to the shard's journal, and returns a typed result (core/op_status.h);
// what it logged is durable once the journal's durable LSN reaches
// journal().appended_lsn() as of the return.
//
// Synchronous and local: routing to the owner, FETCH's blocking wait and
// the replies are the layers above (net/shard.h). Runs on the shard's
// thread; the time is the runtime's, read once per loop iteration.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/job_validation.h"
#include "core/limits.h"
#include "core/mutate_slicer.h"
#include "core/mutation.h"
#include "core/op_status.h"
#include "core/shard_runtime.h"
#include "core/state_machine.h"

namespace werk::core {

// A shard group is the primary, which serves writes, or a standby, which
// takes none (it will apply what the primary's log streams to it), or a
// deposed primary: one that learned of a newer epoch (another server was
// promoted), takes no writes and fires no timers (docs/replication.md
// "Fencing").
enum class Role : uint8_t { kPrimary, kStandby, kDeposed };

struct PartitionOptions {
  JobLimits limits;
  // A reservation lasts at least this long, whatever the job asks for.
  int64_t reserve_for_min_s = kReserveForSecondsMin;
};

// What the job timers did (INFO).
struct TimerStats {
  uint64_t cycles = 0;  // iterations that found a timer due
  uint64_t scheduled_enqueued = 0;
  uint64_t retries_enqueued = 0;
  uint64_t dead_purged = 0;
  uint64_t reservations_expired = 0;
};

// What this partition took since the process started (not the state's
// durable totals: a counter for /metrics, reset by a restart).
struct PartitionStats {
  uint64_t pushed = 0;  // jobs stored by a push (PUSH, PUSHB, cron)
};

class Partition {
 public:
  Partition(ShardRuntime* runtime, PartitionOptions options);
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  StateMachine& state() { return sm_; }
  const StateMachine& state() const { return sm_; }
  const PartitionOptions& options() const { return options_; }
  const TimerStats& timer_stats() const { return timer_stats_; }
  const PartitionStats& stats() const { return stats_; }
  // Whether this partition may write, checked by every operation below in
  // this one place: not on a standby (NotPrimary), not once the journal
  // failed (LogFailed: nothing more can be acknowledged), not while a
  // refusal is set (a primary whose standby is gone in required mode), not
  // once deposed (Deposed, naming the epoch and the new primary).
  OpStatus CheckWritable() const;
  // The same answer without building the error (asked every loop turn).
  bool writable() const {
    return role_ == Role::kPrimary && !runtime_->journal().failed() && refusal_.ok();
  }
  Role role() const { return role_; }
  // `primary`: on a standby, the primary's address its refusals name.
  void set_role(Role role, std::string primary = {}) {
    role_ = role;
    primary_ = std::move(primary);
  }
  const std::string& primary() const { return primary_; }
  // A newer epoch `by` exists, held by `primary` (its replication address,
  // if known): from now on every write is refused, for good, and the
  // timers stop. The caller fences the journal (nothing more is
  // acknowledged). A later, newer epoch replaces an older one.
  void Depose(Epoch by, std::string primary) {
    if (role_ == Role::kDeposed && by <= deposed_by_) return;
    role_ = Role::kDeposed;
    deposed_by_ = by;
    primary_ = std::move(primary);
  }
  // The epoch that deposed this partition (0 unless deposed).
  Epoch deposed_by() const { return deposed_by_; }
  // Refuses every write with `why` (not OK) until cleared with OkStatus().
  // Records the primary logs itself (timers, its replication records) go on.
  void set_write_refusal(OpStatus why) { refusal_ = std::move(why); }
  const OpStatus& write_refusal() const { return refusal_; }

  // Applies `m` and logs it; false (nothing logged) if the state machine
  // refused it (e.g. resuming a queue that is not paused). Only where
  // CheckWritable() passed.
  bool Commit(const Mutation& m);
  // Promotion (docs/replication.md "Promotion"): applies and logs the new
  // epoch's record on a standby that is becoming the primary, before its
  // role changes — the one record logged here whatever the role. The
  // caller has stopped the replication receiver and called SetEpoch on the
  // log; `rec.first_lsn` is the record's own LSN. False if the state
  // machine refused it (an epoch that does not go up).
  bool CommitEpoch(const EpochRecord& rec);

  // PUSH of a job validated by ValidateJob: JidInUse if a live job has its
  // jid.
  OpStatus Push(JobSpec job);
  // Cron's push of `rec.entry`'s tick (invariant I5): the job validated by
  // ValidateJob, its jid the tick's (cron::TickJid). CronTickFired if this
  // shard fired that tick or a later one of the entry; CronJidTaken if a
  // live job (a client's: the ledger would account for a tick's) has the
  // jid — the driver tries again.
  OpStatus CronPush(CronPushRecord rec);
  // ACK: OK for a job that is not reserved too (Faktory's behaviour).
  OpStatus Ack(const std::string& jid);
  // FAIL of a reserved job (cleansed by CleanseFailure): the retry policy
  // decides between a retry and the dead set. JobNotFound if not reserved.
  OpStatus Fail(FailRequest fail);
  // Reserves the first job of the first of `queues` (in order; only the
  // first `limit` of them) that has one here and is not paused, for worker
  // `wid`; returns its JSON, or nothing.
  OpResult<std::optional<std::string>> Reserve(const std::vector<std::string>& queues,
                                               const std::string& wid,
                                               size_t limit = SIZE_MAX);
  // Reserves the first job of `queue`, which has one and is not paused.
  OpResult<std::optional<std::string>> ReserveFront(const std::string& queue,
                                                    const std::string& wid);
  // The index of the first of `queues` (among the first `limit`) that has a
  // job here and is not paused; `limit` (or queues.size()) if none.
  size_t FirstReady(const std::vector<std::string>& queues, size_t limit = SIZE_MAX) const;
  // One bounded slice of a MUTATE: scans, logs what it matched.
  OpResult<Progress> MutateSlice(MutateSlicer& slicer);
  // This shard's part of a global operation: `m` logged as one record.
  OpStatus CommitGlobal(const Mutation& m);
  // On a standby: one record of the primary's log, applied and logged as
  // is (core/replay.h ApplyReplicatedRecord).
  OpStatus ApplyReplicated(std::string_view body);

  // Fires the job timers that are due (scheduled and retries enqueued,
  // reservations expired, the dead purged), as records. Not on a standby:
  // there the primary's records carry what its timers did.
  void FireTimers();
  // When the next job timer is due (wall ms), if any.
  std::optional<int64_t> NextTimerMs() const { return sm_.NextTimerMs(); }

  // The queues among `names` that exist here (all of them if `all`).
  std::vector<std::string> KnownQueues(const std::vector<std::string>& names, bool all) const;
  // For each of `names`: when its oldest job was enqueued here (0: none).
  std::vector<UnixNanos> OldestEnqueued(const std::vector<std::string>& names) const;

 private:
  UnixNanos now() const { return runtime_->now(); }
  int RetryJitter() { return std::uniform_int_distribution<int>(0, 29)(rng_); }

  ShardRuntime* runtime_;
  PartitionOptions options_;
  Role role_ = Role::kPrimary;
  std::string primary_;
  Epoch deposed_by_{0};
  OpStatus refusal_;  // OK: writes are not refused (set_write_refusal)
  StateMachine sm_;
  TimerStats timer_stats_;
  PartitionStats stats_;
  std::mt19937_64 rng_;
  std::string encode_scratch_;
  std::vector<const Job*> due_scratch_;
};

}  // namespace werk::core
