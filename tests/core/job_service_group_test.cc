// The job service's operations on several shards (core/job_service.h):
// PUSHB, MUTATE, FLUSH, the queue operations and QUEUE LATENCY, driven
// without sockets on 1, 2 and 3 shards.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/job_service.h"
#include "tests/core/service_group.h"

namespace werk::core {
namespace {

class JobServiceGroupTest : public ServiceGroupTest {
 protected:
  size_t JobsOnAllShards() {
    size_t n = 0;
    for (auto& node : nodes_) n += node->partition.state().queued_total();
    return n;
  }
  bool PausedEverywhere(const std::string& queue) {
    for (auto& node : nodes_) {
      const Queue* q = node->partition.state().FindQueue(queue);
      if (!q || !q->paused()) return false;
    }
    return true;
  }
};

TEST_P(JobServiceGroupTest, PushBatchStoresEachJobOnItsOwnerAndNamesTheRefused) {
  std::vector<std::vector<JobSpec>> chunks(2);
  for (int i = 0; i < 1500; ++i) chunks[i % 2].push_back(Job("batch-" + std::to_string(100000 + i), "q"));
  JobSpec bad = Job("bad-0000001", "q");
  bad.jobtype.clear();
  chunks[0].push_back(bad);
  chunks[1].push_back(Job("batch-100000", "q"));  // already in the batch
  Outcome<OpResult<JobService::Refusals>> stored(At(0).PushBatch(std::move(chunks), clock_.WallNow()));
  Turn(16);
  ASSERT_TRUE(stored.has_value());
  ASSERT_TRUE(stored->ok()) << stored->status();
  ASSERT_EQ((*stored)->size(), 2u);
  EXPECT_EQ(JobsOnAllShards(), 1500u);
  for (auto& node : nodes_) {
    // Every job sits on the shard that owns its jid.
    for (int i = 0; i < 1500; ++i) {
      const std::string jid = "batch-" + std::to_string(100000 + i);
      EXPECT_EQ(node->partition.state().FindJob(jid) != nullptr,
                int(At(0).OwnerOf(jid)) == int(&node - &nodes_[0]));
    }
  }
}

TEST_P(JobServiceGroupTest, MutateActsOnEveryShardAndAnswersOnceDone) {
  // Jobs in the retry set of every shard: pushed, fetched, failed.
  std::vector<std::string> jids;
  for (int i = 0; i < 40; ++i) jids.push_back(PushOn(i % GetParam(), "q"));
  for (size_t i = 0; i < jids.size(); ++i) {
    Waiter w;
    At(0).fetcher().Start(&w, {"q"}, "w", Deadline());
    Turn();
    ASSERT_NE(w.Jid(), "?");
    Outcome<OpStatus> failed(At(0).Fail(FailRequest{w.Jid(), "E", "m", {}}));
    Turn();
    ASSERT_TRUE(failed.has_value() && failed->ok());
  }
  MutateSetRecord kill;
  kill.cmd = MutateCmd::kKill;
  kill.target = SetTarget::kRetries;
  Outcome<OpStatus> done(At(0).Mutate(kill));
  Turn(16);
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->ok()) << *done;
  for (auto& node : nodes_) EXPECT_EQ(node->partition.state().Set(SetTarget::kRetries).size(), 0u);
  size_t dead = 0;
  for (auto& node : nodes_) dead += node->partition.state().Set(SetTarget::kDead).size();
  EXPECT_EQ(dead, jids.size());
}

TEST_P(JobServiceGroupTest, APauseHoldsOnEveryShardEvenWhereTheQueueIsNew) {
  PushOn(GetParam() - 1, "only-here");
  Outcome<OpStatus> paused(At(0).QueueOp(MutationType::kQueuePause, QueueRecord{{"only-here"}, false}));
  Turn(8);
  ASSERT_TRUE(paused.has_value() && paused->ok()) << *paused;
  EXPECT_TRUE(PausedEverywhere("only-here"));
  // A job pushed to it on any shard waits: a FETCH leaves the queue out.
  PushOn(0, "only-here");
  Waiter w;
  At(0).fetcher().Start(&w, {"only-here"}, "w", Deadline());
  Turn();
  EXPECT_TRUE(w.got.empty());
  Outcome<OpStatus> resumed(At(0).QueueOp(MutationType::kQueueResume, QueueRecord{{}, true}));
  Turn(8);
  ASSERT_TRUE(resumed.has_value() && resumed->ok());
  Waiter after;
  At(0).fetcher().Start(&after, {"only-here"}, "w", Deadline());
  Turn();
  EXPECT_NE(after.Jid(), "?");
}

TEST_P(JobServiceGroupTest, GlobalOperationsOfOneOriginRunOneAtATimeInOrder) {
  for (int i = 0; i < 5; ++i) PushOn(i % GetParam(), "q");
  // Queued behind each other: the flush, then a pause of a queue the flush
  // removed (nothing to pause), then a remove.
  Outcome<OpStatus> flushed(At(0).Flush());
  Outcome<OpStatus> paused(At(0).QueueOp(MutationType::kQueuePause, QueueRecord{{"q"}, false}));
  Outcome<OpStatus> removed(At(0).QueueOp(MutationType::kQueueRemove, QueueRecord{{}, true}));
  Turn(16);
  ASSERT_TRUE(flushed.has_value() && paused.has_value() && removed.has_value());
  EXPECT_TRUE(flushed->ok());
  EXPECT_TRUE(paused->ok());
  EXPECT_TRUE(removed->ok());
  EXPECT_EQ(JobsOnAllShards(), 0u);
  for (auto& node : nodes_) EXPECT_EQ(node->partition.state().FindQueue("q"), nullptr);
}

TEST_P(JobServiceGroupTest, LatencyIsTheOldestJobOverAllShards) {
  PushOn(GetParam() - 1, "a");
  const UnixNanos first = clock_.WallNow();
  clock_.Advance(3 * kNanosPerSecond);
  PushOn(0, "a");
  Outcome<OpResult<std::vector<UnixNanos>>> oldest(At(0).OldestEnqueued({"a", "none"}));
  Turn();
  ASSERT_TRUE(oldest.has_value() && oldest->ok());
  ASSERT_EQ((*oldest)->size(), 2u);
  EXPECT_EQ((**oldest)[0], first);
  EXPECT_EQ((**oldest)[1], 0);
}

TEST_P(JobServiceGroupTest, AFailedLogEndsGlobalOperationsWithItsError) {
  PushOn(0, "q");
  nodes_[GetParam() - 1]->journal.FailAtNextCommit();
  Outcome<OpStatus> flushed(At(0).Flush());
  Turn(8);
  ASSERT_TRUE(flushed.has_value());
  if (GetParam() == 1) {
    // Ran here at once: a ready result is shown only once this shard's log
    // is durable through it, which it never will be.
    EXPECT_TRUE(flushed->ok());
    EXPECT_LT(nodes_[0]->journal.durable_lsn(), nodes_[0]->journal.appended_lsn());
  } else {
    EXPECT_EQ(std::string(flushed->message()), std::string(kLogFailedMessage));
  }
  // Nothing further from this origin (alone: the log itself refuses).
  Outcome<OpStatus> next(At(0).Flush());
  Turn(8);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(std::string(next->message()), std::string(kLogFailedMessage));
}

TEST_P(JobServiceGroupTest, AStandbyRefusesEveryGroupOperation) {
  for (auto& node : nodes_) node->partition.set_role(Role::kStandby);
  std::vector<std::vector<JobSpec>> one(1);
  one[0].push_back(Job("jid-0000001", "q"));
  Outcome<OpResult<JobService::Refusals>> batch(At(0).PushBatch(std::move(one), clock_.WallNow()));
  Outcome<OpStatus> flush(At(0).Flush());
  Outcome<OpStatus> pause(At(0).QueueOp(MutationType::kQueuePause, QueueRecord{{}, true}));
  Outcome<OpStatus> mutate(At(0).Mutate(MutateSetRecord{}));
  ASSERT_TRUE(batch.has_value() && flush.has_value() && pause.has_value() && mutate.has_value());
  for (const OpStatus& s : {batch->status(), *flush, *pause, *mutate})
    EXPECT_EQ(std::string(s.message()), std::string(kStandbyMessage));
  EXPECT_EQ(nodes_[0]->journal.appended_lsn(), Lsn(0));
}

INSTANTIATE_TEST_SUITE_P(Shards, JobServiceGroupTest, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return std::to_string(info.param) + "shards"; });

}  // namespace
}  // namespace werk::core
