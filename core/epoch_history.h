#pragma once
// Which primary wrote which part of a shard's log (docs/replication.md
// "Epochs"): one entry per epoch record, in log order, each the epoch, the
// run's random id and the LSN of its record (the first LSN that run
// wrote). A promotion begins a new epoch number; every start of a primary
// with a standby port begins a new run of the number it has. Both log an
// epoch record on every shard, so the history is state like any other:
// applied from records, kept in checkpoints, replicated.
//
// What it answers: where another log stops being a prefix of this one
// (ForkOf, from that log's own history: a run either log has and the other
// has not marks where they part), and since when this server acknowledged
// writes with no standby (alone_since: such writes may be lost to a
// promotion, and a rejoin must not discard them silently).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/op_status.h"
#include "core/types.h"

namespace werk::core {

struct EpochStart {
  Epoch epoch{0};
  Lsn first_lsn{0};
  std::string node;  // the replication address of the primary that began it
  uint64_t id = 0;   // the run's (0: a log written before ids)
  bool operator==(const EpochStart&) const = default;
  // The same run of the same log: what the node wrote is not compared (a
  // history sent over the replication link leaves it out).
  bool SameRun(const EpochStart& o) const {
    return epoch == o.epoch && first_lsn == o.first_lsn && id == o.id;
  }
};

// A run's id as logs and the dump tool print it: 16 hex digits.
std::string EpochRunName(uint64_t id);

class EpochHistory {
 public:
  // A new run: of an epoch no lower than the last one's (of the same epoch
  // only with an id, another than the last run's), beginning after every
  // LSN before it; anything else does not apply to this history
  // (FailedPrecondition: the log is wrong). Epoch or LSN 0: InvalidArgument.
  OpStatus Begin(EpochStart start);
  // From `first_lsn` on, writes were acknowledged with no standby; nullopt:
  // a standby has everything again (attached and caught up).
  void SetAloneSince(std::optional<Lsn> first_lsn) { alone_since_ = first_lsn; }

  const std::vector<EpochStart>& entries() const { return entries_; }
  std::optional<Lsn> alone_since() const { return alone_since_; }
  // The epoch of the newest entry (Epoch(1) before any: a new log's).
  Epoch current() const { return entries_.empty() ? Epoch(1) : entries_.back().epoch; }
  // Where the first epoch after `epoch` began: a log that stopped in
  // `epoch` is a prefix of this one up to the LSN before it, and diverges
  // from it at that LSN if it goes on beyond. nullopt: none began after.
  // For a peer that sends no history (an older version).
  std::optional<Lsn> ForkAfter(Epoch epoch) const;
  // The first LSN at which a log with history `other` (oldest first; the
  // newest entries only if `other_truncated`) and last LSN `other_last`
  // holds a record this log does not have at that LSN, looking only at the
  // runs: nullopt if every record it has up to `other_last` was written by
  // a run this log shares, where this log has that run too (whether this
  // log reaches `other_last` is the caller's to check). Records of one run
  // at one LSN are the same on both logs, as a run writes each LSN once.
  // A truncated history whose oldest entry this one lacks answers its
  // first LSN (what came before cannot be compared).
  std::optional<Lsn> ForkOf(std::span<const EpochStart> other, bool other_truncated,
                            Lsn other_last) const;

  bool operator==(const EpochHistory&) const = default;

 private:
  std::vector<EpochStart> entries_;
  std::optional<Lsn> alone_since_;
};

}  // namespace werk::core
