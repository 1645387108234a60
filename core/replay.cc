#include "core/replay.h"

#include <limits>

#include <absl/strings/str_cat.h>

#include "core/epoch_history.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

// What a status from StateMachine::Apply (a code only) means.
std::string_view DescribeApplyError(const OpStatus& s) {
  switch (s.code()) {
    case absl::StatusCode::kNotFound: return "a job it names is not where the record expects it";
    case absl::StatusCode::kAlreadyExists: return "the job or operation is already there";
    case absl::StatusCode::kInvalidArgument: return "malformed";
    case absl::StatusCode::kFailedPrecondition:
      return "an epoch that does not follow the epochs before it";
    default: return "an unexpected outcome";
  }
}

}  // namespace

std::string DescribeMutation(const Mutation& m) {
  std::string s(MutationTypeName(m.type));
  s += " t=" + FormatRfc3339Nano(m.time);
  switch (m.type) {
    case MutationType::kPush: {
      const auto& j = std::get<PushRecord>(m.body).job;
      s += " jid=" + j.jid + " queue=" + j.queue + " jobtype=" + j.jobtype +
           " bytes=" + std::to_string(j.args_json.size());
      if (j.at_ns) s += " at=" + j.at;
      break;
    }
    case MutationType::kCronPush: {
      const auto& r = std::get<CronPushRecord>(m.body);
      s += " entry=" + absl::StrCat(absl::Hex(r.entry, absl::kZeroPad16)) +
           " tick=" + FormatRfc3339Nano(SecondsToNanos(r.tick)) + " jid=" + r.job.jid +
           " queue=" + r.job.queue + " jobtype=" + r.job.jobtype;
      break;
    }
    case MutationType::kReserve: {
      const auto& r = std::get<ReserveRecord>(m.body);
      s += " jid=" + r.jid + " wid=" + r.wid + " until=" + FormatRfc3339Nano(r.expires_at);
      break;
    }
    case MutationType::kAck:
      s += " jid=" + std::get<AckRecord>(m.body).jid;
      break;
    case MutationType::kFail: {
      const auto& r = std::get<FailRecord>(m.body);
      static const char* kOutcome[] = {"?", "retry", "dead", "discard"};
      s += " jid=" + r.jid + " outcome=" + kOutcome[int(r.outcome)] +
           (r.cause == FailCause::kReservationExpired ? " (reservation expired)" : "") +
           " errtype=" + r.errtype;
      break;
    }
    case MutationType::kEnqueueDue:
      s += " jobs=" + std::to_string(std::get<EnqueueDueRecord>(m.body).jids.size());
      break;
    case MutationType::kPurgeDead:
      s += " jobs=" + std::to_string(std::get<PurgeDeadRecord>(m.body).jids.size());
      break;
    case MutationType::kQueuePause:
    case MutationType::kQueueResume:
    case MutationType::kQueueRemove:
    case MutationType::kQueueDeclare: {
      const auto& r = std::get<QueueRecord>(m.body);
      if (r.all) s += " *";
      for (const auto& n : r.names) s += " " + n;
      break;
    }
    case MutationType::kWorkerState:
      s += " wid=" + std::get<WorkerStateRecord>(m.body).wid;
      break;
    case MutationType::kWorkerForget:
      s += " wid=" + std::get<WorkerForgetRecord>(m.body).wid;
      break;
    case MutationType::kGlobalOp: {
      const auto& r = std::get<GlobalOpRecord>(m.body);
      s += " origin=" + std::to_string(r.origin) + " id=" + std::to_string(r.id) + " [";
      for (size_t i = 0; i < r.steps.size(); ++i) {
        auto inner = DecodeMutation(r.steps[i]);
        if (i) s += "; ";
        s += inner ? DescribeMutation(*inner) : std::string("<undecodable>");
      }
      s += "]";
      break;
    }
    case MutationType::kEpoch: {
      const auto& r = std::get<EpochRecord>(m.body);
      s += " epoch=" + std::to_string(r.epoch) + " from LSN " + std::to_string(r.first_lsn) +
           " node=" + r.node;
      if (r.id != 0) s += " run=" + EpochRunName(r.id);
      break;
    }
    case MutationType::kReplication: {
      const auto& r = std::get<ReplicationRecord>(m.body);
      s += r.alone ? " alone from LSN " + std::to_string(r.lsn)
                   : " standby has LSN " + std::to_string(r.lsn);
      break;
    }
    case MutationType::kMutateSet: {
      const auto& r = std::get<MutateSetRecord>(m.body);
      static const char* kCmd[] = {"?", "clear", "kill", "discard", "requeue"};
      static const char* kTarget[] = {"?", "retries", "scheduled", "dead"};
      s += std::string(" ") + kCmd[int(r.cmd)] + " " + kTarget[int(r.target)];
      if (r.filter) {
        s += " jids=" + std::to_string(r.filter->jids.size());
        if (!r.filter->regexp.empty()) s += " regexp=" + r.filter->regexp;
        if (!r.filter->jobtype.empty()) s += " jobtype=" + r.filter->jobtype;
      }
      break;
    }
    default:
      break;
  }
  // Names are client bytes: bounded, and nothing unprintable reaches a log.
  constexpr size_t kDescriptionBytesMax = 400;
  if (s.size() > kDescriptionBytesMax) s = s.substr(0, kDescriptionBytesMax) + "…";
  for (char& c : s)
    if (uint8_t(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

absl::Status CheckRecordPlace(std::string_view body, Lsn lsn, Epoch epoch) {
  if (body.empty() || uint8_t(body[0]) != uint8_t(MutationType::kEpoch)) return absl::OkStatus();
  auto m = DecodeMutation(body);
  if (!m) return absl::OkStatus();  // the replay refuses it, naming it
  const auto& r = std::get<EpochRecord>(m->body);
  if (r.first_lsn == lsn.value() && r.epoch == epoch.value()) return absl::OkStatus();
  return absl::DataLossError("an epoch record at LSN " + std::to_string(lsn.value()) +
                             " of epoch " + std::to_string(epoch.value()) + " names LSN " +
                             std::to_string(r.first_lsn) + " of epoch " +
                             std::to_string(r.epoch));
}

OpStatus ApplyReplicatedRecord(StateMachine& sm, Journal& journal, std::string_view body) {
  auto m = DecodeMutation(body);
  if (!m) return absl::DataLossError("the record's body does not decode as a mutation");
  const OpStatus status = sm.Apply(*m);
  if (!status.ok() && !(absl::IsAlreadyExists(status) && m->type == MutationType::kGlobalOp))
    return absl::FailedPreconditionError(DescribeMutation(*m) + ": does not apply to the state (" +
                                         std::string(DescribeApplyError(status)) + ")");
  journal.Append(body);
  return OkStatus();
}

absl::Status ReplayRecord(StateMachine& sm, std::string_view body) {
  auto m = DecodeMutation(body);
  if (!m) return absl::DataLossError("the record's body does not decode as a mutation");
  const OpStatus status = sm.Apply(*m);
  // Nothing is served while a log replays: free what a FLUSH or QUEUE
  // REMOVE removed at once.
  if (sm.has_garbage()) sm.Reclaim(std::numeric_limits<size_t>::max());
  // A global operation a roll-forward already applied is not applied twice.
  if (status.ok() || (absl::IsAlreadyExists(status) && m->type == MutationType::kGlobalOp))
    return absl::OkStatus();
  return absl::FailedPreconditionError(DescribeMutation(*m) + ": does not apply to the state (" +
                                       std::string(DescribeApplyError(status)) + ")");
}

}  // namespace werk::core
