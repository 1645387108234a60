#include "core/mailbox.h"

#include "core/check.h"

namespace werk::core {
namespace {

// A full fence. ThreadSanitizer (with GCC) does not model fences; there a
// seq_cst read-modify-write stands in (the wake-up protocol also tolerates a
// late wake, since sleeping shards wait with a timeout).
inline void SeqCstFence() {
#if defined(__SANITIZE_THREAD__)
  static std::atomic<int> dummy{0};
  dummy.exchange(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

}  // namespace

Mailbox::Mailbox(uint32_t shards)
    : shards_(shards), wakers_(shards, nullptr), sleeping_(new SleepFlag[shards]) {
  WERK_CHECK(shards >= 1);
  rings_.reserve(size_t(shards) * shards);
  for (uint32_t i = 0; i < shards * shards; ++i) rings_.push_back(std::make_unique<Ring>());
}

bool Mailbox::WakeIfSleeping(uint32_t shard) {
  // Only the sender that flips the flag pays for the wake-up.
  if (!sleeping_[shard].flag.exchange(false, std::memory_order_acq_rel) || !wakers_[shard])
    return false;
  wakers_[shard]->Wake();
  return true;
}

ShardMailbox::ShardMailbox(Mailbox* mailbox, uint32_t self)
    : mailbox_(mailbox),
      self_(self),
      outbox_(mailbox->shards()),
      to_wake_(mailbox->shards(), false) {}

ShardMailbox::~ShardMailbox() {
  for (auto& q : outbox_)
    for (CrossShardTask* t : q) delete t;
}

bool ShardMailbox::Post(uint32_t to, CrossShardTask* task) {
  if (!outbox_[to].empty() || !mailbox_->ring(self_, to).TryPush(task)) {
    outbox_[to].push_back(task);  // keep order behind what is already waiting
    return false;
  }
  to_wake_[to] = true;
  return true;
}

void ShardMailbox::Submit(uint32_t target, CrossShardTask* task) {
  task->origin = self_;
  task->target = target;
  task->returning = false;
  ++sent_;
  Post(target, task);
}

size_t ShardMailbox::Poll() {
  size_t handled = 0;
  CrossShardTask* batch[64];
  for (uint32_t from = 0; from < shards(); ++from) {
    if (from == self_) continue;
    auto& ring = mailbox_->ring(from, self_);
    size_t n;
    while ((n = ring.PopBatch(batch, 64)) > 0) {
      for (size_t i = 0; i < n; ++i) {
        CrossShardTask* t = batch[i];
        ++received_;
        if (t->returning) {
          WERK_DCHECK(t->origin == self_);
          t->Done();
          delete t;
        } else {
          WERK_DCHECK(t->target == self_);
          t->hold_lsn = Lsn(0);
          t->Run();
          if (t->hold_lsn > Lsn(0) && on_hold_) {
            on_hold_(t);
          } else {
            Return(t);
          }
        }
      }
      handled += n;
    }
  }
  Flush();
  return handled;
}

void ShardMailbox::Return(CrossShardTask* task) {
  task->returning = true;
  Post(task->origin, task);
}

void ShardMailbox::Flush() {
  // Retry what waited for room, in order.
  for (uint32_t to = 0; to < shards(); ++to) {
    auto& q = outbox_[to];
    auto& ring = mailbox_->ring(self_, to);
    while (!q.empty() && ring.TryPush(q.front())) {
      q.pop_front();
      to_wake_[to] = true;
    }
  }
  bool fenced = false;
  for (uint32_t to = 0; to < shards(); ++to) {
    if (!to_wake_[to]) continue;
    to_wake_[to] = false;
    if (!fenced) {
      // Dekker with PrepareToSleep: our ring stores, then their sleep flag.
      SeqCstFence();
      fenced = true;
    }
    if (mailbox_->WakeIfSleeping(to)) ++wakeups_;
  }
}

size_t ShardMailbox::backlog() const {
  size_t n = 0;
  for (const auto& q : outbox_) n += q.size();
  return n;
}

bool ShardMailbox::HasInbound() const {
  for (uint32_t from = 0; from < shards(); ++from)
    if (from != self_ && !mailbox_->ring(from, self_).ApproxEmpty()) return true;
  return false;
}

bool ShardMailbox::PrepareToSleep() {
  if (backlog() > 0) return false;  // keep retrying the outbox
  mailbox_->sleeping(self_).store(true, std::memory_order_seq_cst);
  // Dekker with the senders: our flag store, then their ring stores.
  SeqCstFence();
  if (HasInbound()) {
    mailbox_->sleeping(self_).store(false, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void ShardMailbox::Awake() { mailbox_->sleeping(self_).store(false, std::memory_order_relaxed); }

}  // namespace werk::core
