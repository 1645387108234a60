// Global operations: one record per shard, numbered per origin, and the plan
// that completes one a crash left applied on some shards only.

#include "core/global_ops.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;

Mutation PushOf(const std::string& jid, const std::string& queue = "default") {
  JobSpec s;
  s.jid = jid;
  s.jobtype = "Work";
  s.queue = queue;
  s.args_json = "[]";
  s.created_at = FormatRfc3339Nano(kT0);
  return Mutation::Push(kT0, std::move(s));
}

Mutation GlobalOf(uint32_t origin, uint64_t id, std::vector<Mutation> steps) {
  GlobalOpRecord r{origin, id, {}};
  for (const auto& m : steps) r.steps.push_back(EncodeMutation(m));
  return Mutation::Global(kT0, std::move(r));
}

std::vector<const StateMachine*> View(const std::vector<std::unique_ptr<StateMachine>>& sms) {
  std::vector<const StateMachine*> out;
  for (const auto& sm : sms) out.push_back(sm.get());
  return out;
}

std::vector<std::unique_ptr<StateMachine>> Shards(int n) {
  std::vector<std::unique_ptr<StateMachine>> out;
  for (int i = 0; i < n; ++i) out.push_back(std::make_unique<StateMachine>(kT0 / kNanosPerMilli));
  return out;
}

TEST(GlobalOp, AppliesEveryStepAndIsNotAppliedTwice) {
  StateMachine sm(kT0 / kNanosPerMilli);
  ASSERT_EQ(sm.Apply(PushOf("a", "q")), absl::OkStatus());
  const Mutation pause = GlobalOf(
      1, 1,
      {Mutation::Queue(kT0, MutationType::kQueueDeclare, QueueRecord{{"q", "r"}, false}),
       Mutation::Queue(kT0, MutationType::kQueuePause, QueueRecord{{"q", "r"}, false})});
  ASSERT_EQ(sm.Apply(pause), absl::OkStatus());
  ASSERT_NE(sm.FindQueue("r"), nullptr);
  EXPECT_TRUE(sm.FindQueue("q")->paused());
  EXPECT_TRUE(sm.FindQueue("r")->paused());
  EXPECT_EQ(sm.last_global_ops().at(1).id, 1u);
  // The same operation again (or an older one) changes nothing.
  ASSERT_EQ(sm.Apply(GlobalOf(1, 2, {Mutation::Flush(kT0)})), absl::OkStatus());
  EXPECT_EQ(sm.job_count(), 0u);
  ASSERT_EQ(sm.Apply(PushOf("b")), absl::OkStatus());
  EXPECT_EQ(sm.Apply(GlobalOf(1, 2, {Mutation::Flush(kT0)})), absl::AlreadyExistsError(""));
  EXPECT_EQ(sm.Apply(GlobalOf(1, 1, {Mutation::Flush(kT0)})), absl::AlreadyExistsError(""));
  EXPECT_EQ(sm.job_count(), 1u);
  // A FLUSH keeps the operation numbers: they are not state a client sees.
  EXPECT_EQ(sm.last_global_ops().at(1).id, 2u);
}

TEST(GlobalOp, NumbersSurviveACheckpoint) {
  StateMachine sm(kT0 / kNanosPerMilli);
  ASSERT_EQ(sm.Apply(GlobalOf(0, 7, {Mutation::Flush(kT0)})), absl::OkStatus());
  ASSERT_EQ(sm.Apply(GlobalOf(3, 2, {Mutation::Flush(kT0)})), absl::OkStatus());
  StateMachine copy(kT0 / kNanosPerMilli);
  sm.Snapshot([&](SnapshotItemType t, std::string_view body) {
    ASSERT_TRUE(copy.RestoreItem(t, body));
  });
  EXPECT_EQ(copy.StateHash(), sm.StateHash());
  EXPECT_EQ(copy.last_global_ops(), sm.last_global_ops());
}

TEST(RollForward, NothingToDoWhenEveryShardIsLevel) {
  auto sms = Shards(3);
  for (auto& sm : sms)
    ASSERT_EQ(sm->Apply(GlobalOf(0, 1, {Mutation::Flush(kT0)})), absl::OkStatus());
  const RollForwardPlan plan = PlanRollForward(View(sms), kT0);
  for (const auto& ops : plan.per_shard) EXPECT_TRUE(ops.empty());
  EXPECT_TRUE(plan.notes.empty());
}

TEST(RollForward, CompletesAnOperationOnTheShardsThatLackIt) {
  // Shard 1 started a FLUSH (its 3rd global operation); shard 0 applied it
  // and shard 2 did not before the crash. Shard 1 itself lost its part too
  // (it was not durable yet).
  auto sms = Shards(3);
  for (auto& sm : sms) {
    ASSERT_EQ(sm->Apply(GlobalOf(1, 2, {Mutation::Flush(kT0)})), absl::OkStatus());
    ASSERT_EQ(sm->Apply(PushOf("j")), absl::OkStatus());
  }
  ASSERT_EQ(sms[0]->Apply(GlobalOf(1, 3, {Mutation::Flush(kT0)})), absl::OkStatus());
  // Shard 2 is also behind an operation of origin 0.
  ASSERT_EQ(sms[0]->Apply(GlobalOf(0, 1, {Mutation::Queue(kT0, MutationType::kQueueRemove,
                                                          QueueRecord{{}, true})})),
            absl::OkStatus());
  ASSERT_EQ(sms[1]->Apply(GlobalOf(0, 1, {Mutation::Queue(kT0, MutationType::kQueueRemove,
                                                          QueueRecord{{}, true})})),
            absl::OkStatus());
  const RollForwardPlan plan = PlanRollForward(View(sms), kT0 + kNanosPerSecond);
  EXPECT_TRUE(plan.notes.empty());
  EXPECT_TRUE(plan.per_shard[0].empty());
  ASSERT_EQ(plan.per_shard[1].size(), 1u);
  ASSERT_EQ(plan.per_shard[2].size(), 2u);
  for (size_t i = 0; i < sms.size(); ++i)
    for (const auto& m : plan.per_shard[i]) ASSERT_EQ(sms[i]->Apply(m), absl::OkStatus());
  for (const auto& sm : sms) {
    EXPECT_EQ(sm->job_count(), 0u);
    EXPECT_EQ(sm->last_global_ops().at(1).id, 3u);
    EXPECT_EQ(sm->last_global_ops().at(0).id, 1u);
  }
  // Planned again, nothing is left.
  const RollForwardPlan again = PlanRollForward(View(sms), kT0);
  for (const auto& ops : again.per_shard) EXPECT_TRUE(ops.empty());
}

TEST(RollForward, SaysWhenAShardIsMoreThanOneBehind) {
  auto sms = Shards(2);
  ASSERT_EQ(sms[0]->Apply(GlobalOf(0, 4, {Mutation::Flush(kT0)})), absl::OkStatus());
  ASSERT_EQ(sms[1]->Apply(GlobalOf(0, 2, {Mutation::Flush(kT0)})), absl::OkStatus());
  const RollForwardPlan plan = PlanRollForward(View(sms), kT0);
  EXPECT_EQ(plan.notes.size(), 1u);
  ASSERT_EQ(plan.per_shard[1].size(), 1u);
  EXPECT_EQ(std::get<GlobalOpRecord>(plan.per_shard[1][0].body).id, 4u);
}

}  // namespace
}  // namespace werk::core
