#include "core/repartition.h"

#include "core/byte_codec.h"
#include "core/mutation.h"
#include "core/ownership.h"
#include "core/snapshot.h"

namespace werk::core {

bool Repartition(const std::vector<const StateMachine*>& from, uint32_t to, int64_t now_ms,
                 std::vector<std::unique_ptr<StateMachine>>* out) {
  out->clear();
  for (uint32_t i = 0; i < to; ++i) out->push_back(std::make_unique<StateMachine>(now_ms));
  bool ok = true;
  for (const StateMachine* old : from) {
    (*out)[0]->AddCounters(*old);
    old->Snapshot([&](SnapshotItemType type, std::string_view body) {
      if (!ok) return;
      ByteReader r(body);
      switch (type) {
        case SnapshotItemType::kCounters:
          break;  // summed above
        case SnapshotItemType::kGlobalOp:
          break;  // brought level before (core/global_ops.h); new shards start afresh
        case SnapshotItemType::kEpochs:
          break;  // LSNs of the old logs: the new ones start afresh (the epoch is kept)
        case SnapshotItemType::kCronFired:
          // Every new shard refuses every tick fired before (a tick's jid,
          // and so its shard, depends on the shard count).
          for (auto& sm : *out) ok = ok && sm->RestoreItem(type, body);
          break;
        case SnapshotItemType::kWorker: {
          const std::string_view wid = r.Bytes();
          ok = r.ok() && (*out)[ShardOf(wid, to)]->RestoreItem(type, body);
          break;
        }
        case SnapshotItemType::kQueue: {
          const std::string name(r.Bytes());
          const uint8_t paused = r.U8();
          if (!r.ok()) {
            ok = false;
            break;
          }
          // Declaring a queue, then pausing it, always applies.
          for (auto& sm : *out) {
            (void)sm->Apply(
                Mutation::Queue(0, MutationType::kQueueDeclare, QueueRecord{{name}, false}));
            if (paused)
              (void)sm->Apply(
                  Mutation::Queue(0, MutationType::kQueuePause, QueueRecord{{name}, false}));
          }
          break;
        }
        case SnapshotItemType::kJob: {
          JobView view;
          std::optional<Failure> failure;
          ok = ReadJobView(r, &view, &failure) &&
               (*out)[ShardOf(view.jid, to)]->RestoreItem(type, body, /*renumber=*/true);
          break;
        }
      }
    });
    if (!ok) return false;
  }
  for (auto& sm : *out) sm->FinishRestore();
  return true;
}

}  // namespace werk::core
