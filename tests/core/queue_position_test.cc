// Queue positions and checkpoint format version 2 (docs/wal-format.md
// "Checkpoints"): a queue's FIFO order survives a restore whatever order its
// items come in, a version 1 image still restores, and re-partitioning keeps
// the order per old shard.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_codec.h"
#include "core/repartition.h"
#include "core/state_machine.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;
constexpr UnixNanos kSec = kNanosPerSecond;

JobSpec Spec(std::string jid, UnixNanos at_ns = 0) {
  JobSpec s;
  s.jid = std::move(jid);
  s.jobtype = "Work";
  s.queue = "default";
  s.args_json = "[1]";
  s.created_at = FormatRfc3339Nano(kT0);
  if (at_ns) {
    s.at = FormatRfc3339Nano(at_ns);
    s.at_ns = at_ns;
  }
  return s;
}

using Items = std::vector<std::pair<SnapshotItemType, std::string>>;

Items SnapshotOf(const StateMachine& sm) {
  Items out;
  sm.Snapshot([&](SnapshotItemType t, std::string_view b) { out.emplace_back(t, std::string(b)); });
  return out;
}

std::vector<std::string> QueueOrder(const StateMachine& sm, std::string_view name = "default") {
  std::vector<std::string> out;
  const Queue* q = sm.FindQueue(name);
  if (!q) return out;
  for (const Job* j = q->Front(); j; j = q->Next(j)) out.emplace_back(j->jid());
  return out;
}

void Restore(StateMachine& into, const Items& items) {
  for (const auto& [t, b] : items) ASSERT_TRUE(into.RestoreItem(t, b));
  into.FinishRestore();
}

// A queue whose order is not push order: c, d, a (enqueued when due), b
// (requeued from the retry set).
void Build(StateMachine& sm) {
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, Spec("a", kT0 + 10 * kSec))).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, Spec("b"))).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, Spec("c"))).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Reserve(kT0, "b", "w1", kT0 + 1800 * kSec)).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Fail(kT0, DecideFailure(*sm.FindJob("b"), kT0, FailCause::kFail,
                                                         "E", "boom", {}, 0)))
                  .ok());
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, Spec("d"))).ok());
  ASSERT_TRUE(sm.Apply(Mutation::EnqueueDue(kT0 + 10 * kSec, {"a"})).ok());
  MutateSetRecord requeue;
  requeue.cmd = MutateCmd::kRequeue;
  requeue.target = SetTarget::kRetries;
  ASSERT_TRUE(sm.Apply(Mutation::MutateSet(kT0 + 11 * kSec, requeue)).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, Spec("r"))).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Reserve(kT0, "r", "w1", kT0 + 1800 * kSec)).ok());
}

TEST(QueuePositionTest, EnqueueStampsIncreasingPositions) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Build(sm);
  EXPECT_EQ(QueueOrder(sm), (std::vector<std::string>{"c", "d", "a", "b"}));
  UnixNanos prev = -1;
  for (const Job* j = sm.FindQueue("default")->Front(); j; j = sm.FindQueue("default")->Next(j)) {
    EXPECT_GT(j->set_key, prev);
    prev = j->set_key;
  }
  EXPECT_EQ(sm.next_queue_pos(), 6u);  // r took one before its reservation
  EXPECT_EQ(sm.reserved_size(), 1u);
}

TEST(QueuePositionTest, FifoSurvivesItemsInAnyOrder) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Build(sm);
  Items items = SnapshotOf(sm);
  // Jobs may come in any order (a sliced snapshot emits pre-images first).
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    auto first_job = std::find_if(items.begin(), items.end(),
                                  [](const auto& i) { return i.first == SnapshotItemType::kJob; });
    std::shuffle(first_job, items.end(), rng);
    StateMachine copy(kT0 / kNanosPerMilli);
    Restore(copy, items);
    EXPECT_EQ(QueueOrder(copy), QueueOrder(sm));
    EXPECT_EQ(copy.StateHash(), sm.StateHash());
    EXPECT_EQ(copy.next_queue_pos(), sm.next_queue_pos());
    EXPECT_EQ(copy.reserved_size(), 1u);
    // What is enqueued next goes to the back.
    ASSERT_TRUE(copy.Apply(Mutation::Push(kT0, Spec("e"))).ok());
    EXPECT_EQ(QueueOrder(copy).back(), "e");
  }
}

TEST(QueuePositionTest, VersionOneImageRestoresInItemOrder) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Build(sm);
  Items items = SnapshotOf(sm);
  // A version 1 counters item has no next queue position at its end.
  ASSERT_EQ(items[0].first, SnapshotItemType::kCounters);
  std::string pos;
  ByteWriter(pos).U64(sm.next_queue_pos());
  items[0].second.resize(items[0].second.size() - pos.size());
  StateMachine copy(kT0 / kNanosPerMilli);
  Restore(copy, items);
  EXPECT_EQ(QueueOrder(copy), QueueOrder(sm));
  EXPECT_EQ(copy.StateHash(), sm.StateHash());
  // Positions are given in item order, from 0.
  EXPECT_EQ(copy.next_queue_pos(), 4u);
  EXPECT_EQ(copy.FindJob("c")->set_key, 0);
  EXPECT_EQ(copy.FindJob("b")->set_key, 3);
  ASSERT_TRUE(copy.Apply(Mutation::Push(kT0, Spec("e"))).ok());
  EXPECT_EQ(QueueOrder(copy), (std::vector<std::string>{"c", "d", "a", "b", "e"}));
  // A version 2 image of it restores the same.
  StateMachine again(kT0 / kNanosPerMilli);
  Restore(again, SnapshotOf(copy));
  EXPECT_EQ(again.StateHash(), copy.StateHash());
}

TEST(QueuePositionTest, ReservedListFollowsReserveAckAndFlush) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Build(sm);
  ASSERT_TRUE(sm.Apply(Mutation::Reserve(kT0, "c", "w1", kT0 + 1800 * kSec)).ok());
  EXPECT_EQ(sm.reserved_size(), 2u);
  ASSERT_TRUE(sm.Apply(Mutation::Ack(kT0, "r")).ok());
  EXPECT_EQ(sm.reserved_size(), 1u);
  ASSERT_TRUE(sm.Apply(Mutation::Flush(kT0)).ok());
  EXPECT_EQ(sm.reserved_size(), 0u);
  // The list works after a flush dropped its elements.
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, Spec("x"))).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Reserve(kT0, "x", "w1", kT0 + 1800 * kSec)).ok());
  EXPECT_EQ(sm.reserved_size(), 1u);
  StateMachine copy(kT0 / kNanosPerMilli);
  Restore(copy, SnapshotOf(sm));
  EXPECT_EQ(copy.StateHash(), sm.StateHash());
  EXPECT_EQ(copy.reserved_size(), 1u);
  sm.Reclaim(1'000'000);
}

TEST(QueuePositionTest, RepartitionKeepsOrderPerOldShard) {
  StateMachine s0(kT0 / kNanosPerMilli), s1(kT0 / kNanosPerMilli);
  Build(s0);
  for (const char* jid : {"p", "q"}) ASSERT_TRUE(s1.Apply(Mutation::Push(kT0, Spec(jid))).ok());
  ASSERT_TRUE(s1.Apply(Mutation::Push(kT0, Spec("s", kT0 + kSec))).ok());
  ASSERT_TRUE(s1.Apply(Mutation::EnqueueDue(kT0 + kSec, {"s"})).ok());
  std::vector<std::unique_ptr<StateMachine>> out;
  ASSERT_TRUE(Repartition({&s0, &s1}, 1, kT0 / kNanosPerMilli, &out));
  EXPECT_EQ(QueueOrder(*out[0]), (std::vector<std::string>{"c", "d", "a", "b", "p", "q", "s"}));
  EXPECT_EQ(out[0]->next_queue_pos(), 7u);
}

}  // namespace
}  // namespace werk::core
