// StateMachine::Snapshot and RestoreItem: the state as checkpoint items.

#include "core/snapshot.h"

#include <algorithm>

#include "core/byte_codec.h"
#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {

namespace {

void EmitJob(const Job& job, std::string& buf, const SnapshotSink& sink) {
  buf.clear();
  ByteWriter w(buf);
  WriteJobFields(w, job);
  w.U64(job.seq());  // ties in the sets break by seq: restore it exactly
  w.U8(uint8_t(job.state));
  w.I64(job.set_key);
  w.I64(job.enqueued_at);
  w.U8(job.reservation ? 1 : 0);
  if (job.reservation) {
    w.Bytes(job.reservation->wid);
    w.I64(job.reservation->reserved_at);
    w.I64(job.reservation->expires_at);
  }
  sink(SnapshotItemType::kJob, buf);
}

}  // namespace

void StateMachine::Snapshot(const SnapshotSink& sink) const {
  std::string buf;
  {
    ByteWriter w(buf);
    w.U64(next_seq_);
    w.I64(processed_);
    w.I64(failures_);
    w.U64(history_.size());
    for (const auto& [day, c] : history_) {
      w.I64(day);
      w.I64(c.processed);
      w.I64(c.failures);
    }
    w.U64(next_queue_pos_);  // version 2
    sink(SnapshotItemType::kCounters, buf);
  }
  for (const auto& [wid, state] : worker_states_) {
    buf.clear();
    ByteWriter w(buf);
    w.Bytes(wid);
    w.U8(uint8_t(state));
    sink(SnapshotItemType::kWorker, buf);
  }
  for (const auto& [origin, g] : last_global_ops_) {
    buf.clear();
    EncodeMutation(Mutation::Global(0, g), buf);
    sink(SnapshotItemType::kGlobalOp, buf);
  }
  const auto queues = SortedQueues();
  for (const Queue* q : queues) {
    buf.clear();
    ByteWriter w(buf);
    w.Bytes(q->name());
    w.U8(q->paused() ? 1 : 0);
    sink(SnapshotItemType::kQueue, buf);
  }
  for (const Queue* q : queues)
    for (const Job* j = q->Front(); j; j = q->Next(j)) EmitJob(*j, buf, sink);
  for (const JobSet* set : {&scheduled_, &retries_, &dead_})
    for (const Job* j : *set) EmitJob(*j, buf, sink);
  for (const Job* j = reserved_list_.Front(); j; j = reserved_list_.Next(j)) EmitJob(*j, buf, sink);
}

void StateMachine::AddCounters(const StateMachine& other) {
  processed_ += other.processed_;
  failures_ += other.failures_;
  for (const auto& [day, c] : other.history_) {
    DayCounts& mine = history_[day];
    mine.processed += c.processed;
    mine.failures += c.failures;
  }
}

bool StateMachine::RestoreItem(SnapshotItemType type, std::string_view body, bool renumber) {
  ByteReader r(body);
  switch (type) {
    case SnapshotItemType::kCounters: {
      next_seq_ = std::max(next_seq_, r.U64());
      processed_ = r.I64();
      failures_ = r.I64();
      const uint64_t n = r.Count();
      history_.clear();
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        const int64_t day = r.I64();
        DayCounts c;
        c.processed = r.I64();
        c.failures = r.I64();
        history_[day] = c;
      }
      // Version 2 ends with the next queue position; version 1 has none, and
      // its queued jobs are numbered in item order (their FIFO order).
      restore_v1_ = r.ok() && r.at_end();
      if (!restore_v1_) next_queue_pos_ = std::max(next_queue_pos_, r.U64());
      return r.ok() && r.at_end();
    }
    case SnapshotItemType::kWorker: {
      std::string wid(r.Bytes());
      const uint8_t s = r.U8();
      if (!r.ok() || !r.at_end() || s == 0 || s > uint8_t(WorkerState::kTerminate)) return false;
      worker_states_[wid] = WorkerState(s);
      return true;
    }
    case SnapshotItemType::kGlobalOp: {
      auto m = DecodeMutation(body);
      if (!m || m->type != MutationType::kGlobalOp) return false;
      auto& g = std::get<GlobalOpRecord>(m->body);
      last_global_ops_[g.origin] = std::move(g);
      return true;
    }
    case SnapshotItemType::kQueue: {
      std::string name(r.Bytes());
      const uint8_t paused = r.U8();
      if (!r.ok() || !r.at_end() || paused > 1) return false;
      GetOrCreateQueue(name).set_paused(paused == 1);
      return true;
    }
    case SnapshotItemType::kJob: {
      JobView spec;
      std::optional<Failure> failure;
      if (!ReadJobView(r, &spec, &failure)) return false;
      uint64_t seq = r.U64();
      if (renumber) seq = next_seq_;
      const uint8_t state = r.U8();
      const UnixNanos set_key = r.I64();
      const UnixNanos enqueued_at = r.I64();
      const uint8_t has_res = r.U8();
      Reservation res;
      if (has_res == 1) {
        res.wid = std::string(r.Bytes());
        res.reserved_at = r.I64();
        res.expires_at = r.I64();
      }
      if (!r.ok() || !r.at_end() || has_res > 1 || state < uint8_t(JobState::kQueued) ||
          state > uint8_t(JobState::kReserved) ||
          (has_res == 1) != (state == uint8_t(JobState::kReserved)) ||
          jobs_.contains(spec.jid))
        return false;
      Job* job = Job::Create(spec, seq).release();
      next_seq_ = std::max(next_seq_, seq + 1);
      jobs_.insert(job);
      job->enqueued_at = enqueued_at;
      job->set_key = set_key;
      switch (JobState(state)) {
        case JobState::kQueued: {
          Queue& q = GetOrCreateQueue(job->queue_name());
          // Repartition takes each old state's items in its FIFO order, one
          // old state after another: numbering them as they come sorts by
          // (old shard, position).
          if (renumber || restore_v1_) job->set_key = UnixNanos(next_queue_pos_);
          next_queue_pos_ = std::max(next_queue_pos_, uint64_t(job->set_key) + 1);
          const Job* back = q.Back();
          if (back && back->set_key > job->set_key) unsorted_.insert(&q);
          job->state = JobState::kQueued;
          job->queue = &q;
          q.PushBack(job);
          ++queued_count_;
          break;
        }
        case JobState::kScheduled:
        case JobState::kRetry:
        case JobState::kDead:
          AddToSet(job, JobState(state), set_key, set_key);
          break;
        case JobState::kReserved:
          job->state = JobState::kReserved;
          job->reservation = std::make_unique<Reservation>(std::move(res));
          reserved_list_.PushBack(job);
          Arm(job, job->reservation->expires_at);
          break;
      }
      return true;
    }
  }
  return false;
}

void StateMachine::FinishRestore() {
  std::vector<Job*> jobs;
  for (Queue* q : unsorted_) {
    jobs.clear();
    jobs.reserve(q->size());
    while (Job* j = q->PopFront()) jobs.push_back(j);
    // Positions are unique within a state, so the order is total.
    std::sort(jobs.begin(), jobs.end(),
              [](const Job* a, const Job* b) { return a->set_key < b->set_key; });
    for (Job* j : jobs) q->PushBack(j);
  }
  unsorted_.clear();
  restore_v1_ = false;
}

}  // namespace werk::core
