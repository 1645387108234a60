// StateMachine::Snapshot and RestoreItem: the state as checkpoint items
// (the items themselves are emitted by core/snapshot_session.cc).

#include "core/snapshot.h"

#include <algorithm>

#include "core/byte_codec.h"
#include "core/mutation.h"
#include "core/snapshot_session.h"
#include "core/state_machine.h"

namespace werk::core {

std::unique_ptr<SnapshotSession> StateMachine::BeginSnapshot(SnapshotSink sink) const {
  if (snap_) snap_->Abort();  // S6: one session at a time
  // A new number, so no mark of an earlier session counts (0 is never one).
  if (++snap_gen_ == 0) ++snap_gen_;
  std::unique_ptr<SnapshotSession> s(new SnapshotSession(*this, snap_gen_, std::move(sink)));
  snap_ = s.get();
  return s;
}

void StateMachine::Snapshot(const SnapshotSink& sink) const {
  auto session = BeginSnapshot(sink);
  while (session->Step(size_t(1) << 20) == SnapshotSession::Status::kRunning) {
  }
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
    case SnapshotItemType::kEpochs: {
      EpochHistory h;
      const uint64_t n = r.Count();
      std::vector<EpochStart> entries;
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        EpochStart e;
        e.epoch = Epoch(r.U64());
        e.first_lsn = Lsn(r.U64());
        e.node = r.Bytes();
        entries.push_back(std::move(e));
      }
      const uint8_t alone = r.U8();
      const uint64_t since = r.U64();
      if (!r.at_end())  // the runs' ids (absent in checkpoints from before them)
        for (EpochStart& e : entries) e.id = r.U64();
      if (!r.ok() || !r.at_end() || alone > 1) return false;
      for (EpochStart& e : entries)
        if (!h.Begin(std::move(e)).ok()) return false;
      if (alone) h.SetAloneSince(Lsn(since));
      // LSNs are a log's: a re-partitioned state starts new logs, and its
      // history (of the old logs) no longer applies.
      if (!renumber) epochs_ = std::move(h);
      return true;
    }
    case SnapshotItemType::kCronFired: {
      // Merged (the latest tick wins): re-partitioning restores every old
      // shard's item into each new one.
      const uint64_t n = r.Count();
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        const uint64_t entry = r.U64();
        const int64_t tick = r.I64();
        if (entry == 0) return false;
        auto [it, fresh] = cron_fired_.try_emplace(entry, tick);
        if (!fresh) it->second = std::max(it->second, tick);
      }
      return r.ok() && r.at_end();
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
