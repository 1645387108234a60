#pragma once
// The job operations of one shard, as a service callable without a socket
// (design §3 "Ownership"): the Faktory protocol layer (net/), cron, HTTP
// actions and werkctl all go through it. An operation runs on the shard
// that owns its job — here, or on another shard through the mailbox — and
// its result is typed (core/op_status.h) and comes back as a
// core::Pending (ready at once when it ran here). FETCH, with its blocking
// wait, is core::Fetcher (fetcher()).
//
// Every operation goes through the owner's core::Partition, which refuses
// writes in one place (CheckWritable: a standby, a failed log).
//
// Thread affinity: the shard's thread; peers are reached only through the
// runtime's mailbox.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fetcher.h"
#include "core/job_admin.h"
#include "core/job_listing.h"
#include "core/job_validation.h"
#include "core/op_status.h"
#include "core/partition.h"
#include "core/pending.h"
#include "core/shard_runtime.h"
#include "core/worker_table.h"

namespace werk::core {

// The protocol layer of each shard, told what the owner of a worker process
// decided for the connections of it held there.
class WorkerListener {
 public:
  // The process moved to quiet or terminate.
  virtual void OnWorkerState(const std::string& wid, WorkerState state) = 0;
  // No BEAT came in time: the process's connections here are closed.
  virtual void OnWorkerExpired(const std::string& wid) = 0;

 protected:
  ~WorkerListener() = default;
};

struct WorkerStats {
  uint64_t reaped = 0;  // processes forgotten for want of a BEAT
};

class JobService {
 public:
  JobService(ShardRuntime* runtime, Partition* partition,
             int64_t heartbeat_timeout_ms = kHeartbeatTimeoutSeconds * 1000);
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // Joins the services of a shard group (`peers` in shard order, this one
  // included) before the loops run. Without it the shard owns every job.
  void JoinGroup(std::vector<JobService*> peers);
  uint32_t id() const { return runtime_->id(); }
  uint32_t shard_count() const { return uint32_t(peers_.size()); }
  // The shard owning a jid (core::ShardOf).
  uint32_t OwnerOf(std::string_view jid) const;

  Partition& partition() { return *partition_; }
  Fetcher& fetcher() { return fetcher_; }
  const Fetcher& fetcher() const { return fetcher_; }

  // PUSH: validates the job (ValidateJob) here, stores it on its owner.
  Pending<OpStatus> Push(JobSpec job);
  // ACK of a job (Faktory's rules: Partition::Ack).
  Pending<OpStatus> Ack(std::string jid);
  // FAIL of a reserved job; the failure is cleansed here (CleanseFailure).
  Pending<OpStatus> Fail(FailRequest fail);

  // PUSHB of decoded jobs (chunks of them, in order): each owner validates
  // (with `now`: one created_at for the batch) and stores its jobs a slice
  // at a time (Sliced()). The value: the jobs refused, (jid, why).
  using Refusals = std::vector<std::pair<std::string, std::string>>;
  Pending<OpResult<Refusals>> PushBatch(std::vector<std::vector<JobSpec>> jobs, UnixNanos now);
  // MUTATE on every shard, a paced slice at a time. Like Faktory's, not one
  // instant: a job entering the set meanwhile may or may not be acted on.
  Pending<OpStatus> Mutate(MutateSetRecord rec);
  // FLUSH: every job, queue and counter, on every shard (a global record).
  Pending<OpStatus> Flush();
  // QUEUE PAUSE, RESUME or REMOVE of `rec`'s queues (a global record; a
  // pause also declares the queues on every shard, so it holds on a shard
  // where the next job pushed will create the queue).
  Pending<OpStatus> QueueOp(MutationType type, QueueRecord rec);
  // For each of `names`: when its oldest queued job was enqueued, over every
  // shard (0: none queued).
  Pending<OpResult<std::vector<UnixNanos>>> OldestEnqueued(std::vector<std::string> names);
  // The log failed: global operations of this origin end here, and those
  // waiting are refused.
  void OnLogFailed();

  // --- Worker processes (job_service_workers.cc) --------------------------
  // Messages, all through the mailbox; between two shards they arrive in
  // the order sent, so a shard's detach never overtakes its attach:
  //   attach  shard -> owner   a connection of the process opened there;
  //                            answered with the current state;
  //   detach  shard -> owner   one closed there (one-way);
  //   beat    shard -> owner   BEAT, answered with the state;
  //   state   owner -> shards  the state moved to quiet or terminate;
  //   expired owner -> shards  no BEAT in time: close the connections.
  void set_worker_listener(WorkerListener* listener) { listener_ = listener; }
  // A connection of `hello.wid` opened here. The state comes back once the
  // owner counted it, so a FETCH right after already sees quiet/terminate.
  Pending<WorkerState> AttachWorker(WorkerHello hello);
  // One closed here.
  void DetachWorker(std::string wid);
  // BEAT: the durable state, moved forward (running -> quiet -> terminate)
  // as the process asks. UnknownWorker if the owner does not know it.
  Pending<OpResult<WorkerState>> Beat(WorkerBeat beat);
  // The state as the owner has it (here only if this shard owns the wid).
  bool OwnsWorker(std::string_view wid) const { return OwnerOf(wid) == id(); }
  // The loop's turn, on the owner: processes past their heartbeat deadline.
  void FireHeartbeats();
  std::optional<int64_t> NextHeartbeatMs() const { return workers_.NextDeadlineMs(); }
  // After recovery: processes known only from the log get a deadline.
  void AdoptRecoveredWorkers();
  // A clean shutdown: quiet/terminate states are kept for the restart, and
  // no shard needs news of connections closing.
  void set_stopping() { stopping_ = true; }
  const WorkerTable& workers() const { return workers_; }
  const WorkerStats& worker_stats() const { return worker_stats_; }

  // --- The operator's reads and actions (job_service_admin.cc) ------------
  // WERK JOBS, werkctl and the Web UI call these (docs/operating-plan.md).
  // A page of a set or of a queue, over every shard (core/job_listing.h).
  // InvalidRequest for a limit above kListLimitMax or a queue without a name.
  Pending<OpResult<JobPage>> ListJobs(ListRequest req);
  // A job by jid, on its owner: where it is, its JSON, its failure.
  // JobNotFound if no live job has the jid.
  Pending<OpResult<FoundJob>> FindJob(std::string jid);
  // Every worker process of every shard (by wid), with the jobs reserved
  // for it.
  Pending<OpResult<std::vector<WorkerInfo>>> ListWorkers();
  // What Faktory's Web UI "Quiet" and "Stop" do: moves the process `wid`
  // (or every process, "all") forward to `state` (quiet or terminate;
  // never back), logged as a BEAT asking for it would be. The process
  // learns it in its next BEAT reply; its FETCHes get nothing meanwhile.
  // The value: how many processes moved. UnknownWorker for a wid the
  // owner does not know.
  Pending<OpResult<size_t>> SetWorkerState(std::string wid, WorkerState state);

  // Runs `op(Partition&) -> T` on the shard owning `key`: here, at once, or
  // there, the result held until what it logged is durable there. A result
  // whose owner's log failed first is AbandonedResult<T>().
  template <class T, class Op>
  Pending<T> OnOwner(std::string_view key, Op op) {
    const uint32_t owner = OwnerOf(key);
    if (owner == id()) return Pending<T>(op(*partition_));
    return OnShard<T>(owner, [op = std::move(op)](JobService& s) mutable { return op(*s.partition_); });
  }

  // Runs `fn(Partition&, shard) -> T` on each of `shards` (here directly,
  // elsewhere through the mailbox; the others first, so they run while this
  // one does) and gives the values in the order of `shards`, each held until
  // what it logged is durable on its shard unless `hold(value)` says it need
  // not be. LogFailed if any shard's log failed first.
  template <class T>
  using PartFn = std::function<T(Partition&, uint32_t shard)>;
  template <class T>
  Pending<OpResult<std::vector<T>>> OnShards(std::vector<uint32_t> shards, PartFn<T> fn,
                                             std::function<bool(const T&)> hold = nullptr);
  std::vector<uint32_t> AllShards() const;

  // Long operations in slices: `slice` runs on each of `shards`, one bounded
  // call per round, until it returns Progress::kDone there (an error ends
  // the operation with it); each round starts on a fresh loop iteration, so
  // a shard serves its other clients between them. `paced`: each round
  // waits for the last one's records to be durable (MUTATE runs at the log's
  // pace); unpaced, only the last slice's result waits (a shard's log is in
  // order: it covers the slices before it).
  using SliceFn = std::function<OpResult<Progress>(Partition&, uint32_t shard)>;
  Pending<OpStatus> Sliced(std::vector<uint32_t> shards, SliceFn slice, bool paced);

 private:
  // Runs `op(JobService&) -> T` on shard `owner` (not this one).
  template <class T, class Op>
  Pending<T> OnShard(uint32_t owner, Op op);

  struct SlicedOp;
  // One round; the status when the operation ended within it.
  std::optional<OpStatus> SliceRound(std::shared_ptr<SlicedOp> op);

  // Global operations (job_service_global.cc). With several shards each is
  // logged on every shard as one record; an origin runs one at a time and
  // starts the next once the last is durable everywhere, so a crash leaves
  // at most one per origin half applied (core/global_ops.h).
  Pending<OpStatus> RunGlobal(std::function<Pending<OpStatus>()> start);
  Pending<OpStatus> FinishGlobal(Pending<OpStatus> result);
  void StartWaitingGlobal();
  // Applies `steps` on every shard (one global record each).
  Pending<OpStatus> CommitEverywhere(std::vector<Mutation> steps);
  struct GlobalWaiter {
    std::function<Pending<OpStatus>()> start;
    Promise<OpStatus> done;
  };
  bool global_busy_ = false;    // an operation of this origin runs
  bool global_halted_ = false;  // a part failed: no further operation
  std::deque<GlobalWaiter> global_waiting_;

  // On the owner (job_service_workers.cc).
  WorkerState OwnerAttach(const WorkerHello& hello, uint32_t from);
  void OwnerDetach(const std::string& wid, uint32_t from);
  OpResult<WorkerState> OwnerBeat(const WorkerBeat& beat);
  // Moves `p`'s state forward to `wanted` (logged) and tells the shards
  // holding its connections; the state it has now.
  OpResult<WorkerState> MoveWorkerState(WorkerProcess* p, WorkerState wanted);
  void ForgetIfUnused(WorkerProcess* p);
  // Tells shard `s`'s listener (here directly, elsewhere by message).
  void TellShard(uint32_t s, std::function<void(WorkerListener&)> fn);

  ShardRuntime* runtime_;
  Partition* partition_;
  Fetcher fetcher_;
  WorkerTable workers_;
  WorkerStats worker_stats_;
  WorkerListener* listener_ = nullptr;
  bool stopping_ = false;
  std::vector<JobService*> peers_{this};
};

template <class T>
Pending<OpResult<std::vector<T>>> JobService::OnShards(std::vector<uint32_t> shards, PartFn<T> fn,
                                                       std::function<bool(const T&)> hold) {
  using Result = OpResult<std::vector<T>>;
  if (shards.empty()) return Result(std::vector<T>());
  if (shards.size() == 1 && shards[0] == id())
    return Result(std::vector<T>{fn(*partition_, id())});
  struct State {
    std::vector<T> values;
    size_t pending;
    bool abandoned = false;
    Promise<Result> promise;
  };
  auto st = std::make_shared<State>();
  st->values.resize(shards.size());
  st->pending = shards.size();
  Pending<Result> out = st->promise.pending();
  auto arrive = [st](size_t i, T value, bool abandoned) {
    st->values[i] = std::move(value);
    st->abandoned |= abandoned;
    if (--st->pending > 0) return;
    st->promise.Set(st->abandoned ? Result(LogFailed()) : Result(std::move(st->values)));
  };
  for (size_t i = 0; i < shards.size(); ++i) {
    const uint32_t target = shards[i];
    if (target == id()) continue;
    runtime_->Call(
        target, [peer = peers_[target], fn, target] { return fn(*peer->partition_, target); },
        [arrive, i](T value, bool abandoned) { arrive(i, std::move(value), abandoned); },
        [hold](const T& value) { return !hold || hold(value); });
  }
  for (size_t i = 0; i < shards.size(); ++i)
    if (shards[i] == id()) arrive(i, fn(*partition_, id()), false);
  return out;
}

template <class T, class Op>
Pending<T> JobService::OnShard(uint32_t owner, Op op) {
  Promise<T> promise;
  Pending<T> pending = promise.pending();
  runtime_->Call(
      owner, [peer = peers_[owner], op = std::move(op)]() mutable -> T { return op(*peer); },
      [promise = std::move(promise)](T value, bool abandoned) mutable {
        promise.Set(abandoned ? AbandonedResult<T>() : std::move(value));
      });
  return pending;
}

}  // namespace werk::core
