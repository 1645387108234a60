// Cron-push records (invariant I5): the job of a cron tick and the fact
// that the tick fired are one record; a tick at or before the latest one
// fired of its entry is refused, by the state machine (replay, the standby)
// and by the partition (before anything is logged). The ledger survives
// FLUSH, checkpoints and re-partitioning.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/partition.h"
#include "core/repartition.h"
#include "core/state_machine.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;
constexpr int64_t kTick = 1'795'362'300;  // a minute boundary

JobSpec TickJob(uint64_t entry, int64_t tick) {
  JobSpec s;
  s.jid = "cron-" + std::to_string(entry) + "-" + std::to_string(tick);
  s.jobtype = "Report";
  s.queue = "default";
  s.args_json = "[]";
  s.created_at = FormatRfc3339Nano(kT0);
  return s;
}

Mutation Tick(uint64_t entry, int64_t tick) {
  return Mutation::CronPush(kT0, CronPushRecord{entry, tick, TickJob(entry, tick)});
}

TEST(CronPush, QueuesTheJobAndRecordsTheTick) {
  StateMachine sm(kT0 / kNanosPerMilli);
  ASSERT_TRUE(sm.Apply(Tick(7, kTick)).ok());
  ASSERT_NE(sm.FindJob(TickJob(7, kTick).jid), nullptr);
  EXPECT_EQ(sm.queued_total(), 1u);
  ASSERT_EQ(sm.cron_fired().size(), 1u);
  EXPECT_EQ(sm.cron_fired().at(7), kTick);
}

TEST(CronPush, ATickAtOrBeforeTheLatestFiredIsRefusedAndChangesNothing) {
  StateMachine sm(kT0 / kNanosPerMilli);
  ASSERT_TRUE(sm.Apply(Tick(7, kTick)).ok());
  // The job is gone (acknowledged): the ledger alone refuses the tick.
  ASSERT_TRUE(sm.Apply(Mutation::Reserve(kT0, TickJob(7, kTick).jid, "w", kT0 + kNanosPerSecond))
                  .ok());
  ASSERT_TRUE(sm.Apply(Mutation::Ack(kT0, TickJob(7, kTick).jid)).ok());
  const uint64_t before = sm.StateHash();
  EXPECT_FALSE(sm.Apply(Tick(7, kTick)).ok());
  EXPECT_FALSE(sm.Apply(Tick(7, kTick - 60)).ok());
  EXPECT_EQ(sm.StateHash(), before);
  EXPECT_EQ(sm.queued_total(), 0u);
  // A later tick, and another entry's same tick, fire.
  EXPECT_TRUE(sm.Apply(Tick(7, kTick + 60)).ok());
  EXPECT_TRUE(sm.Apply(Tick(8, kTick)).ok());
  EXPECT_EQ(sm.cron_fired().at(7), kTick + 60);
  EXPECT_EQ(sm.cron_fired().at(8), kTick);
}

TEST(CronPush, ARefusedPushDoesNotRecordTheTick) {
  StateMachine sm(kT0 / kNanosPerMilli);
  JobSpec live = TickJob(7, kTick);
  ASSERT_TRUE(sm.Apply(Mutation::Push(kT0, live)).ok());  // the jid is taken
  EXPECT_FALSE(sm.Apply(Tick(7, kTick)).ok());
  EXPECT_TRUE(sm.cron_fired().empty());
}

TEST(CronPush, FlushKeepsTheLedger) {
  StateMachine sm(kT0 / kNanosPerMilli);
  ASSERT_TRUE(sm.Apply(Tick(7, kTick)).ok());
  ASSERT_TRUE(sm.Apply(Mutation::Flush(kT0)).ok());
  EXPECT_EQ(sm.job_count(), 0u);
  EXPECT_EQ(sm.cron_fired().at(7), kTick);
  EXPECT_FALSE(sm.Apply(Tick(7, kTick)).ok());
}

TEST(CronPush, ACheckpointCarriesTheLedger) {
  StateMachine sm(kT0 / kNanosPerMilli);
  ASSERT_TRUE(sm.Apply(Tick(7, kTick)).ok());
  ASSERT_TRUE(sm.Apply(Tick(9, kTick - 3600)).ok());
  StateMachine copy(kT0 / kNanosPerMilli);
  bool ok = true;
  sm.Snapshot([&](SnapshotItemType t, std::string_view body) { ok = ok && copy.RestoreItem(t, body); });
  ASSERT_TRUE(ok);
  copy.FinishRestore();
  EXPECT_EQ(copy.StateHash(), sm.StateHash());
  EXPECT_EQ(copy.cron_fired(), sm.cron_fired());
  EXPECT_FALSE(copy.Apply(Tick(7, kTick)).ok());
}

TEST(CronPush, ACorruptLedgerItemIsRefused) {
  StateMachine sm(kT0 / kNanosPerMilli);
  EXPECT_FALSE(sm.RestoreItem(SnapshotItemType::kCronFired, std::string("\x01\x00\x02", 3)));
  EXPECT_FALSE(sm.RestoreItem(SnapshotItemType::kCronFired, std::string("\x02\x05\x02", 3)));
  EXPECT_FALSE(sm.RestoreItem(SnapshotItemType::kCronFired, std::string("\x01\x05\x02\x00", 4)));
}

TEST(CronPush, EveryShardOfARepartitionedStateRefusesATickFiredBefore) {
  StateMachine a(kT0 / kNanosPerMilli), b(kT0 / kNanosPerMilli);
  ASSERT_TRUE(a.Apply(Tick(7, kTick)).ok());
  ASSERT_TRUE(b.Apply(Tick(7, kTick + 60)).ok());
  ASSERT_TRUE(b.Apply(Tick(8, kTick)).ok());
  std::vector<std::unique_ptr<StateMachine>> out;
  ASSERT_TRUE(Repartition({&a, &b}, 3, kT0 / kNanosPerMilli, &out));
  for (const auto& sm : out) {
    EXPECT_EQ(sm->cron_fired().at(7), kTick + 60);
    EXPECT_EQ(sm->cron_fired().at(8), kTick);
    EXPECT_FALSE(sm->Apply(Tick(7, kTick + 60)).ok());
  }
}

TEST(CronPush, ThePartitionRefusesBeforeLogging) {
  ManualClock clock(kT0);
  VolatileJournal journal;
  ShardRuntime runtime(clock, 64);
  runtime.AttachJournal(&journal);
  Partition partition(&runtime, PartitionOptions{});
  ASSERT_TRUE(partition.CronPush(CronPushRecord{7, kTick, TickJob(7, kTick)}).ok());
  EXPECT_EQ(journal.appended_lsn(), Lsn(1));
  const OpStatus again = partition.CronPush(CronPushRecord{7, kTick, TickJob(7, kTick)});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "cron tick " + TickJob(7, kTick).jid + " has fired already");
  // A live job (a client's) with the jid of a tick not fired yet.
  ASSERT_TRUE(partition.Push(TickJob(7, kTick + 60)).ok());
  const OpStatus taken = partition.CronPush(CronPushRecord{7, kTick + 60, TickJob(7, kTick + 60)});
  EXPECT_EQ(taken.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(taken.message(), "the jid " + TickJob(7, kTick + 60).jid +
                                 " of a cron tick is held by a job a client pushed");
  EXPECT_EQ(journal.appended_lsn(), Lsn(2));  // the PUSH only
  // A standby refuses it like any write.
  partition.set_role(Role::kStandby, "10.0.0.1:7419");
  EXPECT_FALSE(partition.CronPush(CronPushRecord{7, kTick + 120, TickJob(7, kTick + 120)}).ok());
  EXPECT_EQ(journal.appended_lsn(), Lsn(2));
}

}  // namespace
}  // namespace werk::core
