#include "core/global_ops.h"

#include <absl/container/btree_map.h>

namespace werk::core {

RollForwardPlan PlanRollForward(const std::vector<const StateMachine*>& shards, UnixNanos now) {
  RollForwardPlan plan;
  plan.per_shard.resize(shards.size());
  // The newest operation of each origin that any shard applied.
  absl::btree_map<uint32_t, const GlobalOpRecord*> newest;
  for (const StateMachine* sm : shards) {
    for (const auto& [origin, rec] : sm->last_global_ops()) {
      auto [it, inserted] = newest.try_emplace(origin, &rec);
      if (!inserted && rec.id > it->second->id) it->second = &rec;
    }
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    const auto& mine = shards[i]->last_global_ops();
    for (const auto& [origin, rec] : newest) {
      auto it = mine.find(origin);
      const uint64_t have = it == mine.end() ? 0 : it->second.id;
      if (have >= rec->id) continue;
      if (have + 1 < rec->id) {
        plan.notes.push_back("shard " + std::to_string(i) + " is " +
                             std::to_string(rec->id - have) +
                             " global operations behind shard " + std::to_string(origin) +
                             "; only the last can be completed");
      }
      plan.per_shard[i].push_back(Mutation::Global(now, *rec));
    }
  }
  return plan;
}

}  // namespace werk::core
