#pragma once
// A shard's runtime (design §3 "Process"): one thread, one io_uring
// reactor, one journal, the mailbox to the other shards, and the
// participants that take turns in its loop. It knows nothing of Faktory:
// the Faktory shard (net/shard.h), the write-ahead log, the checkpointer
// and the graveyard's reclaimer are participants; the replicator, cron and
// the stats publisher will be.
//
// One iteration (RunOnce):
//   1. sleep until I/O completes, another shard sends something, or the
//      earliest deadline a participant asks for (WaitBudgetNs); then read
//      the clock once (now(), mono_ms());
//   2. run the I/O completions, then every participant's OnWake(late_ms):
//      `late_ms` says how much later than it meant to the loop woke;
//   3. run the tasks other shards sent (core/mailbox.h);
//   4. every participant's OnTurn(), in the order they were added;
//   5. the deferred calls whose LSN is durable (Defer);
//   6. commit the journal: one write + fdatasync for everything appended
//      in the iteration (group commit);
//   7. every participant's OnDurable(durable LSN); results held for other
//      shards go home once what they logged is durable.
// A journal that fails stays failed: the participants hear OnLogFailed(),
// held results go home abandoned, and the shard stops.
//
// Stopping: RequestStop() (or any shard of the group stopping) calls every
// participant's OnStop(); the loop ends once every participant is
// Quiescent(), nothing is deferred, held or waiting to be sent, the journal
// has nothing in flight — and every shard of the group is that far, so no
// shard waits for an answer from one that left. Run() then calls
// OnStopped() (a clean stop's last checkpoint) and waits for the ring to
// have no request in flight.
//
// Everything here runs on the shard's thread, except WakeFromOtherThread().

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "core/journal.h"
#include "core/mailbox.h"
#include "core/participant.h"
#include "core/reactor.h"
#include "core/shard_call.h"
#include "core/types.h"

namespace werk::core {

// How long the loop's iterations kept the shard busy (from the wake-up to
// the next wait), in power-of-two buckets of milliseconds: under 1, 1-2,
// 2-4, ... and 512 or more.
inline constexpr size_t kLoopBusyBuckets = 11;
struct LoopStats {
  int64_t longest_ns = 0;
  std::array<uint64_t, kLoopBusyBuckets> busy{};
};

class ShardRuntime {
 public:
  explicit ShardRuntime(const Clock& clock, unsigned ring_entries = 2048);
  ~ShardRuntime();
  ShardRuntime(const ShardRuntime&) = delete;
  ShardRuntime& operator=(const ShardRuntime&) = delete;

  Reactor& reactor() { return reactor_; }
  const Clock& clock() const { return clock_; }
  // The wall clock and the monotonic clock (ms) as of this iteration's
  // wake-up: what arrived while the loop was away is handled at the time it
  // came back.
  UnixNanos now() const { return now_; }
  int64_t mono_ms() const { return mono_ms_; }
  // The monotonic clock in ns as of this iteration's wake-up (what
  // mono_ms() rounds down).
  int64_t mono_ns() const { return mono_ns_; }

  // Where the shard's mutations are logged; before the loop runs.
  void AttachJournal(Journal* journal) { journal_ = journal; }
  Journal& journal() const { return *journal_; }
  bool has_journal() const { return journal_ != nullptr; }
  // The loop saw the journal fail (and stopped serving).
  bool log_failed() const { return log_failed_; }

  // Turns go in the order participants were added. Not owned.
  void AddParticipant(Participant* p) { participants_.push_back(p); }

  // --- The group ----------------------------------------------------------
  // Joins a group of shards: `peers` in shard order (this one included),
  // `group_stop` shared by all (one stopping stops them all). Without it
  // the shard is alone.
  void JoinGroup(uint32_t id, std::vector<ShardRuntime*> peers, Mailbox* mailbox,
                 std::atomic<bool>* group_stop);
  uint32_t id() const { return id_; }
  uint32_t shard_count() const { return peers_.empty() ? 1 : uint32_t(peers_.size()); }
  // Mailbox figures (nullptr when alone).
  const ShardMailbox* mailbox() const { return box_.get(); }
  // Any thread: makes the loop look at its mailbox and stop flag.
  void WakeFromOtherThread() {
    if (waker_) waker_->Wake();
  }

  // Sends `task` to shard `target` (another shard; see core/mailbox.h).
  void Submit(uint32_t target, CrossShardTask* task);
  // A typed call (core/shard_call.h): `run` on `target`, `done(value,
  // abandoned)` back here, held until what `run` logged is durable there
  // unless `hold(value)` says otherwise.
  template <class RunFn, class DoneFn, class HoldFn = AlwaysHold>
  void Call(uint32_t target, RunFn run, DoneFn done, HoldFn hold = HoldFn()) {
    Submit(target, MakeCall(peers_[target]->journal_, std::move(run), std::move(done),
                            std::move(hold)));
  }
  // Runs `fn` on shard `target`'s thread; nothing comes back. Runs it here
  // at once when `target` is this shard.
  void Post(uint32_t target, std::function<void()> fn);

  // Any thread that is not a shard (the replication acceptor and
  // connector): runs `fn` on this shard's thread at its next iteration.
  // EnableForeignPosts() must have run on the shard's thread first.
  void PostFromOtherThread(std::function<void()> fn);
  // On the shard's thread, before the loop runs: lets other threads post.
  void EnableForeignPosts();

  // The results held here for other shards will not be made durable in
  // time (the shard now refuses writes: Journal::writes_refused): each goes
  // home at once as the error `why` (CrossShardTask::Refuse).
  void RefuseHeld(const absl::Status& why);

  // Runs `fn` on a later iteration of this loop, once the journal is
  // durable up to `after` (or has failed).
  void Defer(std::function<void()> fn, Lsn after = Lsn(0));

  // --- The loop -----------------------------------------------------------
  void RequestStop() { stop_requested_ = true; }
  bool stopping() const { return stopping_; }
  // One iteration, sleeping at most `max_wait_ns` (tests drive a shard with
  // this and a ManualClock).
  void RunOnce(int64_t max_wait_ns);
  // Runs the loop until stopped(), then OnStopped() and DrainIo().
  void Run();
  bool stopped() const;
  // Waits (bounded) until no request of the journal or of a participant is
  // in flight in the ring, so nothing is left half done at exit.
  void DrainIo();
  const LoopStats& loop_stats() const { return loop_stats_; }

 private:
  bool LocallyStopped() const;
  int64_t WaitBudgetNs();
  void RefreshNow();
  void BeginStop();
  void OnLogFailed();
  void HoldUntilDurable(CrossShardTask* task);
  void ReturnDurableHolds();
  bool DeferredReady() const;
  void RunDeferred();
  void CountBusy(int64_t ns);
  void PublishLocallyStopped();
  void RunForeignPosts();

  const Clock& clock_;
  Reactor reactor_;
  Journal* journal_ = nullptr;
  bool log_failed_ = false;
  UnixNanos now_ = 0;
  int64_t mono_ms_ = 0;
  int64_t mono_ns_ = 0;
  std::vector<Participant*> participants_;
  LoopStats loop_stats_;

  uint32_t id_ = 0;
  std::vector<ShardRuntime*> peers_;
  std::unique_ptr<ShardMailbox> box_;
  std::unique_ptr<ShardWaker> waker_;
  std::atomic<bool>* group_stop_ = nullptr;
  std::atomic<bool> locally_stopped_{false};  // read by peers (stopped())
  std::deque<CrossShardTask*> held_;           // results waiting for durability, LSN order

  struct Deferred {
    std::function<void()> fn;
    Lsn after;
  };
  std::vector<Deferred> deferred_;

  bool stop_requested_ = false;
  bool stopping_ = false;

  // PostFromOtherThread's queue; the flag spares the loop the lock.
  std::mutex foreign_mu_;
  std::vector<std::function<void()>> foreign_;
  std::atomic<bool> foreign_pending_{false};
};

}  // namespace werk::core
