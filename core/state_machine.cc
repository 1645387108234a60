#include "core/state_machine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include <xxhash.h>

#include "core/check.h"
#include "core/job_json.h"
#include "core/limits.h"
#include "core/mutate_filter.h"
#include "core/snapshot_session.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

// Timers fire on whole milliseconds, never before the job's time.
int64_t CeilMs(UnixNanos t) {
  return t / kNanosPerMilli + (t % kNanosPerMilli > 0 ? 1 : 0);
}

// Apply's outcomes other than OK: a code, no message, so the status is held
// inline and nothing is allocated.
OpStatus NotInState() { return absl::NotFoundError({}); }
OpStatus AlreadyThere() { return absl::AlreadyExistsError({}); }
OpStatus Malformed() { return absl::InvalidArgumentError({}); }

}  // namespace

StateMachine::StateMachine(int64_t now_ms) : wheel_(std::make_unique<TimerWheel>(now_ms)) {}

StateMachine::~StateMachine() {
  AbortSnapshot();
  Reclaim(std::numeric_limits<size_t>::max());
  std::vector<Job*> all;
  all.reserve(jobs_.size());
  for (Job* job : jobs_) all.push_back(job);
  jobs_.clear();
  for (Job* j : all) {
    wheel_->Cancel(j);
    Job::Ptr owned(j);
  }
}

// --- Reads -------------------------------------------------------------------

const Job* StateMachine::FindJob(std::string_view jid) const {
  auto it = jobs_.find(jid);
  return it == jobs_.end() || Doomed(*it) ? nullptr : *it;
}

Job* StateMachine::MutableJob(std::string_view jid) {
  auto it = jobs_.find(jid);
  if (it == jobs_.end() || Doomed(*it)) return nullptr;
  Touch(*it);
  return *it;
}

void StateMachine::Touch(const Job* job) const {
  if (snap_ && job->snap_gen != snap_->gen()) snap_->PreImage(*job);
}

void StateMachine::AbortSnapshot() {
  if (snap_) snap_->Abort();
  WERK_DCHECK(!snap_);
}

const Queue* StateMachine::FindQueue(std::string_view name) const {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second.get();
}

std::vector<const Queue*> StateMachine::SortedQueues() const {
  std::vector<const Queue*> out;
  out.reserve(queues_.size());
  for (const auto& [name, q] : queues_) out.push_back(q.get());
  std::sort(out.begin(), out.end(),
            [](const Queue* a, const Queue* b) { return a->name() < b->name(); });
  return out;
}

size_t StateMachine::queued_total() const { return queued_count_; }

const JobSet& StateMachine::Set(SetTarget t) const {
  switch (t) {
    case SetTarget::kRetries: return retries_;
    case SetTarget::kScheduled: return scheduled_;
    case SetTarget::kDead: return dead_;
  }
  WERK_UNREACHABLE();
}

JobSet& StateMachine::MutableSet(SetTarget t) { return const_cast<JobSet&>(Set(t)); }

WorkerState StateMachine::worker_state(std::string_view wid) const {
  auto it = worker_states_.find(wid);
  return it == worker_states_.end() ? WorkerState::kRunning : it->second;
}

// --- Helpers -----------------------------------------------------------------

Queue& StateMachine::GetOrCreateQueue(std::string_view name) {
  auto it = queues_.find(name);
  if (it != queues_.end()) return *it->second;
  auto q = std::make_unique<Queue>(std::string(name));
  Queue& ref = *q;
  queues_.emplace(std::string(name), std::move(q));
  ++queue_set_version_;
  return ref;
}

void StateMachine::MarkReady(Queue& q) {
  if (std::find(ready_.begin(), ready_.end(), &q) == ready_.end()) ready_.push_back(&q);
}

void StateMachine::TakeReadyQueues(std::vector<std::string>& out) {
  for (Queue* q : ready_) out.push_back(q->name());
  ready_.clear();
}

void StateMachine::Arm(Job* job, UnixNanos at) { wheel_->Arm(job, CeilMs(at)); }

void StateMachine::Enqueue(Job* job, UnixNanos enqueued_at) {
  Queue& q = GetOrCreateQueue(job->queue_name());
  job->state = JobState::kQueued;
  job->enqueued_at = enqueued_at;
  job->queue = &q;
  job->set_key = UnixNanos(next_queue_pos_++);
  q.PushBack(job);
  ++queued_count_;
  MarkReady(q);
}

void StateMachine::AddToSet(Job* job, JobState state, UnixNanos key, UnixNanos fire_at) {
  job->state = state;
  job->set_key = key;
  SetTarget t = state == JobState::kScheduled ? SetTarget::kScheduled
                : state == JobState::kRetry   ? SetTarget::kRetries
                                              : SetTarget::kDead;
  WERK_CHECK(MutableSet(t).insert(job).second);
  Arm(job, fire_at);
}

void StateMachine::Detach(Job* job) {
  // S3: whatever leaves its place was emitted as it was first.
  WERK_DCHECK(!snap_ || job->snap_gen == snap_->gen());
  wheel_->Cancel(job);
  switch (job->state) {
    case JobState::kQueued:
      if (snap_) snap_->Leaving(job, job->queue->Next(job));
      job->queue->Remove(job);
      job->queue = nullptr;
      --queued_count_;
      break;
    case JobState::kScheduled:
      WERK_CHECK(scheduled_.erase(job) == 1);
      break;
    case JobState::kRetry:
      WERK_CHECK(retries_.erase(job) == 1);
      break;
    case JobState::kDead:
      WERK_CHECK(dead_.erase(job) == 1);
      break;
    case JobState::kReserved:
      if (snap_) snap_->Leaving(job, reserved_list_.Next(job));
      job->reservation.reset();
      reserved_list_.Remove(job);
      break;
  }
}

void StateMachine::Erase(Job* job) {
  Detach(job);
  jobs_.erase(job);
  Job::Ptr owned(job);
}

void StateMachine::CountProcessed(UnixNanos t, bool failed) {
  ++processed_;
  const int64_t day = UtcDayNumber(t);
  DayCounts& d = history_[day];
  ++d.processed;
  if (failed) {
    ++failures_;
    ++d.failures;
  }
  while (!history_.empty() && history_.begin()->first <= day - kHistoryDaysMax)
    history_.erase(history_.begin());
}

void StateMachine::RemoveQueue(Queue* q) {
  // The session's captured queues and cursors may point into it.
  AbortSnapshot();
  // O(1): the queue leaves the map with its jobs still linked to it; they
  // stay in jobs_ as doomed entries until the graveyard frees them.
  ready_.erase(std::remove(ready_.begin(), ready_.end(), q), ready_.end());
  auto node = queues_.extract(q->name());
  ++queue_set_version_;
  WERK_CHECK(!node.empty());
  std::unique_ptr<Queue> owned = std::move(node.mapped());
  queued_count_ -= owned->size();
  if (owned->empty()) return;
  doomed_ += owned->size();
  owned->MarkRemoved();
  graveyard_.BuryQueue(std::move(owned), &jobs_);
}

void StateMachine::Reclaim(size_t max_jobs) {
  const size_t erased = graveyard_.Reclaim(max_jobs, &jobs_);
  WERK_CHECK(erased <= doomed_);
  doomed_ -= erased;
}

// --- Apply -------------------------------------------------------------------

OpStatus StateMachine::Apply(const Mutation& m) {
  switch (m.type) {
    case MutationType::kPush: return ApplyPush(m.time, std::get<PushRecord>(m.body).job);
    case MutationType::kReserve: return ApplyReserve(m.time, std::get<ReserveRecord>(m.body));
    case MutationType::kAck: return ApplyAck(m.time, std::get<AckRecord>(m.body));
    case MutationType::kFail: return ApplyFail(m.time, std::get<FailRecord>(m.body));
    case MutationType::kEnqueueDue:
      return ApplyEnqueueDue(m.time, std::get<EnqueueDueRecord>(m.body));
    case MutationType::kPurgeDead: return ApplyPurgeDead(std::get<PurgeDeadRecord>(m.body));
    case MutationType::kMutateSet:
      return ApplyMutateSet(m.time, std::get<MutateSetRecord>(m.body));
    case MutationType::kQueuePause:
    case MutationType::kQueueResume:
    case MutationType::kQueueRemove: return ApplyQueue(m.type, std::get<QueueRecord>(m.body));
    case MutationType::kQueueDeclare:
      for (const auto& name : std::get<QueueRecord>(m.body).names) GetOrCreateQueue(name);
      return OkStatus();
    case MutationType::kFlush: return ApplyFlush();
    case MutationType::kGlobalOp: {
      const auto& r = std::get<GlobalOpRecord>(m.body);
      // All steps or none: each must be a whole, non-global mutation and the
      // number must be set (the decoder refuses a record that breaks this; a
      // Mutation built in memory may still).
      if (r.id == 0) return Malformed();
      std::vector<Mutation> steps;
      steps.reserve(r.steps.size());
      for (const auto& step : r.steps) {
        auto inner = DecodeMutation(step);
        if (!inner || inner->type == MutationType::kGlobalOp) return Malformed();
        steps.push_back(std::move(*inner));
      }
      auto it = last_global_ops_.find(r.origin);
      // Applied already (a roll-forward racing a replay cannot apply twice).
      if (it != last_global_ops_.end() && r.id <= it->second.id) return AlreadyThere();
      // Each step's own outcome is final (e.g. nothing to pause).
      for (const Mutation& step : steps) (void)Apply(step);
      last_global_ops_[r.origin] = r;
      return OkStatus();
    }
    case MutationType::kWorkerState: {
      const auto& r = std::get<WorkerStateRecord>(m.body);
      if (r.state == WorkerState::kRunning)
        worker_states_.erase(r.wid);
      else
        worker_states_[r.wid] = r.state;
      return OkStatus();
    }
    case MutationType::kWorkerForget:
      worker_states_.erase(std::get<WorkerForgetRecord>(m.body).wid);
      return OkStatus();
    case MutationType::kEpoch: {
      const auto& r = std::get<EpochRecord>(m.body);
      return epochs_.Begin({Epoch(r.epoch), Lsn(r.first_lsn), r.node, r.id});
    }
    case MutationType::kReplication: {
      const auto& r = std::get<ReplicationRecord>(m.body);
      // Alone since the earliest LSN still not on a standby: a second
      // "alone" while alone keeps the first.
      if (!r.alone)
        epochs_.SetAloneSince(std::nullopt);
      else if (!epochs_.alone_since())
        epochs_.SetAloneSince(Lsn(r.lsn));
      return OkStatus();
    }
    case MutationType::kCronPush: return ApplyCronPush(m.time, std::get<CronPushRecord>(m.body));
  }
  WERK_UNREACHABLE();
}

OpStatus StateMachine::ApplyPush(UnixNanos t, const JobSpec& spec) {
  if (auto it = jobs_.find(spec.jid); it != jobs_.end()) {
    if (!Doomed(*it)) return AlreadyThere();
    // A job of a removed queue not freed yet: the new job takes its entry
    // (the graveyard still frees the old one).
    jobs_.erase(it);
    --doomed_;
  }
  Job* job = Job::Create(spec, next_seq_++).release();
  if (snap_) job->snap_gen = snap_->gen();  // not in the snapshot's state
  jobs_.insert(job);
  if (spec.at_ns > t) {
    AddToSet(job, JobState::kScheduled, spec.at_ns, spec.at_ns);
  } else {
    Enqueue(job, t);
  }
  return OkStatus();
}

OpStatus StateMachine::ApplyCronPush(UnixNanos t, const CronPushRecord& r) {
  // Fired already: the same tick again, or an earlier one after a later one.
  if (auto it = cron_fired_.find(r.entry); it != cron_fired_.end() && r.tick <= it->second)
    return AlreadyThere();
  if (OpStatus s = ApplyPush(t, r.job); !s.ok()) return s;
  cron_fired_[r.entry] = r.tick;
  return OkStatus();
}

OpStatus StateMachine::ApplyReserve(UnixNanos t, const ReserveRecord& r) {
  Job* job = MutableJob(r.jid);
  if (!job || job->state != JobState::kQueued) return NotInState();
  Detach(job);
  job->state = JobState::kReserved;
  job->reservation = std::make_unique<Reservation>(Reservation{r.wid, t, r.expires_at});
  reserved_list_.PushBack(job);
  Arm(job, r.expires_at);
  return OkStatus();
}

OpStatus StateMachine::ApplyAck(UnixNanos t, const AckRecord& r) {
  Job* job = MutableJob(r.jid);
  if (!job || job->state != JobState::kReserved) return NotInState();
  Erase(job);
  CountProcessed(t, /*failed=*/false);
  return OkStatus();
}

OpStatus StateMachine::ApplyFail(UnixNanos t, const FailRecord& r) {
  Job* job = MutableJob(r.jid);
  if (!job || job->state != JobState::kReserved) return NotInState();
  CountProcessed(t, /*failed=*/true);
  if (r.outcome == FailOutcome::kDiscard) {
    Erase(job);
    return OkStatus();
  }
  Detach(job);
  if (job->failure) {
    Failure& f = *job->failure;
    if (f.retry_count < INT64_MAX) ++f.retry_count;  // a pushed failure may carry any count
    if (f.remaining > 0) --f.remaining;
    f.message = r.message;
    f.errtype = r.errtype;
    f.backtrace = r.backtrace;
  } else {
    job->failure = std::make_unique<Failure>();
    Failure& f = *job->failure;
    f.retry_count = 0;
    f.remaining = job->retry();
    f.failed_at = FormatRfc3339Nano(t);
    f.message = r.message;
    f.errtype = r.errtype;
    f.backtrace = r.backtrace;
  }
  if (r.outcome == FailOutcome::kRetry) {
    job->failure->next_at = FormatRfc3339Nano(r.retry_at);
    AddToSet(job, JobState::kRetry, r.retry_at, r.retry_at);
  } else {
    const UnixNanos purge_at = AddNanos(t, SecondsToNanos(kDeadTtlSeconds));
    AddToSet(job, JobState::kDead, purge_at, purge_at);
  }
  return OkStatus();
}

OpStatus StateMachine::ApplyEnqueueDue(UnixNanos t, const EnqueueDueRecord& r) {
  OpStatus status = OkStatus();
  for (const auto& jid : r.jids) {
    Job* job = MutableJob(jid);
    if (!job || (job->state != JobState::kScheduled && job->state != JobState::kRetry)) {
      status = NotInState();
      continue;
    }
    Detach(job);
    Enqueue(job, t);
  }
  return status;
}

OpStatus StateMachine::ApplyPurgeDead(const PurgeDeadRecord& r) {
  OpStatus status = OkStatus();
  for (const auto& jid : r.jids) {
    Job* job = MutableJob(jid);
    if (!job || job->state != JobState::kDead) {
      status = NotInState();
      continue;
    }
    Erase(job);
  }
  return status;
}

OpStatus StateMachine::ApplyMutateSet(UnixNanos t, const MutateSetRecord& r) {
  const JobSet& set = Set(r.target);
  std::vector<Job*> matched;
  if (!MutatesEverything(r) && r.filter && !r.filter->jids.empty()) {
    // Named jobs (a client's list, or a slice of a long MUTATE): looked up,
    // not scanned for, then taken in set order as a scan would.
    const JobState state = SetState(r.target);
    for (const auto& jid : r.filter->jids)
      if (Job* job = MutableJob(jid); job && job->state == state) matched.push_back(job);
    std::sort(matched.begin(), matched.end(), SetOrder());
    matched.erase(std::unique(matched.begin(), matched.end()), matched.end());
  } else {
    const bool everything = MutatesEverything(r);
    MutateMatcher matcher(r.filter);
    for (Job* job : set)
      if (everything || matcher.Matches(*job)) {
        Touch(job);
        matched.push_back(job);
      }
  }
  for (Job* job : matched) {
    switch (r.cmd) {
      case MutateCmd::kClear:
      case MutateCmd::kDiscard:
        Erase(job);
        break;
      case MutateCmd::kKill: {
        Detach(job);
        const UnixNanos purge_at = AddNanos(t, SecondsToNanos(kDeadTtlSeconds));
        AddToSet(job, JobState::kDead, purge_at, purge_at);
        break;
      }
      case MutateCmd::kRequeue:
        // Faktory pushes the stored payload back as is: enqueued_at is not
        // refreshed.
        Detach(job);
        Enqueue(job, job->enqueued_at);
        break;
    }
  }
  return OkStatus();
}

OpStatus StateMachine::ApplyQueue(MutationType type, const QueueRecord& r) {
  std::vector<Queue*> targets;
  if (r.all) {
    for (auto& [name, q] : queues_) targets.push_back(q.get());
  } else {
    // A name given twice is one queue: removing it twice would touch a freed
    // queue. (Commands de-duplicate names before logging; logs written
    // before they did may still hold repeats.)
    absl::flat_hash_set<Queue*> seen;
    for (const auto& name : r.names) {
      auto it = queues_.find(name);
      if (it != queues_.end() && seen.insert(it->second.get()).second)
        targets.push_back(it->second.get());
    }
  }
  for (Queue* q : targets) {
    switch (type) {
      case MutationType::kQueuePause: q->set_paused(true); break;
      case MutationType::kQueueResume:
        q->set_paused(false);
        if (!q->empty()) MarkReady(*q);
        break;
      case MutationType::kQueueRemove: RemoveQueue(q); break;
      default: WERK_UNREACHABLE();
    }
  }
  return OkStatus();
}

OpStatus StateMachine::ApplyFlush() {
  // O(1): every container is swapped for an empty one and the old ones go
  // to the graveyard, which frees them a slice at a time. A snapshot being
  // built walks those containers: it is dropped.
  AbortSnapshot();
  auto f = std::make_unique<FlushedState>();
  f->jobs = std::exchange(jobs_, JobIndex());
  f->queues = std::exchange(queues_, QueueMap());
  ++queue_set_version_;
  f->scheduled = std::exchange(scheduled_, JobSet());
  f->retries = std::exchange(retries_, JobSet());
  f->dead = std::exchange(dead_, JobSet());
  const int64_t now_tick = wheel_->now();
  f->wheel = std::exchange(wheel_, std::make_unique<TimerWheel>(now_tick));
  graveyard_.BuryFlushed(std::move(f), &jobs_, doomed_);
  doomed_ = 0;
  queued_count_ = 0;
  // The flushed reserved jobs are freed with the rest, still linked.
  reserved_list_.Forget();
  ready_.clear();
  processed_ = failures_ = 0;
  history_.clear();
  return OkStatus();
}

// --- Timers --------------------------------------------------------------------

size_t StateMachine::DueJobs(int64_t now_ms, std::vector<const Job*>& out, size_t max) {
  TimerHook* fired[256];
  size_t total = 0;
  while (total < max) {
    const size_t n = wheel_->Advance(now_ms, fired, std::min<size_t>(256, max - total));
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<Job*>(fired[i]));
    total += n;
    if (n == 0) break;
  }
  return total;
}

// --- Digest --------------------------------------------------------------------

uint64_t StateMachine::StateHash() const {
  // Order-independent over jobs (sum of per-job hashes), plus ordered parts.
  uint64_t h = 0;
  std::string buf;
  for (const Job* job : jobs_) {
    if (Doomed(job)) continue;
    buf.clear();
    AppendJobJson(buf, *job);
    buf.push_back(char(job->state));
    // A queued job's position is its place in the queue, hashed below as the
    // queue's order (a version 1 image restores the order, not the numbers).
    if (job->state != JobState::kQueued)
      buf.append(reinterpret_cast<const char*>(&job->set_key), sizeof job->set_key);
    if (job->reservation) {
      buf.append(job->reservation->wid);
      buf.append(reinterpret_cast<const char*>(&job->reservation->expires_at),
                 sizeof(UnixNanos));
    }
    h += XXH3_64bits(buf.data(), buf.size());
  }
  buf.clear();
  for (const Queue* q : SortedQueues()) {
    buf.append(q->name());
    buf.push_back(q->paused() ? 'P' : 'R');
    for (const Job* j = q->Front(); j; j = q->Next(j)) buf.append(j->jid()).push_back(',');
    buf.push_back(';');
  }
  buf.append(std::to_string(processed_)).push_back('/');
  buf.append(std::to_string(failures_));
  for (const auto& [day, c] : history_)
    buf.append(std::to_string(day) + ":" + std::to_string(c.processed) + "/" +
               std::to_string(c.failures) + ",");
  std::vector<std::pair<std::string, WorkerState>> ws(worker_states_.begin(),
                                                      worker_states_.end());
  std::sort(ws.begin(), ws.end());
  for (const auto& [wid, s] : ws) buf.append(wid).push_back(char('0' + int(s)));
  for (const auto& [origin, g] : last_global_ops_)
    buf.append(std::to_string(origin) + "#" + std::to_string(g.id) + ",");
  for (const EpochStart& e : epochs_.entries())
    buf.append("e" + std::to_string(e.epoch.value()) + "@" + std::to_string(e.first_lsn.value()) +
               "=" + e.node + "#" + std::to_string(e.id) + ",");
  if (epochs_.alone_since()) buf.append("alone@" + std::to_string(epochs_.alone_since()->value()));
  for (const auto& [entry, tick] : cron_fired_)
    buf.append("c" + std::to_string(entry) + "@" + std::to_string(tick) + ",");
  return h ^ XXH3_64bits(buf.data(), buf.size());
}

// --- Retry policy ----------------------------------------------------------------

int64_t RetryDelaySeconds(int64_t n, int r) {
  // A pushed job may carry any retry count; past a few thousand retries the
  // delay exceeds any job's life anyway, so larger counts saturate (50,000^4
  // still fits in 64 bits).
  n = std::clamp<int64_t>(n, 0, 50'000);
  return n * n * n * n + 15 + int64_t(r) * (n + 1);
}

FailRecord DecideFailure(const Job& job, UnixNanos now, FailCause cause, std::string errtype,
                         std::string message, std::vector<std::string> backtrace,
                         int random_0_29) {
  FailRecord rec;
  rec.jid = std::string(job.jid());
  rec.cause = cause;
  rec.errtype = std::move(errtype);
  rec.message = std::move(message);
  rec.backtrace = std::move(backtrace);
  const int64_t retry = job.retry();
  const int64_t retry_count =
      job.failure ? std::min<int64_t>(job.failure->retry_count, INT64_MAX - 1) + 1 : 0;
  if (retry == 0) {
    rec.outcome = FailOutcome::kDiscard;
  } else if (retry < 0 || retry_count >= retry) {
    rec.outcome = FailOutcome::kDead;
  } else {
    rec.outcome = FailOutcome::kRetry;
    rec.retry_at = AddNanos(now, SecondsToNanos(RetryDelaySeconds(retry_count, random_0_29)));
  }
  return rec;
}

}  // namespace werk::core
