#include "core/snapshot_session.h"

#include <utility>

#include "core/byte_codec.h"
#include "core/check.h"
#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {

std::unique_ptr<SnapshotSession> SnapshotSource::BeginSnapshot(SnapshotSink) const {
  return nullptr;
}

SnapshotSession::SnapshotSession(const StateMachine& sm, uint32_t gen, SnapshotSink sink)
    : sm_(&sm), gen_(gen), sink_(std::move(sink)) {
  {
    ByteWriter w(buf_);
    w.U64(sm.next_seq_);
    w.I64(sm.processed_);
    w.I64(sm.failures_);
    w.U64(sm.history_.size());
    for (const auto& [day, c] : sm.history_) {
      w.I64(day);
      w.I64(c.processed);
      w.I64(c.failures);
    }
    w.U64(sm.next_queue_pos_);  // format version 2
    sink_(SnapshotItemType::kCounters, buf_);
  }
  for (const auto& [wid, state] : sm.worker_states_) {
    buf_.clear();
    ByteWriter w(buf_);
    w.Bytes(wid);
    w.U8(uint8_t(state));
    sink_(SnapshotItemType::kWorker, buf_);
  }
  for (const auto& [origin, g] : sm.last_global_ops_) {
    buf_.clear();
    EncodeMutation(Mutation::Global(0, g), buf_);
    sink_(SnapshotItemType::kGlobalOp, buf_);
  }
  if (!sm.epochs_.entries().empty() || sm.epochs_.alone_since()) {
    buf_.clear();
    ByteWriter w(buf_);
    w.U64(sm.epochs_.entries().size());
    for (const EpochStart& e : sm.epochs_.entries()) {
      w.U64(e.epoch.value());
      w.U64(e.first_lsn.value());
      w.Bytes(e.node);
    }
    w.U8(sm.epochs_.alone_since() ? 1 : 0);
    w.U64(sm.epochs_.alone_since() ? sm.epochs_.alone_since()->value() : 0);
    // The runs' ids follow, one per entry, when any has one (a checkpoint
    // of a log from before ids ends above, as it always did).
    bool ids = false;
    for (const EpochStart& e : sm.epochs_.entries()) ids |= e.id != 0;
    if (ids)
      for (const EpochStart& e : sm.epochs_.entries()) w.U64(e.id);
    sink_(SnapshotItemType::kEpochs, buf_);
  }
  if (!sm.cron_fired_.empty()) {
    buf_.clear();
    ByteWriter w(buf_);
    w.U64(sm.cron_fired_.size());
    for (const auto& [entry, tick] : sm.cron_fired_) {
      w.U64(entry);
      w.I64(tick);
    }
    sink_(SnapshotItemType::kCronFired, buf_);
  }
  start_queue_pos_ = sm.next_queue_pos_;
  queues_ = sm.SortedQueues();
  for (const Queue* q : queues_) {
    buf_.clear();
    ByteWriter w(buf_);
    w.Bytes(q->name());
    w.U8(q->paused() ? 1 : 0);
    sink_(SnapshotItemType::kQueue, buf_);
  }
}

SnapshotSession::~SnapshotSession() {
  if (status_ == Status::kRunning) Finish(Status::kAborted);
}

void SnapshotSession::Finish(Status s) {
  WERK_DCHECK(status_ == Status::kRunning);
  status_ = s;
  cursor_ = nullptr;
  queues_.clear();
  if (sm_->snap_ == this) sm_->snap_ = nullptr;
}

void SnapshotSession::Emit(const Job& job) {
  WERK_DCHECK(job.snap_gen != gen_);
  job.snap_gen = gen_;
  ++emitted_;
  buf_.clear();
  ByteWriter w(buf_);
  WriteJobFields(w, job);
  w.U64(job.seq());  // ties in the sets break by seq: restore it exactly
  w.U8(uint8_t(job.state));
  w.I64(job.set_key);  // a set's time, or a queue position
  w.I64(job.enqueued_at);
  w.U8(job.reservation ? 1 : 0);
  if (job.reservation) {
    w.Bytes(job.reservation->wid);
    w.I64(job.reservation->reserved_at);
    w.I64(job.reservation->expires_at);
  }
  sink_(SnapshotItemType::kJob, buf_);
}

SnapshotSession::Status SnapshotSession::Step(size_t max_jobs) {
  if (status_ != Status::kRunning) return status_;
  size_t budget = std::max<size_t>(max_jobs, 1);
  while (budget > 0) {
    switch (phase_) {
      case Phase::kQueues:
        if (WalkQueues(budget)) phase_ = Phase::kSets;
        break;
      case Phase::kSets:
        if (WalkSets(budget)) phase_ = Phase::kReserved;
        break;
      case Phase::kReserved:
        if (WalkReserved(budget)) phase_ = Phase::kDone;
        break;
      case Phase::kDone:
        Finish(Status::kDone);
        return status_;
    }
  }
  return status_;
}

// Each captured queue front to back, up to the first job enqueued since the
// start (so a busy queue cannot keep the walk going). Jobs of the start
// touched meanwhile are covered and passed over.
bool SnapshotSession::WalkQueues(size_t& budget) {
  while (queue_i_ < queues_.size()) {
    const Queue* q = queues_[queue_i_];
    if (!started_) {
      started_ = true;
      cursor_ = q->Front();
    }
    for (; cursor_ && budget > 0; --budget) {
      const Job* j = cursor_;
      // Enqueued since the start (positions are FIFO order): the rest is too.
      if (uint64_t(j->set_key) >= start_queue_pos_) {
        cursor_ = nullptr;
        break;
      }
      cursor_ = q->Next(j);
      if (j->snap_gen != gen_) Emit(*j);
    }
    if (cursor_) return false;
    started_ = false;
    ++queue_i_;
  }
  return true;
}

// Each set in order, resumed by position: whatever left a set was touched
// first, whatever entered it since is covered.
bool SnapshotSession::WalkSets(size_t& budget) {
  static constexpr SetTarget kSets[] = {SetTarget::kScheduled, SetTarget::kRetries,
                                        SetTarget::kDead};
  while (set_i_ < 3) {
    const JobSet& set = sm_->Set(kSets[set_i_]);
    auto it = started_ ? set.lower_bound(set_pos_) : set.begin();
    started_ = true;
    for (; it != set.end() && budget > 0; ++it, --budget)
      if ((*it)->snap_gen != gen_) Emit(**it);
    if (it != set.end()) {
      set_pos_ = SetPosition::Of(*it);
      return false;
    }
    started_ = false;
    ++set_i_;
  }
  return true;
}

bool SnapshotSession::WalkReserved(size_t& budget) {
  const auto& list = sm_->reserved_list_;
  if (!started_) {
    started_ = true;
    cursor_ = list.Front();
  }
  for (; cursor_ && budget > 0; --budget) {
    const Job* j = cursor_;
    cursor_ = list.Next(j);
    if (j->snap_gen != gen_) Emit(*j);
  }
  return cursor_ == nullptr;
}

}  // namespace werk::core
