// FETCH: strict queue order, the local partitions first, then the other
// shards' (design §3 "Ownership"); blocking up to 2 s; woken at once by a job
// arriving on this shard or — through "ready" messages — on another.
//
// Cross-shard wake-ups: a shard with fetchers waiting on queue Q announces
// its interest in Q to the others (once, when its first waiter for Q
// appears; withdrawn when its last leaves). A shard that gets a job on Q,
// after serving its own waiters, tells each interested shard "Q ready",
// which then sends one of its waiters to fetch from it. A fetch is always a
// reservation made by the shard that owns the job, so no job can be
// delivered twice.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/job_json.h"
#include "core/limits.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

bool Shard::FetcherIsQuiet(const Connection* c) const {
  return c->worker_ && WorkerStateOf(c) != core::WorkerState::kRunning;
}

void Shard::CmdFetch(Connection* c, std::string_view rest) {
  // `rest` is everything after the verb: " q1 q2". Faktory splits on single
  // spaces, so doubled spaces make empty (never matching) queue names.
  c->fetch_deadline_ms_ = mono_ms() + core::kFetchBlockMillis;
  if (FetcherIsQuiet(c)) {
    // A quiet or terminating worker gets nothing, after the usual wait.
    c->fetch_queues_.clear();
    Park(c, {});
    return;
  }
  std::vector<std::string> queues;
  if (!rest.empty()) {
    size_t pos = 1;  // skip the separator after FETCH
    while (true) {
      const size_t sp = rest.find(' ', pos);
      queues.emplace_back(rest.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
      if (sp == std::string_view::npos) break;
      pos = sp + 1;
    }
  }
  if (queues.empty()) return ReplyError(c, "must call fetch with at least one queue");
  if (queues.size() > core::kFetchQueuesMax)
    return ReplyError(c, "FETCH takes at most " + std::to_string(core::kFetchQueuesMax) +
                             " queues");
  // Paused queues are dropped from this request (reference §2.3).
  std::vector<std::string> active;
  for (auto& q : queues) {
    const core::Queue* queue = partition_.state().FindQueue(q);
    if (queue && queue->paused()) continue;
    if (std::find(active.begin(), active.end(), q) == active.end()) active.push_back(std::move(q));
  }
  c->fetch_queues_ = std::move(active);
  if (TryFetch(c)) return;
  c->fetch_cursor_ = 1;
  ContinueFetch(c);
}

bool Shard::TryFetch(Connection* c) {
  core::OpResult<std::optional<std::string>> job = partition_.Reserve(c->fetch_queues_, c->wid_);
  if (!job.ok()) {
    ReplyStatus(c, job.status());  // a standby, or the log failed
    return true;
  }
  if (!*job) return false;
  ReplyBulk(c, **job);
  return true;
}

void Shard::FetchFrom(Connection* c, uint32_t target) {
  c->awaiting_remote_ = true;
  ++c->inflight_;
  Shard* owner = peers_[target];
  runtime_.Call(
      target,
      [owner, queues = c->fetch_queues_, wid = c->wid_] {
        return owner->partition_.Reserve(queues, wid);
      },
      [this, c](core::OpResult<std::optional<std::string>> job, bool abandoned) {
        // A reservation that will never be durable, or none made: nothing
        // from there.
        OnRemoteFetchDone(c, abandoned || !job.ok() ? std::nullopt : std::move(*job));
      });
}

// Tries the other shards in turn (those that have queued jobs at all), then
// parks until the deadline.
void Shard::ContinueFetch(Connection* c) {
  const uint32_t n = shard_count();
  while (n > 1 && c->fetch_cursor_ < n) {
    const uint32_t target = (id_ + c->fetch_cursor_++) % n;
    if (peers_[target]->queued_hint() == 0) continue;
    return FetchFrom(c, target);
  }
  if (mono_ms() >= c->fetch_deadline_ms_) {
    ReplyNull(c);
    return;
  }
  Park(c, c->fetch_queues_);
}

void Shard::OnRemoteFetchDone(Connection* c, std::optional<std::string> job_json) {
  --c->inflight_;
  c->awaiting_remote_ = false;
  if (c->closing_) {
    // The job stays reserved to nobody; its reservation expires as usual.
    if (job_json) spdlog::debug("connection {} closed during a cross-shard FETCH", c->id_);
    MaybeFinishClose(c);
    return;
  }
  if (job_json) {
    ReplyBulk(c, *job_json);
  } else if (!TryFetch(c)) {
    ContinueFetch(c);
    if (c->awaiting_remote_ || c->parked_) return;
  }
  ProcessInput(c);
}

void Shard::Park(Connection* c, const std::vector<std::string>& queues) {
  c->parked_ = true;
  for (const std::string& q : queues) {
    auto node = std::make_unique<WaitNode>();
    node->conn = c;
    node->queue = q;
    auto& list = waiters_[q];
    if (list.empty()) AnnounceInterest(q, true);
    list.PushBack(node.get());
    c->wait_nodes_.push_back(std::move(node));
  }
  c->deadline_.kind = ConnTimer::Kind::kFetch;
  conn_timers_.Cancel(&c->deadline_);
  conn_timers_.Arm(&c->deadline_, std::max(c->fetch_deadline_ms_, mono_ms()));
}

void Shard::Unpark(Connection* c) {
  for (auto& node : c->wait_nodes_) {
    auto it = waiters_.find(node->queue);
    it->second.Remove(node.get());
    if (it->second.empty()) {
      AnnounceInterest(node->queue, false);
      waiters_.erase(it);
    }
  }
  c->wait_nodes_.clear();
  c->parked_ = false;
  conn_timers_.Cancel(&c->deadline_);
}

void Shard::AnnounceInterest(const std::string& queue, bool interested) {
  if (shard_count() <= 1) return;
  for (uint32_t s = 0; s < shard_count(); ++s) {
    if (s == id_) continue;
    const uint32_t from = id_;
    Notify(s, [queue, from, interested](Shard& peer) {
      peer.OnInterest(queue, from, interested);
    });
  }
}

void Shard::OnInterest(const std::string& queue, uint32_t shard, bool interested) {
  uint64_t& mask = remote_interest_[queue];
  if (interested) {
    mask |= uint64_t(1) << shard;
    // Jobs already waiting here: say so at once (closes the race with the
    // interested shard's last look).
    const core::Queue* q = partition_.state().FindQueue(queue);
    if (q && !q->empty() && !q->paused()) NotifyReady(queue, shard, q->size());
  } else {
    mask &= ~(uint64_t(1) << shard);
    if (mask == 0) remote_interest_.erase(queue);
  }
}

void Shard::NotifyReady(const std::string& queue, uint32_t shard, size_t jobs) {
  const uint32_t from = id_;
  Notify(shard, [queue, from, jobs](Shard& peer) { peer.OnReadyElsewhere(queue, from, jobs); });
}

void Shard::OnReadyElsewhere(const std::string& queue, uint32_t shard, size_t jobs) {
  // Send up to `jobs` of our waiters on `queue` to fetch from `shard`.
  for (size_t i = 0; i < jobs; ++i) {
    auto it = waiters_.find(queue);
    if (it == waiters_.end()) return;
    Connection* c = it->second.Front()->conn;
    Unpark(c);
    // After this attempt, the rest of the shards in the usual order.
    c->fetch_cursor_ = shard_count();
    FetchFrom(c, shard);
  }
}

void Shard::ServeReadyQueues() {
  while (true) {
    ready_scratch_.clear();
    partition_.state().TakeReadyQueues(ready_scratch_);
    if (ready_scratch_.empty()) break;
    for (const std::string& name : ready_scratch_) {
      while (true) {
        auto it = waiters_.find(name);
        if (it == waiters_.end()) break;
        const core::Queue* q = partition_.state().FindQueue(name);
        if (!q || q->empty() || q->paused()) break;
        Connection* c = it->second.Front()->conn;
        Unpark(c);
        if (!TryFetch(c)) {
          Park(c, c->fetch_queues_);  // cannot happen while the queue has a job
          break;
        }
        ProcessInput(c);  // pipelined commands behind the FETCH
      }
      // Jobs left over: other shards' waiters may take them.
      if (!remote_interest_.empty()) {
        auto ri = remote_interest_.find(name);
        const core::Queue* q = partition_.state().FindQueue(name);
        if (ri != remote_interest_.end() && q && !q->empty() && !q->paused()) {
          for (uint32_t s = 0; s < shard_count(); ++s)
            if (ri->second & (uint64_t(1) << s)) NotifyReady(name, s, q->size());
        }
      }
    }
  }
  if (shard_count() > 1) queued_hint_.store(partition_.state().queued_total(), std::memory_order_relaxed);
}

}  // namespace werk::net
