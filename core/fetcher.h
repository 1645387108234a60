#pragma once
// FETCH across a shard group (design §3 "Ownership"; Faktory's semantics in
// faktory-reference.md §2.3): strict priority by the order of the queues
// asked for, across every shard; a blocking wait up to a deadline; woken at
// once by a job arriving here or — through "ready" messages — on another
// shard. A job is always reserved by the shard that owns it (its
// Partition::Reserve, logged there), so no job is handed out twice.
//
// One attempt: this shard's best queue (the first of the list that has a
// job here) is known at once. If that is the first queue, or no other shard
// has anything queued, the job is reserved here. Otherwise the other shards
// with queued jobs are asked, all at once, for their best queue among the
// ones before it; the best answer (ties: the nearest shard) is reserved
// there. If that comes back empty (raced by another fetcher) the job here is
// taken, if any. With nothing anywhere the fetch parks on its queues until
// its deadline; a job arriving starts a new attempt.
//
// Cross-shard wake-ups: a shard with fetchers parked on queue Q announces
// its interest in Q to the others (when its first parks; withdrawn when its
// last leaves). A shard that gets a job on Q, after serving its own
// fetchers, tells each interested shard "Q ready", which starts an attempt
// for up to that many of its parked fetchers.
//
// Whoever asks implements FetchWaiter: its OnFetched() gets the answer
// exactly once — during Start() when it is known at once — unless the fetch
// was cancelled. An answer reserved on this shard depends on what this
// shard just logged (show it once the log is durable through its appended
// LSN); one from another shard is durable there already.
//
// Thread affinity: the shard's thread; peers only through the mailbox.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/node_hash_map.h>

#include "core/intrusive_list.h"
#include "core/op_status.h"
#include "core/partition.h"
#include "core/shard_runtime.h"
#include "core/string_hash.h"
#include "core/timer_wheel.h"

namespace werk::core {

class Fetcher;
struct FetchState;
struct FetcherWaitTag {};
struct FetchWaitNode;

// The job's JSON, nothing (the deadline passed), or why not (a standby, a
// failed log).
using FetchResult = OpResult<std::optional<std::string>>;

class FetchWaiter {
 public:
  virtual void OnFetched(FetchResult result) = 0;

 protected:
  ~FetchWaiter() = default;

 private:
  friend class Fetcher;
  FetchState* fetch_ = nullptr;  // the fetch under way, if any
};

// What the shard's loop reads of the fetcher (INFO and tests).
struct FetcherStats {
  uint64_t parked = 0;          // fetches parked now
  uint64_t remote_fetches = 0;  // jobs reserved on another shard, since start
  uint64_t raced = 0;           // a reservation elsewhere came back empty
};

class Fetcher {
 public:
  Fetcher(ShardRuntime* runtime, Partition* partition);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // The group's fetchers, in shard order (this one included).
  void JoinGroup(std::vector<Fetcher*> peers) { peers_ = std::move(peers); }

  // FETCH for `waiter` (not fetching already) on `queues` in priority order,
  // for worker `wid`, answering "no job" at `deadline_ms` (monotonic).
  // Paused queues and repeated names are dropped. With no queues it only
  // waits for the deadline (a quiet worker's FETCH).
  void Start(FetchWaiter* waiter, std::vector<std::string> queues, const std::string& wid,
             int64_t deadline_ms);
  // Forgets `waiter`'s fetch (its connection closes): no answer comes. A job
  // reserved elsewhere meanwhile stays reserved until its reservation ends.
  void Cancel(FetchWaiter* waiter);
  bool fetching(const FetchWaiter* waiter) const { return waiter->fetch_ != nullptr; }
  // Waiting for a job to arrive (not for another shard's answer).
  bool parked(const FetchWaiter* waiter) const;

  // The loop's turn: starts attempts for parked fetches whose queues got
  // jobs here, then tells interested shards about jobs left over.
  void ServeReady();
  // Answers "no job" to parked fetches whose deadline passed.
  void FireDeadlines(int64_t mono_ms);
  std::optional<int64_t> NextDeadlineMs() const { return deadlines_.NextEventTick(); }
  // Jobs queued on this shard as of its last turn (any thread).
  uint64_t queued_hint() const { return queued_hint_.load(std::memory_order_relaxed); }
  FetcherStats stats() const;
  // Fetches not finished or not yet freed (a cancelled one waits for its
  // calls to other shards to come back): the shard stops only at zero.
  uint64_t outstanding() const { return live_; }

 private:
  using WaitList = IntrusiveList<FetchWaitNode, FetcherWaitTag>;

  void Attempt(FetchState* f);
  // Asks the other shards one at a time (a single queue to look for).
  void TryOthersInTurn(FetchState* f);
  // Asks the other shards at once for their best queue.
  void Peek(FetchState* f);
  void ReserveAt(FetchState* f, uint32_t target, size_t limit);
  void OnRemoteReserve(FetchState* f, FetchResult result, bool abandoned);
  // Reserves here if a queue has a job, else parks (or answers "no job" past
  // the deadline).
  void TakeHereOrPark(FetchState* f);
  void Finish(FetchState* f, FetchResult result);
  void Free(FetchState* f);
  // A remote call of `f` came back: false if `f` was cancelled (and freed).
  bool Returned(FetchState* f);
  void Park(FetchState* f);
  void Unpark(FetchState* f);
  void AnnounceInterest(const std::string& queue, bool interested);
  void OnInterest(const std::string& queue, uint32_t shard, bool interested);
  void NotifyReady(const std::string& queue, uint32_t shard, size_t jobs);
  void OnReadyElsewhere(const std::string& queue, size_t jobs);
  // Starts an attempt for up to `jobs` fetches parked on `queue`.
  void Wake(const std::string& queue, size_t jobs);

  ShardRuntime* runtime_;
  Partition* partition_;
  std::vector<Fetcher*> peers_{this};
  TimerWheel deadlines_;  // monotonic ms
  absl::node_hash_map<std::string, WaitList, StringHash, StringEq> waiters_;
  // queue -> the shards with fetches parked on it (bit mask)
  absl::flat_hash_map<std::string, uint64_t, StringHash, StringEq> remote_interest_;
  std::atomic<uint64_t> queued_hint_{0};
  std::vector<std::string> ready_scratch_;
  uint64_t live_ = 0;
  // Every fetch state not freed yet (parked, waiting for another shard, or
  // cancelled with a call out): freed with the fetcher.
  absl::flat_hash_set<FetchState*> states_;
  uint64_t parked_ = 0;
  uint64_t remote_fetches_ = 0;
  uint64_t raced_ = 0;
};

}  // namespace werk::core
