#pragma once
// Which epoch wrote which part of a shard's log (docs/replication.md
// "Epochs"): one entry per epoch record, in log order, each the epoch and
// the LSN of its record (the first LSN that epoch wrote). Every promotion
// logs a new epoch on every shard, so the history is state like any other:
// applied from records, kept in checkpoints, replicated.
//
// What it answers: where a former primary's log stops being a prefix of
// the new primary's (ForkAfter), and since when this server acknowledged
// writes with no standby (alone_since: such writes may be lost to a
// promotion, and a rejoin must not discard them silently).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/op_status.h"
#include "core/types.h"

namespace werk::core {

struct EpochStart {
  Epoch epoch{0};
  Lsn first_lsn{0};
  std::string node;  // the replication address of the primary that began it
  bool operator==(const EpochStart&) const = default;
};

class EpochHistory {
 public:
  // A new epoch: higher than every epoch before it, beginning after every
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
  std::optional<Lsn> ForkAfter(Epoch epoch) const;

  bool operator==(const EpochHistory&) const = default;

 private:
  std::vector<EpochStart> entries_;
  std::optional<Lsn> alone_since_;
};

}  // namespace werk::core
