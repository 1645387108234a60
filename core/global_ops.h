#pragma once
// Global operations after a crash. FLUSH, MUTATE and QUEUE PAUSE/RESUME/
// REMOVE act on every shard: the shard a client sent one to (its origin)
// numbers it, logs it on itself and has every other shard log it too, each
// as one record (a GlobalOpRecord), so each shard applies it entirely or not
// at all. A crash can leave it applied on some shards only. At restart,
// before any client is served, every shard that lacks it applies it: the
// operation is completed, never undone.
//
// An origin runs one global operation at a time and starts the next only
// once the previous is durable on every shard, its own included. So a shard
// lacks at most the last one of each origin, and the newest record any shard
// holds for an origin is the one to complete.

#include <string>
#include <vector>

#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {

struct RollForwardPlan {
  // For each shard, in shard order: the operations it must still apply
  // (Mutation::Global records, at most one per origin), stamped `now`.
  std::vector<std::vector<Mutation>> per_shard;
  // Anything unexpected (a shard more than one operation behind an origin).
  std::vector<std::string> notes;
};

RollForwardPlan PlanRollForward(const std::vector<const StateMachine*>& shards, UnixNanos now);

}  // namespace werk::core
