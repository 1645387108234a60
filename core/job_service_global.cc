// Global operations (core/job_service.h): FLUSH and QUEUE PAUSE, RESUME and
// REMOVE act on every shard. Each shard logs its part as one record, so it
// applies the operation entirely or not at all; a crash between shards is
// completed at the next start (core/global_ops.h). QUEUE LATENCY reads
// every shard.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/job_service.h"

namespace werk::core {

Pending<OpStatus> JobService::RunGlobal(std::function<Pending<OpStatus>()> start) {
  if (global_halted_) return LogFailed();
  if (peers_.size() <= 1) return start();
  if (!global_busy_) {
    global_busy_ = true;
    return FinishGlobal(start());
  }
  GlobalWaiter& w = global_waiting_.emplace_back();
  w.start = std::move(start);
  return w.done.pending();
}

Pending<OpStatus> JobService::FinishGlobal(Pending<OpStatus> result) {
  return Map<OpStatus>(std::move(result), [this](OpStatus status) {
    // The next operation of this origin starts once this one is durable
    // here too (the other shards answered only once durable), before the
    // iteration's commit, so its local part goes out at once.
    runtime_->Defer(
        [this] {
          global_busy_ = false;
          StartWaitingGlobal();
        },
        runtime_->journal().appended_lsn());
    return status;
  });
}

void JobService::StartWaitingGlobal() {
  while (!global_busy_ && !global_waiting_.empty()) {
    GlobalWaiter w = std::move(global_waiting_.front());
    global_waiting_.pop_front();
    if (global_halted_ || runtime_->log_failed()) {
      w.done.Set(LogFailed());
      continue;
    }
    global_busy_ = true;
    Pending<OpStatus> result = FinishGlobal(w.start());
    if (result.ready()) {
      w.done.Set(std::move(result.value()));
    } else {
      result.Then([done = std::move(w.done)](OpStatus s) mutable { done.Set(std::move(s)); });
    }
  }
}

void JobService::OnLogFailed() {
  global_halted_ = true;
  global_busy_ = false;
  StartWaitingGlobal();
}

Pending<OpStatus> JobService::CommitEverywhere(std::vector<Mutation> steps) {
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return s;
  if (peers_.size() <= 1) {
    // A step with nothing to do (e.g. resuming a queue that is not paused)
    // is refused by the state machine and not logged.
    for (const auto& m : steps) partition_->Commit(m);
    return OkStatus();
  }
  GlobalOpRecord rec;
  rec.origin = id();
  const auto& last = partition_->state().last_global_ops();
  auto it = last.find(id());
  rec.id = (it == last.end() ? 0 : it->second.id) + 1;
  for (const auto& m : steps) rec.steps.push_back(EncodeMutation(m));
  auto op = std::make_shared<const Mutation>(Mutation::Global(runtime_->now(), std::move(rec)));
  return Map<OpStatus>(
      OnShards<OpStatus>(AllShards(), [op](Partition& p, uint32_t) { return p.CommitGlobal(*op); }),
      [this](OpResult<std::vector<OpStatus>> results) -> OpStatus {
        // A shard whose part failed (its log failed) may lack this
        // operation; running another could leave it two behind, which a
        // restart could not complete. The group is stopping anyway: no more
        // from here.
        if (!results.ok()) {
          global_halted_ = true;
          return results.status();
        }
        for (const OpStatus& r : *results) {
          if (r.ok()) continue;
          global_halted_ = true;
          return r;
        }
        return OkStatus();
      });
}

Pending<OpStatus> JobService::Flush() {
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return s;
  spdlog::warn("FLUSH: deleting every job, queue and counter");
  // Each shard flushes its partition atomically; across shards the flush is
  // not one instant (a concurrent PUSH may land on either side of it).
  return RunGlobal([this] { return CommitEverywhere({Mutation::Flush(runtime_->now())}); });
}

Pending<OpStatus> JobService::QueueOp(MutationType type, QueueRecord rec) {
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return s;
  if (type != MutationType::kQueuePause || peers_.size() <= 1) {
    // RESUME and REMOVE act on every partition that exists; one that does
    // not exist has nothing to resume or remove.
    return RunGlobal([this, type, rec = std::move(rec)] {
      return CommitEverywhere({Mutation::Queue(runtime_->now(), type, rec)});
    });
  }
  // PAUSE with several shards: a queue exists if any shard knows it, and its
  // pause must hold on every shard, including one where the next job pushed
  // to it will create its partition. So: learn which queues exist anywhere,
  // then declare them everywhere and pause them.
  return RunGlobal([this, rec = std::move(rec)] {
    using Names = std::vector<std::string>;
    return Chain<OpStatus>(
        OnShards<Names>(AllShards(),
                        [rec](Partition& p, uint32_t) { return p.KnownQueues(rec.names, rec.all); }),
        [this](OpResult<std::vector<Names>> known) -> Pending<OpStatus> {
          if (!known.ok()) {
            global_halted_ = true;
            return known.status();
          }
          Names names;
          for (auto& v : *known) names.insert(names.end(), v.begin(), v.end());
          std::sort(names.begin(), names.end());
          names.erase(std::unique(names.begin(), names.end()), names.end());
          if (names.empty()) return OkStatus();
          QueueRecord named{std::move(names), false};
          return CommitEverywhere({Mutation::Queue(runtime_->now(), MutationType::kQueueDeclare, named),
                                   Mutation::Queue(runtime_->now(), MutationType::kQueuePause, named)});
        });
  });
}

Pending<OpResult<std::vector<UnixNanos>>> JobService::OldestEnqueued(std::vector<std::string> names) {
  // Each shard reports when the oldest job of each queue was enqueued there;
  // the oldest over all shards gives the latency.
  auto shared = std::make_shared<const std::vector<std::string>>(std::move(names));
  using Oldest = std::vector<UnixNanos>;  // per name; 0: none queued
  return Map<OpResult<Oldest>>(
      OnShards<Oldest>(AllShards(),
                       [shared](Partition& p, uint32_t) { return p.OldestEnqueued(*shared); }),
      [shared](OpResult<std::vector<Oldest>> parts) -> OpResult<Oldest> {
        if (!parts.ok()) return parts.status();
        Oldest out(shared->size(), 0);
        for (const Oldest& mine : *parts)
          for (size_t i = 0; i < out.size() && i < mine.size(); ++i)
            if (mine[i] != 0 && (out[i] == 0 || mine[i] < out[i])) out[i] = mine[i];
        return out;
      });
}

}  // namespace werk::core
