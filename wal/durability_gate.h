#pragma once
// What "durable" means to a shard whose log is replicated (design §3: a
// reply leaves only once its record is durable locally and, in sync mode,
// acknowledged by the standby).
//
// The gate is the shard's Journal: Append and Commit go to the log beneath
// it, and durable_lsn() is the LSN up to which a client may be told.
// Everything that releases a held result reads the journal's durable LSN
// (the shard's replies, results held for other shards, deferred calls, the
// INFO snapshot), so one seam gates them all. What must stay local reads the
// log itself: the checkpointer (a checkpoint is never ahead of the local
// log), the log's followers (the replication sender ships appended records),
// recovery's roll-forward at start (before any standby is attached).
//
// Modes:
//   kLocal   durable = the log's (no standby, or alone by policy)
//   kSync    durable = min(the log's, what the standby acknowledged)
// Fenced (a higher epoch exists): durable stops where it is, for good; the
// deposed primary acknowledges nothing more, whatever the standby says.
// Abandoned: what is held will never be released (the shard stops and the
// standby did not answer in time); failed() turns true, so the runtime
// hands everything held back abandoned and the connections are closed —
// their clients see an error, never a false +OK.
//
// durable_lsn() never goes down: entering kSync keeps what kLocal already
// released.
//
// Thread affinity: the shard's thread (acknowledgements arrive on its
// reactor).

#include <algorithm>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/journal.h"
#include "core/participant.h"

namespace werk::wal {

class DurabilityGate final : public core::Journal, public core::Participant {
 public:
  enum class Mode : uint8_t { kLocal, kSync };

  // `log`: the shard's local log; it outlives the gate. `stop_grace_ns`:
  // how long a stopping shard waits for the standby's acknowledgement of
  // what it holds before it abandons it.
  DurabilityGate(core::Journal* log, const core::Clock& clock, int64_t stop_grace_ns);

  core::Lsn Append(std::string_view record) override { return log_->Append(record); }
  void Commit() override { log_->Commit(); }
  core::Lsn appended_lsn() const override { return log_->appended_lsn(); }
  core::Lsn durable_lsn() const override;
  bool failed() const override { return log_->failed() || abandoned_; }
  // Only the local log's writes: a stopping shard must not wait for the
  // standby forever (see Abandon).
  bool commit_pending() const override { return log_->commit_pending(); }
  bool io_idle() const override { return log_->io_idle(); }

  bool writes_refused() const override { return writes_refused_; }
  // The shard refuses writes (required mode, the standby gone): see
  // core::Journal::writes_refused. What is held stays held.
  void set_writes_refused(bool refused) { writes_refused_ = refused; }

  Mode mode() const { return mode_; }
  // kSync: from now on nothing more is released until the standby has it.
  // kLocal: the log alone decides (the standby is gone and the policy says
  // continue alone, or none was ever configured). `local_from`: kLocal
  // takes effect only once the log is durable up to there — the record
  // that says the shard goes on alone — and until then the gate still
  // waits for the standby; since the log is made durable in order, no
  // write is acknowledged alone before that record is on disk.
  void SetMode(Mode mode, core::Lsn local_from = core::Lsn(0));
  // The standby has synced every record up to `lsn` (only ever grows).
  void SetAcked(core::Lsn lsn) { acked_ = std::max(acked_, lsn); }
  core::Lsn acked_lsn() const { return acked_; }
  // A higher epoch exists: nothing more is ever released.
  void Fence();
  bool fenced() const { return fenced_; }
  // What is held will never be released: failed() from now on.
  void Abandon(std::string why);
  bool abandoned() const { return abandoned_; }
  const std::string& abandon_reason() const { return abandon_reason_; }
  // Records the local log has but the standby has not acknowledged.
  uint64_t unacknowledged() const;

  // As a participant: a stopping shard gives the standby stop_grace_ns to
  // acknowledge what it holds, then abandons it.
  void OnStop() override;
  void OnTurn() override;
  int64_t WaitBudgetNs() override;

 private:
  core::Lsn Gated() const;
  // Something locally durable is held back (by the standby, or for good).
  bool Waiting() const {
    if (fenced_) return floor_ < log_->appended_lsn();
    return (mode_ == Mode::kSync || log_->durable_lsn() < local_from_) &&
           acked_ < log_->durable_lsn();
  }

  core::Journal* log_;
  const core::Clock& clock_;
  int64_t stop_grace_ns_;
  Mode mode_ = Mode::kLocal;
  core::Lsn local_from_{0};  // kLocal: the log alone decides from this durable LSN on
  core::Lsn acked_{0};
  // What was released before the last switch to kSync, or at the fence.
  core::Lsn floor_{0};
  bool fenced_ = false;
  bool writes_refused_ = false;
  bool abandoned_ = false;
  std::string abandon_reason_;
  int64_t stop_at_ns_ = -1;
};

}  // namespace werk::wal
