// The gate between a shard's log and what its clients may be told: in sync
// mode nothing is released before the standby has it, the durable LSN never
// goes down across mode changes, a fence freezes it, and a stopping shard
// does not wait for a silent standby forever.

#include "wal/durability_gate.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/journal.h"

namespace werk::wal {
namespace {

constexpr int64_t kGraceNs = 5 * core::kNanosPerSecond;

struct Fixture {
  core::VolatileJournal log;
  core::ManualClock clock;
  DurabilityGate gate{&log, clock, kGraceNs};

  void AppendAndCommit(int n) {
    for (int i = 0; i < n; ++i) gate.Append("r");
    gate.Commit();
  }
};

TEST(DurabilityGate, LocalModeIsTheLogItself) {
  Fixture f;
  f.AppendAndCommit(3);
  EXPECT_EQ(f.gate.appended_lsn(), core::Lsn(3));
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(3));
  EXPECT_EQ(f.log.records(), 3u);
}

TEST(DurabilityGate, SyncModeReleasesOnlyWhatBothHave) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(5);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(0));  // locally durable, not acknowledged
  f.gate.SetAcked(core::Lsn(3));
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(3));
  EXPECT_EQ(f.gate.unacknowledged(), 2u);
  // The standby may be ahead of the local sync (its sync overlapped ours).
  for (int i = 0; i < 4; ++i) f.gate.Append("r");
  f.gate.SetAcked(core::Lsn(9));
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(5));
  f.gate.Commit();
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(9));
  // Acknowledgements never go back.
  f.gate.SetAcked(core::Lsn(2));
  EXPECT_EQ(f.gate.acked_lsn(), core::Lsn(9));
}

TEST(DurabilityGate, ModeChangesNeverTakeBackWhatWasReleased) {
  Fixture f;
  f.AppendAndCommit(4);  // released alone
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(4));
  f.AppendAndCommit(2);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(4));
  f.gate.SetAcked(core::Lsn(5));
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(5));
  // Alone again (degrade): the log decides.
  f.gate.SetMode(DurabilityGate::Mode::kLocal);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(6));
}

// Going alone (degrade): nothing is released alone before the record that
// says so is durable, so a log that lacks the record acknowledged nothing
// alone (what a rejoin relies on).
TEST(DurabilityGate, LocalFromAnLsnReleasesNothingAloneBeforeIt) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(5);
  f.gate.SetAcked(core::Lsn(2));
  const core::Lsn record = f.gate.Append("alone");  // LSN 6, not yet durable
  f.gate.SetMode(DurabilityGate::Mode::kLocal, record);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(2));
  f.gate.Commit();
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(6));
  f.AppendAndCommit(1);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(7));
}

TEST(DurabilityGate, AFenceFreezesWhatIsReleasedWhateverComesLater) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(4);
  f.gate.SetAcked(core::Lsn(2));
  f.gate.Fence();
  EXPECT_TRUE(f.gate.fenced());
  f.gate.SetAcked(core::Lsn(4));
  f.AppendAndCommit(3);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(2));
  f.gate.SetMode(DurabilityGate::Mode::kLocal);
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(2));
  EXPECT_FALSE(f.gate.failed());  // fenced is not failed: reads still work
}

TEST(DurabilityGate, NoModeChangeAfterAFenceReleasesAnything) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(1);
  f.gate.SetAcked(core::Lsn(1));
  f.gate.Fence();
  f.gate.SetMode(DurabilityGate::Mode::kLocal);  // alone by policy
  f.AppendAndCommit(4);
  f.gate.SetMode(DurabilityGate::Mode::kSync);  // a standby came back
  f.gate.SetAcked(core::Lsn(5));
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(1));
}

TEST(DurabilityGate, AFencedShardStopsAtOnceWithoutWaitingForTheGrace) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(3);
  f.gate.Fence();
  f.gate.OnStop();
  EXPECT_EQ(f.gate.WaitBudgetNs(), 0);
  f.gate.OnTurn();
  EXPECT_TRUE(f.gate.failed());
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(0));
}

TEST(DurabilityGate, AStoppingShardGivesASilentStandbyTheGraceThenAbandons) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(2);
  EXPECT_EQ(f.gate.WaitBudgetNs(), core::kNoDeadline);  // not stopping
  f.gate.OnStop();
  f.gate.OnTurn();
  EXPECT_FALSE(f.gate.failed());
  EXPECT_EQ(f.gate.WaitBudgetNs(), kGraceNs);
  f.clock.Advance(kGraceNs - 1);
  f.gate.OnTurn();
  EXPECT_FALSE(f.gate.failed());
  f.clock.Advance(1);
  f.gate.OnTurn();
  EXPECT_TRUE(f.gate.failed());
  EXPECT_TRUE(f.gate.abandoned());
  EXPECT_EQ(f.gate.durable_lsn(), core::Lsn(0));  // abandoned is never "acknowledged"
}

TEST(DurabilityGate, AStopWithEverythingAcknowledgedDoesNotWait) {
  Fixture f;
  f.gate.SetMode(DurabilityGate::Mode::kSync);
  f.AppendAndCommit(2);
  f.gate.SetAcked(core::Lsn(2));
  f.gate.OnStop();
  EXPECT_EQ(f.gate.WaitBudgetNs(), core::kNoDeadline);
  f.clock.Advance(2 * kGraceNs);
  f.gate.OnTurn();
  EXPECT_FALSE(f.gate.failed());
}

TEST(DurabilityGate, TheLogFailingFailsTheGate) {
  Fixture f;
  f.log.FailAtNextCommit();
  f.AppendAndCommit(1);
  EXPECT_TRUE(f.gate.failed());
}

}  // namespace
}  // namespace werk::wal
