#include "core/shard_runtime.h"

#include <algorithm>
#include <chrono>

#include "core/check.h"
#include "core/eventfd_waker.h"

namespace werk::core {

namespace {

// The longest the loop sleeps without being asked to: it still looks at
// its stop flag now and then.
constexpr int64_t kMaxSleepNs = 1'000'000'000;

// A one-way notice (its Done() on the sender does nothing).
class PostTask final : public CrossShardTask {
 public:
  explicit PostTask(std::function<void()> fn) : fn_(std::move(fn)) {}
  void Run() override { fn_(); }
  void Done() override {}

 private:
  std::function<void()> fn_;
};

}  // namespace

ShardRuntime::ShardRuntime(const Clock& clock, unsigned ring_entries)
    : clock_(clock), reactor_(ring_entries) {
  RefreshNow();
}

ShardRuntime::~ShardRuntime() = default;

void ShardRuntime::RefreshNow() {
  now_ = clock_.WallNow();
  mono_ns_ = clock_.MonotonicNow();
  mono_ms_ = mono_ns_ / kNanosPerMilli;
}

void ShardRuntime::JoinGroup(uint32_t id, std::vector<ShardRuntime*> peers, Mailbox* mailbox,
                             std::atomic<bool>* group_stop) {
  id_ = id;
  peers_ = std::move(peers);
  group_stop_ = group_stop;
  if (peers_.size() <= 1) return;
  box_ = std::make_unique<ShardMailbox>(mailbox, id_);
  box_->set_hold_handler([this](CrossShardTask* t) { HoldUntilDurable(t); });
  // One waker per loop: it keeps a read in the ring (EnableForeignPosts may
  // have made it already).
  if (!waker_) waker_ = std::make_unique<EventfdWaker>(&reactor_);
  mailbox->SetWaker(id_, waker_.get());
}

void ShardRuntime::Submit(uint32_t target, CrossShardTask* task) {
  WERK_DCHECK(box_ && target != id_);
  box_->Submit(target, task);
}

void ShardRuntime::Post(uint32_t target, std::function<void()> fn) {
  if (target == id_) return fn();
  Submit(target, new PostTask(std::move(fn)));
}

void ShardRuntime::EnableForeignPosts() {
  if (!waker_) waker_ = std::make_unique<EventfdWaker>(&reactor_);
}

void ShardRuntime::PostFromOtherThread(std::function<void()> fn) {
  WERK_CHECK(waker_ != nullptr);
  {
    std::lock_guard<std::mutex> l(foreign_mu_);
    foreign_.push_back(std::move(fn));
    foreign_pending_.store(true, std::memory_order_release);
  }
  waker_->Wake();
}

void ShardRuntime::RunForeignPosts() {
  std::vector<std::function<void()>> posts;
  {
    std::lock_guard<std::mutex> l(foreign_mu_);
    posts.swap(foreign_);
    foreign_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : posts) fn();
}

// --- Results held for other shards ---------------------------------------------

void ShardRuntime::HoldUntilDurable(CrossShardTask* task) {
  if (journal_->failed()) {
    task->Abandon();
    box_->Return(task);
    return;
  }
  // Appended in LSN order (tasks run in order within one iteration).
  held_.push_back(task);
}

void ShardRuntime::ReturnDurableHolds() {
  if (held_.empty()) return;
  const Lsn durable = journal_->durable_lsn();
  bool any = false;
  while (!held_.empty() && held_.front()->hold_lsn <= durable) {
    box_->Return(held_.front());
    held_.pop_front();
    any = true;
  }
  if (any) box_->Flush();
}

void ShardRuntime::RefuseHeld(const absl::Status& why) {
  if (!box_ || held_.empty()) return;
  ReturnDurableHolds();  // what may go as it is, goes first
  for (CrossShardTask* t : held_) {
    t->Refuse(why);
    box_->Return(t);
  }
  held_.clear();
  box_->Flush();
}

// --- Deferred calls ----------------------------------------------------------------

void ShardRuntime::Defer(std::function<void()> fn, Lsn after) {
  deferred_.push_back({std::move(fn), after});
}

bool ShardRuntime::DeferredReady() const {
  if (deferred_.empty()) return false;
  if (journal_->failed()) return true;
  const Lsn durable = journal_->durable_lsn();
  for (const Deferred& d : deferred_)
    if (d.after <= durable) return true;
  return false;
}

void ShardRuntime::RunDeferred() {
  if (!DeferredReady()) return;
  std::vector<Deferred> ready, later;
  ready.swap(deferred_);
  const Lsn durable = journal_->durable_lsn();
  for (Deferred& d : ready) {
    if (d.after > durable && !journal_->failed())
      later.push_back(std::move(d));
    else
      d.fn();
  }
  // (Calls deferred while these ran are in deferred_ already.)
  for (Deferred& d : later) deferred_.push_back(std::move(d));
}

// --- The loop ----------------------------------------------------------------------

int64_t ShardRuntime::WaitBudgetNs() {
  if (DeferredReady()) return 0;  // e.g. a long command's next slice
  int64_t budget = kMaxSleepNs;
  for (Participant* p : participants_) budget = std::min(budget, p->WaitBudgetNs());
  return std::max<int64_t>(budget, 0);
}

void ShardRuntime::RunOnce(int64_t max_wait_ns) {
  if (group_stop_ && group_stop_->load(std::memory_order_relaxed)) stop_requested_ = true;
  if (stop_requested_ && !stopping_) BeginStop();
  if (stopped()) return;
  int64_t budget = std::min(WaitBudgetNs(), max_wait_ns);
  if (box_ && budget > 0 && !box_->PrepareToSleep()) budget = 0;
  const int64_t expected_wake_ms = mono_ms_ + budget / kNanosPerMilli;
  reactor_.Wait(budget);
  // The clock is read before any completion runs: what arrived while the
  // loop was away is handled at the time the loop came back, never at the
  // time it last looked (a BEAT would re-arm a deadline already past).
  RefreshNow();
  const int64_t busy_from = mono_ns_;
  reactor_.RunReady();
  const int64_t late_ms = mono_ms_ - expected_wake_ms;
  for (Participant* p : participants_) p->OnWake(late_ms);
  if (box_) {
    box_->Awake();
    box_->Poll();  // tasks for this shard run before this iteration's commit
  }
  if (foreign_pending_.load(std::memory_order_acquire)) RunForeignPosts();
  for (Participant* p : participants_) p->OnTurn();
  RunDeferred();
  // What the turns sent is in the rings: wake the shards it is for now.
  if (box_) box_->Flush();
  journal_->Commit();
  if (journal_->failed()) {
    if (!log_failed_) OnLogFailed();
  } else {
    const Lsn durable = journal_->durable_lsn();
    for (Participant* p : participants_) p->OnDurable(durable);
    if (box_) ReturnDurableHolds();
  }
  CountBusy(clock_.MonotonicNow() - busy_from);
  PublishLocallyStopped();
}

void ShardRuntime::Run() {
  while (!stopped()) RunOnce(kMaxSleepNs);
  if (!log_failed_ && !journal_->failed())
    for (Participant* p : participants_) p->OnStopped(*this);
  DrainIo();
  // The last records (e.g. a FLUSH answered just before the signal) are durable.
  journal_->Commit();
}

void ShardRuntime::DrainIo() {
  auto idle = [this] {
    if (journal_ && !journal_->io_idle()) return false;
    for (const Participant* p : participants_)
      if (!p->IoIdle()) return false;
    return true;
  };
  // Real time bounds this, whatever clock the shard runs on.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!idle() && std::chrono::steady_clock::now() < deadline) reactor_.Poll(10'000'000);
}

void ShardRuntime::BeginStop() {
  stopping_ = true;
  // One shard stopping stops the group; they finish together (stopped()).
  if (group_stop_ && !group_stop_->exchange(true))
    for (ShardRuntime* p : peers_)
      if (p != this) p->WakeFromOtherThread();
  for (Participant* p : participants_) p->OnStop();
}

void ShardRuntime::OnLogFailed() {
  // Nothing appended since the failure can become durable. Results other
  // shards wait for: those already durable go back as they are; the rest
  // never will be, so they go back abandoned and no shard waits for this
  // one forever.
  log_failed_ = true;
  if (box_) {
    ReturnDurableHolds();
    for (CrossShardTask* t : held_) {
      t->Abandon();
      box_->Return(t);
    }
    held_.clear();
    box_->Flush();
  }
  for (Participant* p : participants_) p->OnLogFailed();
  stop_requested_ = true;
}

bool ShardRuntime::LocallyStopped() const {
  if (!stopping_ || !deferred_.empty() || !held_.empty()) return false;
  if (!log_failed_ && journal_->commit_pending()) return false;
  if (box_ && box_->backlog() != 0) return false;
  for (const Participant* p : participants_)
    if (!p->Quiescent()) return false;
  return true;
}

bool ShardRuntime::stopped() const {
  if (!LocallyStopped()) return false;
  if (peers_.empty()) return true;
  // Its own flag must be out, too, or the others would wait for it forever.
  if (!locally_stopped_.load(std::memory_order_relaxed)) return false;
  // A shard of a group keeps serving its mailbox until every shard is done:
  // one still closing a connection may be waiting for this one's answer. A
  // shard with nothing left waits for nobody, so when all are done at once
  // no answer is owed.
  for (const ShardRuntime* p : peers_)
    if (p != this && !p->locally_stopped_.load(std::memory_order_acquire)) return false;
  return true;
}

void ShardRuntime::PublishLocallyStopped() {
  if (peers_.empty()) return;
  const bool done = LocallyStopped();
  if (done == locally_stopped_.load(std::memory_order_relaxed)) return;
  locally_stopped_.store(done, std::memory_order_release);
  if (done)
    for (ShardRuntime* p : peers_)
      if (p != this) p->WakeFromOtherThread();
}

void ShardRuntime::CountBusy(int64_t ns) {
  loop_stats_.longest_ns = std::max(loop_stats_.longest_ns, ns);
  size_t bucket = 0;
  for (int64_t ms = ns / kNanosPerMilli; ms > 0 && bucket + 1 < kLoopBusyBuckets; ms >>= 1)
    ++bucket;
  ++loop_stats_.busy[bucket];
}

}  // namespace werk::core
