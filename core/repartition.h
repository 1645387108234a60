#pragma once
// Re-partitioning: the state of M shards redistributed over N when the shard
// count changes between restarts. Each job goes to the shard that owns its
// jid and each worker state to the one that owns its wid (core/ownership.h);
// every queue is known on every new shard, paused if it was paused on any
// old one; counters and daily history are summed on new shard 0 (INFO sums
// over shards, so totals are unchanged).
//
// Within a queue, jobs keep their order per old shard; jobs that met in one
// new partition from different old ones follow old shard order (the same
// bound as across partitions, docs/threading.md). Sequence numbers are
// renumbered per new shard.

#include <cstdint>
#include <memory>
#include <vector>

#include "core/state_machine.h"

namespace werk::core {

// False (and `out` unspecified) only if an old state emitted an item the new
// one could not take, which would be a bug.
bool Repartition(const std::vector<const StateMachine*>& from, uint32_t to, int64_t now_ms,
                 std::vector<std::unique_ptr<StateMachine>>* out);

}  // namespace werk::core
