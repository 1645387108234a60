#pragma once
// The items a checkpoint is made of (docs/wal-format.md "Checkpoints"): the
// whole live state of a state machine, as a sequence of self-contained
// records. StateMachine::Snapshot emits them; StateMachine::RestoreItem
// rebuilds an empty state machine from them, in the same order.

#include <cstdint>
#include <functional>
#include <string_view>

namespace werk::core {

// On-disk values (they share the frame-type space with wal/log_format.h).
enum class SnapshotItemType : uint16_t {
  kJob = 101,       // a job with its full state
  kQueue = 102,     // a queue: name, paused
  kCounters = 103,  // processed/failures totals and daily history
  kWorker = 104,    // a worker's quiet/terminate state
  kGlobalOp = 105,  // the last global operation applied from one origin shard
};

using SnapshotSink = std::function<void(SnapshotItemType, std::string_view body)>;

}  // namespace werk::core
