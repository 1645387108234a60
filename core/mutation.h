#pragma once
// Mutations: the records that change shard state (design §3 "State
// machine"). Every transition a client or a timer causes is one Mutation; the
// state machine changes only by applying them, the WAL stores their encoded
// bytes, and replay and the standby apply the same bytes. A Mutation carries
// the time it was made at; Apply never reads a clock. Random choices (retry
// back-off) are made before the record is built and travel inside it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/job.h"
#include "core/types.h"

namespace werk::core {

// On-disk values: never renumber.
enum class MutationType : uint8_t {
  kPush = 1,
  kReserve = 2,
  kAck = 3,
  kFail = 4,
  kEnqueueDue = 5,
  kPurgeDead = 6,
  kMutateSet = 7,
  kQueuePause = 8,
  kQueueResume = 9,
  kQueueRemove = 10,
  kFlush = 11,
  kWorkerState = 12,
  kWorkerForget = 13,
  kQueueDeclare = 14,
  kGlobalOp = 15,
  kEpoch = 16,
  kReplication = 17,
  kCronPush = 18,
};

struct PushRecord {
  JobSpec job;
  bool operator==(const PushRecord&) const = default;
};

// FETCH: the job leaves its queue and is reserved until `expires_at`.
struct ReserveRecord {
  std::string jid;
  std::string wid;
  UnixNanos expires_at = 0;
  bool operator==(const ReserveRecord&) const = default;
};

struct AckRecord {
  std::string jid;
  bool operator==(const AckRecord&) const = default;
};

enum class FailOutcome : uint8_t { kRetry = 1, kDead = 2, kDiscard = 3 };
enum class FailCause : uint8_t { kFail = 1, kReservationExpired = 2 };

// FAIL, or a reservation that expired: the retry policy's decision is made by
// the caller (it needs randomness) and recorded here.
struct FailRecord {
  std::string jid;
  FailCause cause = FailCause::kFail;
  FailOutcome outcome = FailOutcome::kRetry;
  std::string errtype;
  std::string message;
  std::vector<std::string> backtrace;
  UnixNanos retry_at = 0;  // for kRetry
  bool operator==(const FailRecord&) const = default;
};

// Scheduled or retry jobs whose time has come move to their queues.
struct EnqueueDueRecord {
  std::vector<std::string> jids;
  bool operator==(const EnqueueDueRecord&) const = default;
};

// Dead jobs past their 180 days are deleted.
struct PurgeDeadRecord {
  std::vector<std::string> jids;
  bool operator==(const PurgeDeadRecord&) const = default;
};

enum class SetTarget : uint8_t { kRetries = 1, kScheduled = 2, kDead = 3 };
enum class MutateCmd : uint8_t { kClear = 1, kKill = 2, kDiscard = 3, kRequeue = 4 };

struct MutateFilter {
  std::vector<std::string> jids;
  std::string regexp;  // a glob, as Redis SCAN MATCH takes it
  std::string jobtype;
  bool operator==(const MutateFilter&) const = default;
};

struct MutateSetRecord {
  MutateCmd cmd = MutateCmd::kClear;
  SetTarget target = SetTarget::kRetries;
  std::optional<MutateFilter> filter;
  bool operator==(const MutateSetRecord&) const = default;
};

// QUEUE PAUSE/RESUME/REMOVE; `all` is the `*` form, expanded when applied.
// QUEUE DECLARE makes the named queues known (empty) where they are not yet:
// with several shards, a pause must reach every shard's partition of a queue,
// even one that holds no job there yet.
struct QueueRecord {
  std::vector<std::string> names;
  bool all = false;
  bool operator==(const QueueRecord&) const = default;
};

struct FlushRecord {
  bool operator==(const FlushRecord&) const = default;
};

enum class WorkerState : uint8_t { kRunning = 0, kQuiet = 1, kTerminate = 2 };

struct WorkerStateRecord {
  std::string wid;
  WorkerState state = WorkerState::kRunning;
  bool operator==(const WorkerStateRecord&) const = default;
};

struct WorkerForgetRecord {
  std::string wid;
  bool operator==(const WorkerForgetRecord&) const = default;
};

// A command that acts on every shard (FLUSH, MUTATE, QUEUE PAUSE/RESUME/
// REMOVE) as logged on each: the shard it came from, its number there (each
// shard numbers its own, one in flight at a time), and the mutations it
// applies, encoded. A shard remembers the last one it applied from each
// origin, so after a crash that left one applied on some shards only, the
// others can be brought level (core/global_ops.h).
struct GlobalOpRecord {
  uint32_t origin = 0;
  uint64_t id = 0;
  std::vector<std::string> steps;  // encoded Mutations, none of them global
  bool operator==(const GlobalOpRecord&) const = default;
};

// A primary begins writing this shard's log: a promotion (a new epoch
// number) or a start of a primary with a standby port (the same number, a
// new run). Logged once per shard as the first record the run writes. Apply
// knows no LSNs, so the record names its own (docs/replication.md "Epochs").
// `id` is drawn at random when the run begins: two runs that took the same
// number (a primary restarted while its standby was promoted) are told
// apart by it. 0 only in logs written before ids existed.
struct EpochRecord {
  uint64_t epoch = 0;
  uint64_t first_lsn = 0;
  std::string node;  // the new primary's replication address
  uint64_t id = 0;
  bool operator==(const EpochRecord&) const = default;
};

// The primary's replication changed: `alone` — from `lsn` on, writes are
// acknowledged with no standby (the degrade policy's timeout); not alone —
// a standby has every record up to `lsn` again.
struct ReplicationRecord {
  bool alone = false;
  uint64_t lsn = 0;
  bool operator==(const ReplicationRecord&) const = default;
};

// Cron (cron/): the push of entry `entry`'s tick at `tick` (unix seconds)
// and the fact that it fired, in one record (invariant I5). The job's jid is
// derived from (entry, tick), so the record lands on the shard owning it.
struct CronPushRecord {
  uint64_t entry = 0;  // never 0
  int64_t tick = 0;
  JobSpec job;
  bool operator==(const CronPushRecord&) const = default;
};

struct Mutation {
  UnixNanos time = 0;
  MutationType type = MutationType::kFlush;
  std::variant<PushRecord, ReserveRecord, AckRecord, FailRecord, EnqueueDueRecord,
               PurgeDeadRecord, MutateSetRecord, QueueRecord, FlushRecord, WorkerStateRecord,
               WorkerForgetRecord, GlobalOpRecord, EpochRecord, ReplicationRecord,
               CronPushRecord>
      body;
  bool operator==(const Mutation&) const = default;

  static Mutation Push(UnixNanos t, JobSpec job);
  static Mutation Reserve(UnixNanos t, std::string jid, std::string wid, UnixNanos expires_at);
  static Mutation Ack(UnixNanos t, std::string jid);
  static Mutation Fail(UnixNanos t, FailRecord r);
  static Mutation EnqueueDue(UnixNanos t, std::vector<std::string> jids);
  static Mutation PurgeDead(UnixNanos t, std::vector<std::string> jids);
  static Mutation MutateSet(UnixNanos t, MutateSetRecord r);
  static Mutation Queue(UnixNanos t, MutationType type, QueueRecord r);
  static Mutation Flush(UnixNanos t);
  static Mutation SetWorkerState(UnixNanos t, std::string wid, WorkerState s);
  static Mutation ForgetWorker(UnixNanos t, std::string wid);
  static Mutation Global(UnixNanos t, GlobalOpRecord r);
  static Mutation NewEpoch(UnixNanos t, EpochRecord r);
  static Mutation Replication(UnixNanos t, ReplicationRecord r);
  static Mutation CronPush(UnixNanos t, CronPushRecord r);
};

// Binary form: [type u8][version u8][time zigzag-varint][fields...].
constexpr uint8_t kMutationFormatVersion = 1;
// An epoch record with its run's id (EpochRecord::id) is version 2; one
// without (logs from before ids) stays version 1. No other record has a
// version 2.
constexpr uint8_t kEpochRecordIdVersion = 2;
void EncodeMutation(const Mutation& m, std::string& out);
std::string EncodeMutation(const Mutation& m);
// Returns nullopt for anything malformed, truncated, of an unknown type or
// version, or with trailing bytes.
std::optional<Mutation> DecodeMutation(std::string_view bytes);

std::string_view MutationTypeName(MutationType t);

class ByteWriter;
class ByteReader;
// A job spec's binary form, shared by push records and checkpoint items.
void WriteJobSpec(ByteWriter& w, const JobSpec& j);
bool ReadJobSpec(ByteReader& r, JobSpec* j);
// The same bytes, written from a stored job / read as views (no copies;
// `failure` is filled only if the job has one). Checkpoints use these.
void WriteJobFields(ByteWriter& w, const Job& job);
bool ReadJobView(ByteReader& r, JobView* v, std::optional<Failure>* failure);

}  // namespace werk::core
