#include "core/fetcher.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/check.h"

namespace werk::core {

// One queue a parked fetch waits on; sits on that queue's waiter list.
struct FetchWaitNode : ListHook<FetcherWaitTag> {
  FetchState* fetch = nullptr;
  std::string queue;
};

// One FETCH under way. Armed on the deadline wheel while parked.
struct FetchState : TimerHook {
  FetchWaiter* waiter = nullptr;  // null once cancelled
  std::vector<std::string> queues;
  std::string wid;
  int64_t deadline_ms = 0;
  bool parked = false;
  std::vector<std::unique_ptr<FetchWaitNode>> nodes;  // while parked
  uint32_t calls_out = 0;  // calls to other shards not back yet
  // The attempt under way: queues before `limit` are worth a call elsewhere.
  size_t limit = 0;
  uint32_t cursor = 0;  // TryOthersInTurn: the next shard (offset from here)
  size_t best = 0;      // Peek: the best queue seen, and where
  uint32_t best_shard = 0;
  bool peeked = false;
};

Fetcher::Fetcher(ShardRuntime* runtime, Partition* partition)
    : runtime_(runtime), partition_(partition), deadlines_(runtime->mono_ms()) {}

Fetcher::~Fetcher() {
  // The shard stops at outstanding() == 0 unless it is destroyed without
  // running; whatever is left (parked, with or without queues) goes now.
  // Its waiters are gone with the shard: they are not touched.
  for (FetchState* f : states_) {
    for (auto& node : f->nodes) waiters_[node->queue].Remove(node.get());
    deadlines_.Cancel(f);
    delete f;
  }
}

void Fetcher::Free(FetchState* f) {
  states_.erase(f);
  --live_;
  delete f;
}

bool Fetcher::parked(const FetchWaiter* waiter) const {
  return waiter->fetch_ && waiter->fetch_->parked;
}

FetcherStats Fetcher::stats() const { return {parked_, remote_fetches_, raced_}; }

void Fetcher::Start(FetchWaiter* waiter, std::vector<std::string> queues, const std::string& wid,
                     int64_t deadline_ms) {
  WERK_CHECK(waiter->fetch_ == nullptr);
  // The usual case, answered without keeping any state: the job is here and
  // no other shard can have a better one (first queue, or alone). Paused
  // queues never have a job that FirstReady() reports.
  if (partition_->writable()) {
    const size_t here = partition_->FirstReady(queues);
    if (here < queues.size() && (here == 0 || peers_.size() <= 1))
      return waiter->OnFetched(partition_->ReserveFront(queues[here], wid));
  }
  auto* f = new FetchState;
  states_.insert(f);
  ++live_;
  f->waiter = waiter;
  waiter->fetch_ = f;
  // Paused queues are dropped from this request (reference §2.3); a pause
  // is global, so this shard's view is everyone's.
  for (std::string& q : queues) {
    const Queue* queue = partition_->state().FindQueue(q);
    if (queue && queue->paused()) continue;
    if (std::find(f->queues.begin(), f->queues.end(), q) == f->queues.end())
      f->queues.push_back(std::move(q));
  }
  f->wid = wid;
  f->deadline_ms = deadline_ms;
  Attempt(f);
}

void Fetcher::Cancel(FetchWaiter* waiter) {
  FetchState* f = waiter->fetch_;
  if (!f) return;
  waiter->fetch_ = nullptr;
  f->waiter = nullptr;
  if (f->parked) Unpark(f);
  if (f->calls_out == 0) Free(f);
}

void Fetcher::Attempt(FetchState* f) {
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return Finish(f, s);
  const size_t here = partition_->FirstReady(f->queues);
  if (here == 0 || peers_.size() <= 1) return TakeHereOrPark(f);
  f->limit = here;
  f->peeked = false;
  if (here == 1) {
    // One queue is worth looking for elsewhere: any shard's job in it will
    // do, so the shards are asked in turn for it alone.
    f->cursor = 1;
    return TryOthersInTurn(f);
  }
  Peek(f);
}

void Fetcher::TryOthersInTurn(FetchState* f) {
  const uint32_t n = uint32_t(peers_.size());
  while (f->cursor < n) {
    const uint32_t target = (runtime_->id() + f->cursor++) % n;
    if (peers_[target]->queued_hint() == 0) continue;
    return ReserveAt(f, target, f->limit);
  }
  TakeHereOrPark(f);
}

void Fetcher::Peek(FetchState* f) {
  f->peeked = true;
  f->best = f->limit;
  f->best_shard = runtime_->id();
  const uint32_t n = uint32_t(peers_.size());
  for (uint32_t offset = 1; offset < n; ++offset) {
    const uint32_t target = (runtime_->id() + offset) % n;
    if (peers_[target]->queued_hint() == 0) continue;
    ++f->calls_out;
    runtime_->Call(
        target,
        [peer = peers_[target], queues = f->queues, limit = f->limit] {
          return peer->partition_->FirstReady(queues, limit);
        },
        [this, f, target](size_t best, bool abandoned) {
          if (!Returned(f)) return;
          // The nearest shard wins a tie: answers come in any order.
          if (!abandoned && best < f->best) {
            f->best = best;
            f->best_shard = target;
          }
          if (f->calls_out > 0) return;
          if (f->best_shard == runtime_->id()) return TakeHereOrPark(f);
          ReserveAt(f, f->best_shard, f->best + 1);
        },
        [](size_t) { return false; });  // a look logs nothing: nothing to hold
  }
  if (f->calls_out == 0) TakeHereOrPark(f);
}

void Fetcher::ReserveAt(FetchState* f, uint32_t target, size_t limit) {
  ++f->calls_out;
  runtime_->Call(
      target,
      [peer = peers_[target], queues = f->queues, wid = f->wid, limit] {
        return peer->partition_->Reserve(queues, wid, limit);
      },
      [this, f](FetchResult result, bool abandoned) {
        if (!Returned(f)) {
          // The job stays reserved to nobody; its reservation expires as usual.
          if (!abandoned && result.ok() && *result)
            spdlog::debug("a cancelled FETCH's job stays reserved until it expires");
          return;
        }
        OnRemoteReserve(f, std::move(result), abandoned);
      });
}

void Fetcher::OnRemoteReserve(FetchState* f, FetchResult result, bool abandoned) {
  if (!abandoned && result.ok() && *result) {
    ++remote_fetches_;
    return Finish(f, std::move(result));
  }
  // Nothing there (taken meanwhile, or that shard cannot reserve): go on.
  if (!f->peeked) return TryOthersInTurn(f);
  ++raced_;
  TakeHereOrPark(f);
}

bool Fetcher::Returned(FetchState* f) {
  WERK_CHECK(f->calls_out > 0);
  --f->calls_out;
  if (f->waiter) return true;
  if (f->calls_out == 0) Free(f);
  return false;
}

void Fetcher::TakeHereOrPark(FetchState* f) {
  FetchResult result = partition_->Reserve(f->queues, f->wid);
  if (!result.ok() || *result) return Finish(f, std::move(result));
  if (runtime_->mono_ms() >= f->deadline_ms) return Finish(f, std::nullopt);
  Park(f);
}

void Fetcher::Finish(FetchState* f, FetchResult result) {
  WERK_CHECK(f->calls_out == 0 && f->waiter);
  if (f->parked) Unpark(f);
  FetchWaiter* waiter = f->waiter;
  waiter->fetch_ = nullptr;
  Free(f);
  waiter->OnFetched(std::move(result));
}

void Fetcher::Park(FetchState* f) {
  WERK_CHECK(!f->parked);
  f->parked = true;
  ++parked_;
  for (const std::string& q : f->queues) {
    auto node = std::make_unique<FetchWaitNode>();
    node->fetch = f;
    node->queue = q;
    WaitList& list = waiters_[q];
    if (list.empty()) AnnounceInterest(q, true);
    list.PushBack(node.get());
    f->nodes.push_back(std::move(node));
  }
  deadlines_.Arm(f, std::max(f->deadline_ms, runtime_->mono_ms()));
}

void Fetcher::Unpark(FetchState* f) {
  WERK_CHECK(f->parked);
  for (auto& node : f->nodes) {
    auto it = waiters_.find(node->queue);
    it->second.Remove(node.get());
    if (it->second.empty()) {
      AnnounceInterest(node->queue, false);
      waiters_.erase(it);
    }
  }
  f->nodes.clear();
  f->parked = false;
  --parked_;
  deadlines_.Cancel(f);
}

void Fetcher::FireDeadlines(int64_t mono_ms) {
  TimerHook* fired[64];
  while (true) {
    const size_t n = deadlines_.Advance(mono_ms, fired, 64);
    for (size_t i = 0; i < n; ++i) Finish(static_cast<FetchState*>(fired[i]), std::nullopt);
    if (n < 64) break;
  }
}

void Fetcher::Wake(const std::string& queue, size_t jobs) {
  for (size_t i = 0; i < jobs; ++i) {
    auto it = waiters_.find(queue);
    if (it == waiters_.end()) return;
    FetchState* f = it->second.Front()->fetch;
    Unpark(f);
    Attempt(f);
  }
}

void Fetcher::ServeReady() {
  while (true) {
    ready_scratch_.clear();
    partition_->state().TakeReadyQueues(ready_scratch_);
    if (ready_scratch_.empty()) break;
    for (const std::string& name : ready_scratch_) {
      const Queue* q = partition_->state().FindQueue(name);
      if (q && !q->empty() && !q->paused()) Wake(name, q->size());
      // Jobs left over: other shards' fetchers may take them.
      if (remote_interest_.empty()) continue;
      auto ri = remote_interest_.find(name);
      q = partition_->state().FindQueue(name);
      if (ri == remote_interest_.end() || !q || q->empty() || q->paused()) continue;
      for (uint32_t s = 0; s < peers_.size(); ++s)
        if (ri->second & (uint64_t(1) << s)) NotifyReady(name, s, q->size());
    }
  }
  if (peers_.size() > 1)
    queued_hint_.store(partition_->state().queued_total(), std::memory_order_relaxed);
}

void Fetcher::AnnounceInterest(const std::string& queue, bool interested) {
  if (peers_.size() <= 1) return;
  const uint32_t from = runtime_->id();
  for (uint32_t s = 0; s < peers_.size(); ++s) {
    if (s == from) continue;
    runtime_->Post(s, [peer = peers_[s], queue, from, interested] {
      peer->OnInterest(queue, from, interested);
    });
  }
}

void Fetcher::OnInterest(const std::string& queue, uint32_t shard, bool interested) {
  if (interested) {
    remote_interest_[queue] |= uint64_t(1) << shard;
    // Jobs already waiting here: say so at once (closes the race with the
    // interested shard's last look).
    const Queue* q = partition_->state().FindQueue(queue);
    if (q && !q->empty() && !q->paused()) NotifyReady(queue, shard, q->size());
  } else {
    auto it = remote_interest_.find(queue);
    if (it == remote_interest_.end()) return;
    it->second &= ~(uint64_t(1) << shard);
    if (it->second == 0) remote_interest_.erase(it);
  }
}

void Fetcher::NotifyReady(const std::string& queue, uint32_t shard, size_t jobs) {
  // The hint first: the woken fetcher looks at it (the mailbox orders the
  // store before the message's delivery).
  queued_hint_.store(partition_->state().queued_total(), std::memory_order_relaxed);
  runtime_->Post(shard, [peer = peers_[shard], queue, jobs] { peer->OnReadyElsewhere(queue, jobs); });
}

void Fetcher::OnReadyElsewhere(const std::string& queue, size_t jobs) { Wake(queue, jobs); }

}  // namespace werk::core
