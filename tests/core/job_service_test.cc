// The job service (core/job_service.h, core/fetcher.h) driven without
// sockets: a group of shard runtimes on one ManualClock with in-memory
// journals, turned by this thread. Operations route to their owners and
// come back typed; FETCH keeps Faktory's queue priority across shards,
// blocks, is woken by a job on any shard, and answers "no job" at its
// deadline.

#include "core/job_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/core/service_group.h"

namespace werk::core {
namespace {

class JobServiceTest : public ServiceGroupTest {};

TEST_P(JobServiceTest, OperationsRunOnTheOwnerAndComeBackTyped) {
  const int last = GetParam() - 1;
  const std::string jid = JidOn(last, "job");
  Pending<OpStatus> push = At(0).Push(Job(jid, "default"));
  EXPECT_EQ(push.ready(), last == 0);  // ready only when it ran here
  Outcome<OpStatus> pushed(std::move(push));
  Turn();
  ASSERT_TRUE(pushed.has_value());
  EXPECT_TRUE(pushed->ok()) << *pushed;
  EXPECT_NE(nodes_[last]->partition.state().FindJob(jid), nullptr);
  // A durable result from elsewhere: the owner's log holds the job.
  EXPECT_GE(nodes_[last]->journal.durable_lsn(), Lsn(1));

  // The owner's error, typed, wherever it is asked from.
  Outcome<OpStatus> refused(At(0).Push(Job(jid, "default")));
  Turn();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code(), absl::StatusCode::kAlreadyExists);

  // Validation happens before routing: nothing reaches an owner.
  JobSpec bad = Job(JidOn(last, "bad"), "default");
  bad.jobtype.clear();
  Pending<OpStatus> invalid = At(0).Push(std::move(bad));
  ASSERT_TRUE(invalid.ready());
  EXPECT_EQ(invalid.value().code(), absl::StatusCode::kInvalidArgument);

  // FAIL of a job that is not reserved, then ACK, from another shard.
  Outcome<OpStatus> failed(At(0).Fail(FailRequest{jid, "E", "m", {}}));
  Turn();
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->code(), absl::StatusCode::kNotFound);
  Waiter fetched;
  At(0).fetcher().Start(&fetched, {"default"}, "w1", Deadline());
  Turn();
  ASSERT_EQ(fetched.Jid(), jid);
  Outcome<OpStatus> acked(At(0).Ack(jid));
  Turn();
  ASSERT_TRUE(acked.has_value());
  EXPECT_TRUE(acked->ok());
  EXPECT_EQ(nodes_[last]->partition.state().FindJob(jid), nullptr);
}

TEST_P(JobServiceTest, FetchTakesTheFirstQueueThatHasAJobOnAnyShard) {
  const int last = GetParam() - 1;
  PushOn(0, "default");
  const std::string critical = PushOn(last, "critical");
  Turn();  // every shard's hint is current
  Waiter w;
  At(0).fetcher().Start(&w, {"critical", "default"}, "w1", Deadline());
  Turn();
  EXPECT_EQ(w.Jid(), critical);
}

TEST_P(JobServiceTest, FetchPrefersEarlierQueuesAmongOtherShards) {
  const int n = GetParam();
  if (n < 3) GTEST_SKIP() << "needs two other shards";
  PushOn(1, "low");
  const std::string high = PushOn(2, "high");
  PushOn(0, "mid");
  Turn();
  Waiter w;
  At(0).fetcher().Start(&w, {"high", "mid", "low"}, "w1", Deadline());
  Turn();
  EXPECT_EQ(w.Jid(), high);
  Waiter w2;
  At(0).fetcher().Start(&w2, {"high", "mid", "low"}, "w1", Deadline());
  Turn();
  EXPECT_EQ(w2.Jid().substr(0, 3), "mid");
}

TEST_P(JobServiceTest, APausedQueueIsSkippedAndAFetchWithoutQueuesOnlyWaits) {
  PushOn(GetParam() - 1, "paused");
  const std::string other = PushOn(0, "other");
  for (auto& n : nodes_)
    ASSERT_TRUE(n->partition.Commit(Mutation::Queue(n->runtime.now(), MutationType::kQueuePause,
                                                    QueueRecord{{"paused"}, false})));
  Turn();
  Waiter w;
  At(0).fetcher().Start(&w, {"paused", "other"}, "w1", Deadline());
  Turn();
  EXPECT_EQ(w.Jid(), other);

  Waiter quiet;  // a quiet worker's FETCH
  At(0).fetcher().Start(&quiet, {}, "w1", Deadline());
  Turn();
  EXPECT_TRUE(quiet.got.empty());
  clock_.Advance(kFetchBlockMillis * kNanosPerMilli);
  Turn();
  EXPECT_EQ(quiet.Jid(), "");
}

TEST_P(JobServiceTest, AParkedFetchIsWokenByAJobOnAnyShard) {
  for (int owner = 0; owner < GetParam(); ++owner) {
    Waiter w;
    At(0).fetcher().Start(&w, {"q"}, "w1", Deadline());
    Turn();
    ASSERT_TRUE(w.got.empty());
    EXPECT_TRUE(At(0).fetcher().parked(&w));
    const std::string jid = PushOn(owner, "q", /*via=*/GetParam() - 1);
    Turn();
    EXPECT_EQ(w.Jid(), jid) << "job on shard " << owner;
    EXPECT_FALSE(At(0).fetcher().fetching(&w));
  }
  EXPECT_EQ(At(0).fetcher().stats().parked, 0u);
}

TEST_P(JobServiceTest, OneJobGoesToExactlyOneOfTheParkedFetches) {
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (int s = 0; s < GetParam(); ++s) {
    for (int k = 0; k < 2; ++k) {
      waiters.push_back(std::make_unique<Waiter>());
      At(s).fetcher().Start(waiters.back().get(), {"q"}, "w", Deadline());
    }
  }
  Turn();
  const std::string jid = PushOn(GetParam() - 1, "q");
  Turn(8);
  int answered = 0;
  for (auto& w : waiters) {
    if (w->got.empty()) continue;
    ++answered;
    EXPECT_EQ(w->Jid(), jid);
  }
  EXPECT_EQ(answered, 1);
  // The others answer "no job" at the deadline, not before.
  clock_.Advance((kFetchBlockMillis - 1) * kNanosPerMilli);
  Turn();
  for (auto& w : waiters) EXPECT_LE(w->got.size(), 1u);
  int empty = 0;
  for (auto& w : waiters) empty += w->got.empty();
  EXPECT_EQ(empty, int(waiters.size()) - 1);
  clock_.Advance(kNanosPerMilli);
  Turn();
  for (auto& w : waiters) {
    ASSERT_EQ(w->got.size(), 1u);
    if (w->Jid() != jid) {
      EXPECT_EQ(w->Jid(), "");
    }
  }
}

TEST_P(JobServiceTest, ACancelledFetchIsNeverAnswered) {
  Waiter parked;
  At(0).fetcher().Start(&parked, {"q"}, "w", Deadline());
  Turn();
  At(0).fetcher().Cancel(&parked);
  EXPECT_FALSE(At(0).fetcher().fetching(&parked));
  // Cancelled while a call to another shard is out.
  const int last = GetParam() - 1;
  PushOn(last, "r");
  Turn();
  Waiter racing;
  At(0).fetcher().Start(&racing, {"r"}, "w", Deadline());
  At(0).fetcher().Cancel(&racing);
  PushOn(last, "q");
  clock_.Advance(kFetchBlockMillis * kNanosPerMilli);
  Turn();
  EXPECT_TRUE(parked.got.empty());
  // (Alone, the job was here: the answer came within Start.)
  if (last > 0) {
    EXPECT_TRUE(racing.got.empty());
  }
  EXPECT_EQ(At(0).fetcher().outstanding(), 0u);
}

TEST_P(JobServiceTest, AStandbyRefusesFetchWithOneError) {
  PushOn(0, "q");
  for (auto& n : nodes_) n->partition.set_role(Role::kStandby);
  Waiter w;
  At(0).fetcher().Start(&w, {"q"}, "w", Deadline());
  ASSERT_EQ(w.got.size(), 1u);  // at once
  EXPECT_EQ(std::string(w.got[0].status().message()), std::string(kStandbyMessage));
  Pending<OpStatus> push = At(0).Push(Job(JidOn(0, "x"), "q"));
  ASSERT_TRUE(push.ready());
  EXPECT_EQ(std::string(push.value().message()), std::string(kStandbyMessage));
}

INSTANTIATE_TEST_SUITE_P(Shards, JobServiceTest, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return std::to_string(info.param) + "shards"; });

}  // namespace
}  // namespace werk::core
