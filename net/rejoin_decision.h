#pragma once
// Whether a standby may drop the tail its primary does not have
// (docs/replication.md "Rejoin"). A former primary restarted with
// --replica-of hears DIVERGED F from its new primary: its records from F on
// were never replicated there. In required mode none of them was ever
// acknowledged to a client (a reply waited for the standby, which stopped
// before F), so they go. A server that acknowledged writes with no standby
// (the degrade policy's timeout, or a promotion, until a standby caught up)
// may have told clients about some of them: those are dropped only with
// --discard-diverged.
//
// "Alone at or after the fork" is read from what the log says: the state at
// the log's end (EpochHistory::alone_since: alone then, so alone for the
// tail's last record at least) and the `replication` records in the tail
// itself (an alone period began or ended there, so part of the tail was
// acknowledged alone). With neither, the whole tail was written in sync
// mode, and the new primary never acknowledged a record past F - 1 to this
// server. Conservative: a tail this server received as a standby of a
// primary that lost it may hold that primary's `replication` records, and
// is then refused like an acknowledged one.
//
// A cut the log cannot make (a checkpoint past the fork, the log before it
// released) means dropping the whole log and bootstrapping from the
// primary. The records from the fork to that checkpoint are then only in
// the checkpoint's state, which keeps no history of alone periods: whether
// one of them was acknowledged alone cannot be read, so this takes
// --discard-diverged too.
//
// Pure: no I/O, no clock.

#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"

namespace werk::net {

// One shard's diverged tail, as the log and the state show it.
struct DivergedTail {
  uint32_t shard = 0;
  core::Lsn fork{0};  // the primary's DIVERGED LSN: the first record to drop
  // What cutting the log after fork - 1 drops (a dry run of wal::TruncateAfter).
  uint64_t records = 0;
  core::Lsn first{0};
  core::Lsn last{0};
  // The state at the log's end: alone (acknowledging without a standby)
  // since this LSN.
  std::optional<core::Lsn> alone_since;
  // The first `replication` record among the dropped ones (its own LSN).
  std::optional<core::Lsn> replication_record;
  // Why the log cannot be cut after fork - 1 (empty: it can).
  std::string cut_refused;
  // It cannot because a checkpoint of its own lies past fork - 1 and the log
  // before it is gone: only a bootstrap from the primary's checkpoint
  // rejoins (net/bootstrap.h).
  bool needs_bootstrap = false;
};

struct RejoinDecision {
  bool discard = false;
  // Some dropped record may have been acknowledged to a client.
  bool possibly_acknowledged = false;
  // Discarding means the whole log: the shard starts empty and is
  // bootstrapped from the primary's checkpoint.
  bool bootstrap = false;
  // What to log (discard) or stop with (refuse), naming the shard, the
  // count and the LSN range.
  std::string message;
};

RejoinDecision DecideRejoin(const DivergedTail& tail, bool discard_diverged);

}  // namespace werk::net
