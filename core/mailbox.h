#pragma once
// Cross-shard messaging (design §3 "Process", style P9): a bounded SPSC ring
// for each ordered pair of shards, carrying tasks. A task is created on its
// origin shard, runs on its target shard, then travels back and completes —
// and is freed — on its origin ("goes home to die"), so memory never changes
// owner. A full ring is backpressure: the sender keeps the task in its own
// outbox and retries; nothing is lost and nothing grows without bound beyond
// what the sender chose to start.
//
// No cycles: a task's Run() may post new tasks, but must not wait for them;
// results come back through Done() on the origin. (Seastar's rule: cross-shard
// calls form a DAG, never a wait cycle.)
//
// Threading: Mailbox is shared by all shards; each ShardMailbox is used only
// by its own shard's thread.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "core/spsc_ring.h"
#include <absl/status/status.h>

#include "core/types.h"

namespace werk::core {

inline constexpr size_t kMailboxDepthMax = 1024;

class CrossShardTask {
 public:
  virtual ~CrossShardTask() = default;
  // On the target shard's thread.
  virtual void Run() = 0;
  // Back on the origin shard's thread; the task is deleted right after.
  virtual void Done() = 0;
  // On the target, instead of waiting for `hold_lsn`: its log failed, so what
  // Run() logged will never be durable. The result must say so (no success
  // may reach a client); the task then goes home as usual.
  virtual void Abandon() {}
  // On the target, instead of waiting for `hold_lsn`: what Run() logged will
  // not be acknowledged, for the reason `why` (an error). The result becomes
  // that error where it can hold one; otherwise as Abandon().
  virtual void Refuse(const absl::Status& why) {
    (void)why;
    Abandon();
  }

  uint32_t origin = 0;
  uint32_t target = 0;
  bool returning = false;
  // Set by Run() to hold the result on the target until its journal has made
  // this LSN durable (0: return at once). See ShardMailbox::set_hold_handler.
  Lsn hold_lsn{0};
};

// A task from two lambdas (convenient where allocation per task is fine).
template <typename RunFn, typename DoneFn>
class LambdaTask final : public CrossShardTask {
 public:
  LambdaTask(RunFn run, DoneFn done) : run_(std::move(run)), done_(std::move(done)) {}
  void Run() override { run_(); }
  void Done() override { done_(); }

 private:
  RunFn run_;
  DoneFn done_;
};

// Wakes a shard that may be waiting for I/O (an eventfd its loop watches).
class ShardWaker {
 public:
  virtual ~ShardWaker() = default;
  virtual void Wake() = 0;
};

class Mailbox {
 public:
  using Ring = SpscRing<CrossShardTask*, kMailboxDepthMax>;

  explicit Mailbox(uint32_t shards);
  uint32_t shards() const { return shards_; }
  Ring& ring(uint32_t from, uint32_t to) { return *rings_[from * shards_ + to]; }

  // Each shard registers how to wake it, and says when it is about to sleep.
  void SetWaker(uint32_t shard, ShardWaker* waker) { wakers_[shard] = waker; }
  std::atomic<bool>& sleeping(uint32_t shard) { return sleeping_[shard].flag; }
  // Returns whether it had to wake the shard.
  bool WakeIfSleeping(uint32_t shard);

 private:
  struct alignas(kCacheLineBytes) SleepFlag {
    std::atomic<bool> flag{false};
  };
  uint32_t shards_;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::vector<ShardWaker*> wakers_;
  std::unique_ptr<SleepFlag[]> sleeping_;
};

// One shard's side of the mailbox.
class ShardMailbox {
 public:
  ShardMailbox(Mailbox* mailbox, uint32_t self);
  ~ShardMailbox();

  uint32_t self() const { return self_; }
  uint32_t shards() const { return mailbox_->shards(); }

  // Sends `task` to run on `target` (ownership passes to the mailbox until
  // Done() has run back here). Never blocks, never fails: a full ring keeps
  // the task in this shard's outbox until Flush() gets it through.
  void Submit(uint32_t target, CrossShardTask* task);

  // Once per loop iteration: runs tasks that arrived (requests and
  // returning results), retries the outbox, and wakes targets that got
  // messages. Returns how many tasks it handled.
  size_t Poll();

  // Tasks whose Run() set hold_lsn go to this handler instead of straight
  // home; the shard hands them back with Return() once the LSN is durable.
  void set_hold_handler(std::function<void(CrossShardTask*)> fn) { on_hold_ = std::move(fn); }
  void Return(CrossShardTask* task);
  // Retries the outbox and sends pending wake-ups (without receiving).
  void Flush();

  // Tasks waiting in the outbox because a ring was full.
  size_t backlog() const;
  // True if anything may be waiting to be received (the loop must not sleep).
  bool HasInbound() const;

  // Before the loop sleeps: marks this shard asleep, then re-checks for
  // messages (a sender that saw the mark wakes it). Returns false if the
  // loop must not sleep after all.
  bool PrepareToSleep();
  void Awake();

  // Tasks sent from here, tasks (requests and results) received here, and
  // sleeping shards this one had to wake — since start.
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }
  uint64_t wakeups() const { return wakeups_; }

 private:
  bool Post(uint32_t to, CrossShardTask* task);

  Mailbox* mailbox_;
  uint32_t self_;
  std::vector<std::deque<CrossShardTask*>> outbox_;  // per target, when its ring was full
  std::vector<bool> to_wake_;
  std::function<void(CrossShardTask*)> on_hold_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
  uint64_t wakeups_ = 0;
};

}  // namespace werk::core
