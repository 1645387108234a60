#include "core/mutation.h"

#include "core/byte_codec.h"

namespace werk::core {

Mutation Mutation::Push(UnixNanos t, JobSpec job) {
  return {t, MutationType::kPush, PushRecord{std::move(job)}};
}
Mutation Mutation::Reserve(UnixNanos t, std::string jid, std::string wid, UnixNanos expires_at) {
  return {t, MutationType::kReserve, ReserveRecord{std::move(jid), std::move(wid), expires_at}};
}
Mutation Mutation::Ack(UnixNanos t, std::string jid) {
  return {t, MutationType::kAck, AckRecord{std::move(jid)}};
}
Mutation Mutation::Fail(UnixNanos t, FailRecord r) {
  return {t, MutationType::kFail, std::move(r)};
}
Mutation Mutation::EnqueueDue(UnixNanos t, std::vector<std::string> jids) {
  return {t, MutationType::kEnqueueDue, EnqueueDueRecord{std::move(jids)}};
}
Mutation Mutation::PurgeDead(UnixNanos t, std::vector<std::string> jids) {
  return {t, MutationType::kPurgeDead, PurgeDeadRecord{std::move(jids)}};
}
Mutation Mutation::MutateSet(UnixNanos t, MutateSetRecord r) {
  return {t, MutationType::kMutateSet, std::move(r)};
}
Mutation Mutation::Queue(UnixNanos t, MutationType type, QueueRecord r) {
  return {t, type, std::move(r)};
}
Mutation Mutation::Flush(UnixNanos t) { return {t, MutationType::kFlush, FlushRecord{}}; }
Mutation Mutation::SetWorkerState(UnixNanos t, std::string wid, WorkerState s) {
  return {t, MutationType::kWorkerState, WorkerStateRecord{std::move(wid), s}};
}
Mutation Mutation::ForgetWorker(UnixNanos t, std::string wid) {
  return {t, MutationType::kWorkerForget, WorkerForgetRecord{std::move(wid)}};
}

Mutation Mutation::Global(UnixNanos t, GlobalOpRecord r) {
  return {t, MutationType::kGlobalOp, std::move(r)};
}

Mutation Mutation::NewEpoch(UnixNanos t, EpochRecord r) {
  return {t, MutationType::kEpoch, std::move(r)};
}
Mutation Mutation::Replication(UnixNanos t, ReplicationRecord r) {
  return {t, MutationType::kReplication, r};
}
Mutation Mutation::CronPush(UnixNanos t, CronPushRecord r) {
  return {t, MutationType::kCronPush, std::move(r)};
}

std::string_view MutationTypeName(MutationType t) {
  switch (t) {
    case MutationType::kPush: return "push";
    case MutationType::kReserve: return "reserve";
    case MutationType::kAck: return "ack";
    case MutationType::kFail: return "fail";
    case MutationType::kEnqueueDue: return "enqueue-due";
    case MutationType::kPurgeDead: return "purge-dead";
    case MutationType::kMutateSet: return "mutate";
    case MutationType::kQueuePause: return "queue-pause";
    case MutationType::kQueueResume: return "queue-resume";
    case MutationType::kQueueRemove: return "queue-remove";
    case MutationType::kFlush: return "flush";
    case MutationType::kWorkerState: return "worker-state";
    case MutationType::kWorkerForget: return "worker-forget";
    case MutationType::kQueueDeclare: return "queue-declare";
    case MutationType::kGlobalOp: return "global";
    case MutationType::kEpoch: return "epoch";
    case MutationType::kReplication: return "replication";
    case MutationType::kCronPush: return "cron-push";
  }
  return "unknown";
}

namespace {

void WriteStrings(ByteWriter& w, const std::vector<std::string>& v) {
  w.U64(v.size());
  for (const auto& s : v) w.Bytes(s);
}

bool ReadStrings(ByteReader& r, std::vector<std::string>* v) {
  const uint64_t n = r.Count();
  v->clear();
  v->reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) v->emplace_back(r.Bytes());
  return r.ok();
}

void WriteFailure(ByteWriter& w, const Failure& f) {
  w.I64(f.retry_count);
  w.I64(f.remaining);
  w.Bytes(f.failed_at);
  w.Bytes(f.next_at);
  w.Bytes(f.message);
  w.Bytes(f.errtype);
  WriteStrings(w, f.backtrace);
}

void ReadFailure(ByteReader& r, Failure* f) {
  f->retry_count = r.I64();
  f->remaining = r.I64();
  f->failed_at = r.Bytes();
  f->next_at = r.Bytes();
  f->message = r.Bytes();
  f->errtype = r.Bytes();
  ReadStrings(r, &f->backtrace);
}

}  // namespace

void WriteJobSpec(ByteWriter& w, const JobSpec& j) {
  w.Bytes(j.jid);
  w.Bytes(j.jobtype);
  w.Bytes(j.queue);
  w.Bytes(j.args_json);
  w.Bytes(j.custom_json);
  w.Bytes(j.created_at);
  w.Bytes(j.at);
  w.I64(j.at_ns);
  w.I64(j.retry);
  w.I64(j.reserve_for);
  w.I64(j.backtrace);
  w.U8(j.failure ? 1 : 0);
  if (j.failure) WriteFailure(w, *j.failure);
}

bool ReadJobSpec(ByteReader& r, JobSpec* j) {
  j->jid = r.Bytes();
  j->jobtype = r.Bytes();
  j->queue = r.Bytes();
  j->args_json = r.Bytes();
  j->custom_json = r.Bytes();
  j->created_at = r.Bytes();
  j->at = r.Bytes();
  j->at_ns = r.I64();
  j->retry = r.I64();
  j->reserve_for = r.I64();
  j->backtrace = r.I64();
  const uint8_t has_failure = r.U8();
  if (has_failure > 1) return false;
  if (has_failure == 1) {
    j->failure.emplace();
    ReadFailure(r, &*j->failure);
  }
  return r.ok();
}

void WriteJobFields(ByteWriter& w, const Job& job) {
  w.Bytes(job.jid());
  w.Bytes(job.jobtype());
  w.Bytes(job.queue_name());
  w.Bytes(job.args_json());
  w.Bytes(job.custom_json());
  w.Bytes(job.created_at());
  w.Bytes(job.at());
  w.I64(0);  // at_ns: the job's set key carries its time
  w.I64(job.retry());
  w.I64(job.reserve_for());
  w.I64(job.backtrace());
  w.U8(job.failure ? 1 : 0);
  if (job.failure) WriteFailure(w, *job.failure);
}

bool ReadJobView(ByteReader& r, JobView* v, std::optional<Failure>* failure) {
  v->jid = r.Bytes();
  v->jobtype = r.Bytes();
  v->queue = r.Bytes();
  v->args_json = r.Bytes();
  v->custom_json = r.Bytes();
  v->created_at = r.Bytes();
  v->at = r.Bytes();
  r.I64();  // at_ns
  v->retry = r.I64();
  v->reserve_for = r.I64();
  v->backtrace = r.I64();
  const uint8_t has_failure = r.U8();
  if (has_failure > 1) return false;
  failure->reset();
  if (has_failure == 1) {
    failure->emplace();
    ReadFailure(r, &**failure);
  }
  v->failure = *failure ? &**failure : nullptr;
  return r.ok();
}

namespace {

template <typename E>
bool InRange(uint8_t v, E lo, E hi) {
  return v >= uint8_t(lo) && v <= uint8_t(hi);
}

}  // namespace

void EncodeMutation(const Mutation& m, std::string& out) {
  ByteWriter w(out);
  w.U8(uint8_t(m.type));
  const bool epoch_id =
      m.type == MutationType::kEpoch && std::get<EpochRecord>(m.body).id != 0;
  w.U8(epoch_id ? kEpochRecordIdVersion : kMutationFormatVersion);
  w.I64(m.time);
  switch (m.type) {
    case MutationType::kPush:
      WriteJobSpec(w, std::get<PushRecord>(m.body).job);
      break;
    case MutationType::kReserve: {
      const auto& r = std::get<ReserveRecord>(m.body);
      w.Bytes(r.jid);
      w.Bytes(r.wid);
      w.I64(r.expires_at);
      break;
    }
    case MutationType::kAck:
      w.Bytes(std::get<AckRecord>(m.body).jid);
      break;
    case MutationType::kFail: {
      const auto& r = std::get<FailRecord>(m.body);
      w.Bytes(r.jid);
      w.U8(uint8_t(r.cause));
      w.U8(uint8_t(r.outcome));
      w.Bytes(r.errtype);
      w.Bytes(r.message);
      WriteStrings(w, r.backtrace);
      w.I64(r.retry_at);
      break;
    }
    case MutationType::kEnqueueDue:
      WriteStrings(w, std::get<EnqueueDueRecord>(m.body).jids);
      break;
    case MutationType::kPurgeDead:
      WriteStrings(w, std::get<PurgeDeadRecord>(m.body).jids);
      break;
    case MutationType::kMutateSet: {
      const auto& r = std::get<MutateSetRecord>(m.body);
      w.U8(uint8_t(r.cmd));
      w.U8(uint8_t(r.target));
      w.U8(r.filter ? 1 : 0);
      if (r.filter) {
        WriteStrings(w, r.filter->jids);
        w.Bytes(r.filter->regexp);
        w.Bytes(r.filter->jobtype);
      }
      break;
    }
    case MutationType::kQueuePause:
    case MutationType::kQueueResume:
    case MutationType::kQueueRemove:
    case MutationType::kQueueDeclare: {
      const auto& r = std::get<QueueRecord>(m.body);
      w.U8(r.all ? 1 : 0);
      WriteStrings(w, r.names);
      break;
    }
    case MutationType::kFlush:
      break;
    case MutationType::kWorkerState: {
      const auto& r = std::get<WorkerStateRecord>(m.body);
      w.Bytes(r.wid);
      w.U8(uint8_t(r.state));
      break;
    }
    case MutationType::kWorkerForget:
      w.Bytes(std::get<WorkerForgetRecord>(m.body).wid);
      break;
    case MutationType::kGlobalOp: {
      const auto& r = std::get<GlobalOpRecord>(m.body);
      w.U64(r.origin);
      w.U64(r.id);
      WriteStrings(w, r.steps);
      break;
    }
    case MutationType::kEpoch: {
      const auto& r = std::get<EpochRecord>(m.body);
      w.U64(r.epoch);
      w.U64(r.first_lsn);
      w.Bytes(r.node);
      if (r.id != 0) w.U64(r.id);  // version 2 (above)
      break;
    }
    case MutationType::kReplication: {
      const auto& r = std::get<ReplicationRecord>(m.body);
      w.U8(r.alone ? 1 : 0);
      w.U64(r.lsn);
      break;
    }
    case MutationType::kCronPush: {
      const auto& r = std::get<CronPushRecord>(m.body);
      w.U64(r.entry);
      w.I64(r.tick);
      WriteJobSpec(w, r.job);
      break;
    }
  }
}

std::string EncodeMutation(const Mutation& m) {
  std::string out;
  EncodeMutation(m, out);
  return out;
}

std::optional<Mutation> DecodeMutation(std::string_view bytes) {
  ByteReader r(bytes);
  Mutation m;
  const uint8_t type = r.U8();
  const uint8_t version = r.U8();
  m.time = r.I64();
  if (!r.ok()) return std::nullopt;
  if (version != kMutationFormatVersion &&
      !(version == kEpochRecordIdVersion && type == uint8_t(MutationType::kEpoch)))
    return std::nullopt;
  if (!InRange(type, MutationType::kPush, MutationType::kCronPush)) return std::nullopt;
  m.type = MutationType(type);
  switch (m.type) {
    case MutationType::kPush: {
      PushRecord p;
      if (!ReadJobSpec(r, &p.job)) return std::nullopt;
      m.body = std::move(p);
      break;
    }
    case MutationType::kReserve: {
      ReserveRecord p;
      p.jid = r.Bytes();
      p.wid = r.Bytes();
      p.expires_at = r.I64();
      m.body = std::move(p);
      break;
    }
    case MutationType::kAck:
      m.body = AckRecord{std::string(r.Bytes())};
      break;
    case MutationType::kFail: {
      FailRecord p;
      p.jid = r.Bytes();
      const uint8_t cause = r.U8();
      const uint8_t outcome = r.U8();
      if (!InRange(cause, FailCause::kFail, FailCause::kReservationExpired) ||
          !InRange(outcome, FailOutcome::kRetry, FailOutcome::kDiscard))
        return std::nullopt;
      p.cause = FailCause(cause);
      p.outcome = FailOutcome(outcome);
      p.errtype = r.Bytes();
      p.message = r.Bytes();
      ReadStrings(r, &p.backtrace);
      p.retry_at = r.I64();
      m.body = std::move(p);
      break;
    }
    case MutationType::kEnqueueDue: {
      EnqueueDueRecord p;
      ReadStrings(r, &p.jids);
      m.body = std::move(p);
      break;
    }
    case MutationType::kPurgeDead: {
      PurgeDeadRecord p;
      ReadStrings(r, &p.jids);
      m.body = std::move(p);
      break;
    }
    case MutationType::kMutateSet: {
      MutateSetRecord p;
      const uint8_t cmd = r.U8();
      const uint8_t target = r.U8();
      const uint8_t has_filter = r.U8();
      if (!InRange(cmd, MutateCmd::kClear, MutateCmd::kRequeue) ||
          !InRange(target, SetTarget::kRetries, SetTarget::kDead) || has_filter > 1)
        return std::nullopt;
      p.cmd = MutateCmd(cmd);
      p.target = SetTarget(target);
      if (has_filter) {
        p.filter.emplace();
        ReadStrings(r, &p.filter->jids);
        p.filter->regexp = r.Bytes();
        p.filter->jobtype = r.Bytes();
      }
      m.body = std::move(p);
      break;
    }
    case MutationType::kQueuePause:
    case MutationType::kQueueResume:
    case MutationType::kQueueRemove:
    case MutationType::kQueueDeclare: {
      QueueRecord p;
      const uint8_t all = r.U8();
      if (all > 1) return std::nullopt;
      p.all = all == 1;
      ReadStrings(r, &p.names);
      m.body = std::move(p);
      break;
    }
    case MutationType::kFlush:
      m.body = FlushRecord{};
      break;
    case MutationType::kWorkerState: {
      WorkerStateRecord p;
      p.wid = r.Bytes();
      const uint8_t s = r.U8();
      if (s > uint8_t(WorkerState::kTerminate)) return std::nullopt;
      p.state = WorkerState(s);
      m.body = std::move(p);
      break;
    }
    case MutationType::kWorkerForget:
      m.body = WorkerForgetRecord{std::string(r.Bytes())};
      break;
    case MutationType::kGlobalOp: {
      GlobalOpRecord g;
      const uint64_t origin = r.U64();
      g.id = r.U64();
      if (!r.ok() || origin >= (uint64_t(1) << 32) || g.id == 0) return std::nullopt;
      g.origin = uint32_t(origin);
      if (!ReadStrings(r, &g.steps)) return std::nullopt;
      // Each step is a whole, valid, non-global mutation.
      for (const auto& step : g.steps) {
        auto inner = DecodeMutation(step);
        if (!inner || inner->type == MutationType::kGlobalOp) return std::nullopt;
      }
      m.body = std::move(g);
      break;
    }
    case MutationType::kEpoch: {
      EpochRecord e;
      e.epoch = r.U64();
      e.first_lsn = r.U64();
      e.node = r.Bytes();
      if (version == kEpochRecordIdVersion) {
        e.id = r.U64();
        if (e.id == 0) return std::nullopt;  // version 1 says "no id"
      }
      if (!r.ok() || e.epoch == 0 || e.first_lsn == 0) return std::nullopt;
      m.body = std::move(e);
      break;
    }
    case MutationType::kReplication: {
      ReplicationRecord p;
      const uint8_t alone = r.U8();
      p.lsn = r.U64();
      if (!r.ok() || alone > 1) return std::nullopt;
      p.alone = alone == 1;
      m.body = p;
      break;
    }
    case MutationType::kCronPush: {
      CronPushRecord p;
      p.entry = r.U64();
      p.tick = r.I64();
      if (!ReadJobSpec(r, &p.job) || p.entry == 0) return std::nullopt;
      m.body = std::move(p);
      break;
    }
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return m;
}

}  // namespace werk::core
