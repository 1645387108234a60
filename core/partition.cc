#include "core/partition.h"

#include <algorithm>
#include <iterator>

#include "core/check.h"
#include "core/job_json.h"
#include "core/limits.h"
#include "core/replay.h"

namespace werk::core {

namespace {
// Timer firings are logged in records of at most this many jids.
constexpr size_t kDueJidsPerRecord = 1024;
}  // namespace

Partition::Partition(ShardRuntime* runtime, PartitionOptions options)
    : runtime_(runtime),
      options_(std::move(options)),
      sm_(runtime->clock().WallNow() / kNanosPerMilli),
      rng_(std::random_device{}()) {}

OpStatus Partition::CheckWritable() const {
  if (role_ == Role::kDeposed) return Deposed(deposed_by_.value(), primary_);
  if (role_ != Role::kPrimary) return NotPrimary(primary_);
  if (runtime_->journal().failed()) return LogFailed();
  return refusal_;
}

bool Partition::Commit(const Mutation& m) {
  WERK_DCHECK(role_ == Role::kPrimary);
  if (!sm_.Apply(m).ok()) return false;
  encode_scratch_.clear();
  EncodeMutation(m, encode_scratch_);
  runtime_->journal().Append(encode_scratch_);
  return true;
}

bool Partition::CommitEpoch(const EpochRecord& rec) {
  const Mutation m = Mutation::NewEpoch(now(), rec);
  if (!sm_.Apply(m).ok()) return false;
  encode_scratch_.clear();
  EncodeMutation(m, encode_scratch_);
  runtime_->journal().Append(encode_scratch_);
  return true;
}

OpStatus Partition::ApplyReplicated(std::string_view body) {
  WERK_DCHECK(role_ == Role::kStandby);
  return ApplyReplicatedRecord(sm_, runtime_->journal(), body);
}

OpStatus Partition::Push(JobSpec job) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  if (sm_.FindJob(job.jid)) return JidInUse(job.jid);
  Commit(Mutation::Push(now(), std::move(job)));
  ++stats_.pushed;
  return OkStatus();
}

OpStatus Partition::CronPush(CronPushRecord rec) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  const auto& fired = sm_.cron_fired();
  if (auto it = fired.find(rec.entry); it != fired.end() && rec.tick <= it->second)
    return CronTickFired(rec.job.jid);
  // A live job with the tick's jid that the ledger does not account for
  // was pushed by a client: not this tick (which has not fired).
  if (sm_.FindJob(rec.job.jid)) return CronJidTaken(rec.job.jid);
  Commit(Mutation::CronPush(now(), std::move(rec)));
  ++stats_.pushed;
  return OkStatus();
}

OpStatus Partition::Ack(const std::string& jid) {
  // First: a standby refuses every ACK, whatever it knows of the job (the
  // worker must reach the primary, which holds the reservation).
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  const Job* job = sm_.FindJob(jid);
  // Faktory acknowledges a job it does not know (reference §2.4).
  if (!job || job->state != JobState::kReserved) return OkStatus();
  Commit(Mutation::Ack(now(), jid));
  return OkStatus();
}

OpStatus Partition::Fail(FailRequest fail) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  const Job* job = sm_.FindJob(fail.jid);
  if (!job || job->state != JobState::kReserved) return JobNotFound(fail.jid);
  Commit(Mutation::Fail(now(), DecideFailure(*job, now(), FailCause::kFail,
                                             std::move(fail.errtype), std::move(fail.message),
                                             std::move(fail.backtrace), RetryJitter())));
  return OkStatus();
}

size_t Partition::FirstReady(const std::vector<std::string>& queues, size_t limit) const {
  limit = std::min(limit, queues.size());
  for (size_t i = 0; i < limit; ++i) {
    const Queue* q = sm_.FindQueue(queues[i]);
    if (q && !q->paused() && !q->empty()) return i;
  }
  return limit;
}

OpResult<std::optional<std::string>> Partition::Reserve(const std::vector<std::string>& queues,
                                                        const std::string& wid, size_t limit) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  const size_t i = FirstReady(queues, limit);
  if (i == std::min(limit, queues.size())) return std::nullopt;
  return ReserveFront(queues[i], wid);
}

OpResult<std::optional<std::string>> Partition::ReserveFront(const std::string& queue,
                                                             const std::string& wid) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  const Queue* q = sm_.FindQueue(queue);
  WERK_CHECK(q && !q->paused() && !q->empty());
  const Job* job = q->Front();
  const int64_t reserve_s = EffectiveReserveSeconds(job->reserve_for(), options_.reserve_for_min_s);
  const std::string jid(job->jid());
  Commit(Mutation::Reserve(now(), jid, wid, now() + SecondsToNanos(reserve_s)));
  return JobJson(*sm_.FindJob(jid));
}

OpResult<Progress> Partition::MutateSlice(MutateSlicer& slicer) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  MutateSetRecord slice = slicer.Slice();
  const Clock& clock = runtime_->clock();
  const int64_t deadline = clock.MonotonicNow() + kSliceNanos;
  do {
    slicer.Scan(sm_, kMutateScanChunk, kMutateSliceJobsMax, &slice);
  } while (!slicer.done() && MutateSlicer::Matched(slice) < kMutateSliceJobsMax &&
           clock.MonotonicNow() < deadline);
  if (MutateSlicer::Matched(slice) > 0)
    WERK_CHECK(Commit(Mutation::MutateSet(now(), std::move(slice))));
  return slicer.done() ? Progress::kDone : Progress::kMore;
}

OpStatus Partition::CommitGlobal(const Mutation& m) {
  if (OpStatus s = CheckWritable(); !s.ok()) return s;
  Commit(m);
  return OkStatus();
}

void Partition::FireTimers() {
  if (role_ != Role::kPrimary) return;
  due_scratch_.clear();
  const int64_t now_ms = now() / kNanosPerMilli;
  if (sm_.DueJobs(now_ms, due_scratch_, kTimerFiresPerAdvanceMax) == 0) return;
  ++timer_stats_.cycles;
  std::vector<std::string> enqueue, purge;
  std::vector<FailRecord> expired;
  for (const Job* job : due_scratch_) {
    switch (job->state) {
      case JobState::kScheduled:
        ++timer_stats_.scheduled_enqueued;
        enqueue.emplace_back(job->jid());
        break;
      case JobState::kRetry:
        ++timer_stats_.retries_enqueued;
        enqueue.emplace_back(job->jid());
        break;
      case JobState::kDead:
        ++timer_stats_.dead_purged;
        purge.emplace_back(job->jid());
        break;
      case JobState::kReserved:
        ++timer_stats_.reservations_expired;
        expired.push_back(DecideFailure(*job, now(), FailCause::kReservationExpired,
                                        "ReservationExpired", "Faktory job reservation expired",
                                        {}, RetryJitter()));
        break;
      case JobState::kQueued:
        break;  // queued jobs carry no timer
    }
  }
  if (!writable()) return;  // state stays as it is; nothing can be logged
  for (auto& rec : expired) Commit(Mutation::Fail(now(), std::move(rec)));
  auto commit_chunks = [&](std::vector<std::string>& jids, bool is_enqueue) {
    for (size_t i = 0; i < jids.size(); i += kDueJidsPerRecord) {
      const size_t end = std::min(jids.size(), i + kDueJidsPerRecord);
      std::vector<std::string> chunk(std::make_move_iterator(jids.begin() + long(i)),
                                     std::make_move_iterator(jids.begin() + long(end)));
      Commit(is_enqueue ? Mutation::EnqueueDue(now(), std::move(chunk))
                        : Mutation::PurgeDead(now(), std::move(chunk)));
    }
  };
  commit_chunks(enqueue, true);
  commit_chunks(purge, false);
}

std::vector<std::string> Partition::KnownQueues(const std::vector<std::string>& names,
                                                bool all) const {
  std::vector<std::string> out;
  if (all) {
    for (const Queue* q : sm_.SortedQueues()) out.emplace_back(q->name());
  } else {
    for (const auto& name : names)
      if (sm_.FindQueue(name)) out.push_back(name);
  }
  return out;
}

std::vector<UnixNanos> Partition::OldestEnqueued(const std::vector<std::string>& names) const {
  std::vector<UnixNanos> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    const Queue* q = sm_.FindQueue(name);
    out.push_back(q && !q->empty() ? q->Front()->enqueued_at : 0);
  }
  return out;
}

}  // namespace werk::core
