#pragma once
// The items a checkpoint is made of (docs/wal-format.md "Checkpoints"): the
// whole live state of a state machine, as a sequence of self-contained
// records. StateMachine::Snapshot emits them; StateMachine::RestoreItem
// rebuilds an empty state machine from them, in the same order.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace werk::core {

// On-disk values (they share the frame-type space with wal/log_format.h).
enum class SnapshotItemType : uint16_t {
  kJob = 101,       // a job with its full state
  kQueue = 102,     // a queue: name, paused
  kCounters = 103,  // processed/failures totals and daily history
  kWorker = 104,    // a worker's quiet/terminate state
  kGlobalOp = 105,  // the last global operation applied from one origin shard
  kEpochs = 106,    // the epoch history and since when alone (only if any)
  kCronFired = 107,  // the latest tick fired of each cron entry (only if any)
};

using SnapshotSink = std::function<void(SnapshotItemType, std::string_view body)>;

class SnapshotSession;  // core/snapshot_session.h

// What a checkpoint is taken of (the state machine), as the checkpointer
// sees it: a source of items, opaque otherwise.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Emits the whole live state, in an order RestoreItem accepts.
  virtual void Snapshot(const SnapshotSink& sink) const = 0;
  // The same image in slices, as of now, while the state goes on changing
  // (core/snapshot_session.h); nullptr if the source can only do it in one
  // go. One session at a time: beginning one aborts the last.
  virtual std::unique_ptr<SnapshotSession> BeginSnapshot(SnapshotSink sink) const;
  // About how many bytes the items take (to size the buffer once).
  virtual size_t snapshot_bytes_hint() const = 0;
};

}  // namespace werk::core
