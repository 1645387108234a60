// One shard's replication stream in one process: a primary and a standby,
// each a real Wal on MemStorage, joined by an in-memory link the test can
// hold. The standby ends in the primary's state, its own log recovers to
// it, the primary's gate releases only what the standby acknowledged, and
// a stream that breaks its rules (a gap, a repeat, an older epoch, an
// acknowledgement of what was never sent, a newer epoch) ends it.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/wal/replication_pair.h"

namespace werk::testing {
namespace {

TEST(Replication, TheStandbyEndsInThePrimarysStateAndItsOwnLogRecoversIt) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    Pair pair;
    std::mt19937_64 rng(seed);
    ASSERT_TRUE(pair.Start().ok());
    std::vector<std::string> jids;
    Work(pair, rng, 300, jids);
    // A promotion elsewhere, as the log shows it: the epoch moves, then its
    // record is the first of the new epoch.
    pair.primary().wal().SetEpoch(core::Epoch(2));
    const uint64_t first = pair.primary().wal().appended_lsn().value() + 1;
    pair.primary().Commit(core::Mutation::NewEpoch(pair.primary().clock().WallNow(),
                                                   {2, first, "127.0.0.1:1"}));
    Work(pair, rng, 300, jids);
    ASSERT_TRUE(pair.Settle().ok());

    const core::Lsn last = pair.primary().wal().appended_lsn();
    EXPECT_EQ(pair.standby().wal().appended_lsn(), last);
    EXPECT_EQ(pair.receiver().acked_lsn(), last);
    EXPECT_EQ(pair.gate().durable_lsn(), last);
    EXPECT_EQ(pair.standby().wal().epoch(), core::Epoch(2));
    EXPECT_EQ(pair.standby().sm().StateHash(), pair.primary().sm().StateHash());
    // The standby's own log, recovered, is the same state again.
    const uint64_t hash = pair.standby().sm().StateHash();
    ASSERT_TRUE(pair.standby().Open().ok());
    EXPECT_EQ(pair.standby().divergent(), 0u);
    EXPECT_EQ(pair.standby().result().epoch, core::Epoch(2));
    EXPECT_EQ(pair.standby().sm().StateHash(), hash);
  }
}

TEST(Replication, TheGateReleasesOnlyWhatTheStandbyAcknowledged) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Settle().ok());
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));

  pair.PauseStandby(true);  // it receives nothing and acknowledges nothing
  for (int i = 2; i <= 5; ++i) pair.primary().Push("job-" + std::to_string(i));
  ASSERT_TRUE(pair.Settle().ok());
  EXPECT_EQ(pair.primary().wal().durable_lsn(), core::Lsn(5));  // durable here
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));            // not released
  pair.PauseStandby(false);
  ASSERT_TRUE(pair.Settle().ok());
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(5));
  EXPECT_EQ(pair.sender().applied_lsn(), core::Lsn(5));
}

TEST(Replication, RecordsAreSentBeforeThePrimarysSyncCompletes) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  pair.primary().wal().Commit();  // the write is submitted, not completed
  pair.primary().wal().OnDurable(pair.primary().wal().durable_lsn());
  ASSERT_TRUE(pair.sender().Pump().ok());
  EXPECT_EQ(pair.primary().wal().durable_lsn(), core::Lsn(0));
  EXPECT_FALSE(pair.standby_inbox().empty());  // already on its way
}

TEST(Replication, ARepeatedOrMissingRecordEndsTheStreamAndAppliesNothingOfIt) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.PauseStandby(true);
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Turn().ok());
  const std::string first = pair.standby_inbox();  // the RECORDS message for LSN 1
  pair.PauseStandby(false);
  ASSERT_TRUE(pair.Settle().ok());
  const uint64_t hash = pair.standby().sm().StateHash();
  // The same message again: LSN 1 where 2 is expected.
  pair.standby_inbox() = first;
  absl::Status st = Deliver(pair.standby_inbox(),
                            [&](const wal::Message& m) { return pair.receiver().OnMessage(m); });
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
  EXPECT_NE(st.message().find("LSN 1 where 2"), std::string_view::npos) << st;
  EXPECT_EQ(pair.standby().sm().StateHash(), hash);
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(1));
}

TEST(Replication, AMissingRecordEndsTheStream) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.PauseStandby(true);
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Turn().ok());
  pair.standby_inbox().clear();  // LSN 1 lost on the way
  pair.primary().Push("job-2");
  pair.PauseStandby(false);
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
  EXPECT_NE(st.message().find("LSN 2 where 1"), std::string_view::npos) << st;
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(0));
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(0));
}

TEST(Replication, AnEpochRecordNamingAnotherPlaceIsRefused) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().wal().SetEpoch(core::Epoch(2));
  pair.primary().Commit(core::Mutation::NewEpoch(0, {2, 9, "x"}));  // at LSN 1
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(0));
  EXPECT_EQ(pair.standby().wal().epoch(), core::Epoch(1));
}

TEST(Replication, AStandbyAlreadyInANewerEpochRefusesAnOlderRecord) {
  Pair pair;
  pair.standby().wal().SetEpoch(core::Epoch(3));
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_EQ(pair.standby().sm().FindJob("job-1"), nullptr);
}

TEST(Replication, AnAcknowledgementOfWhatWasNeverSentIsRefused) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Settle().ok());
  wal::Message m{core::Epoch(1), wal::Ack{core::Lsn(9), core::Lsn(9)}};
  EXPECT_TRUE(absl::IsInvalidArgument(pair.sender().OnMessage(m)));
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));
  // The stream ended: a later, plausible ACK from the same standby moves
  // nothing either.
  pair.PauseStandby(true);
  pair.primary().Push("job-2");
  (void)pair.Settle();
  wal::Message later{core::Epoch(1), wal::Ack{core::Lsn(2), core::Lsn(2)}};
  EXPECT_FALSE(pair.sender().OnMessage(later).ok());
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));
}

TEST(Replication, ANewerEpochFromTheStandbyFencesThePrimary) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Settle().ok());
  pair.PauseStandby(true);
  pair.primary().Push("job-2");
  ASSERT_TRUE(pair.Settle().ok());
  wal::Message notice{core::Epoch(2), wal::EpochNotice{core::Epoch(2), "127.0.0.1:2"}};
  EXPECT_FALSE(pair.sender().OnMessage(notice).ok());
  EXPECT_TRUE(pair.sender().fenced());
  EXPECT_TRUE(pair.gate().fenced());
  // What the server's deposition names: the epoch and its holder.
  EXPECT_EQ(pair.sender().fenced_by(), core::Epoch(2));
  EXPECT_EQ(pair.sender().fenced_holder(), "127.0.0.1:2");
  // Even an acknowledgement arriving later releases nothing more.
  pair.gate().SetAcked(core::Lsn(2));
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));
}

TEST(Replication, AStandbyTooFarBehindIsToldSo) {
  Pair pair({.segment_bytes = 64 << 20, .batch_bytes_max = 64 << 10,
             .follower_retained_bytes_max = 256 << 10});
  ASSERT_TRUE(pair.Start().ok());
  pair.to_standby().Hold(true);  // nothing leaves: the send window fills
  core::JobSpec spec;
  spec.jobtype = "T";
  spec.queue = "default";
  spec.args_json = "[\"" + std::string(16 << 10, 'x') + "\"]";
  spec.created_at = "2026-11-22T00:00:00Z";
  absl::Status st;
  for (int i = 0; i < 1000 && st.ok(); ++i) {
    spec.jid = "job-" + std::to_string(100000 + i);
    pair.primary().Commit(core::Mutation::Push(pair.primary().clock().WallNow(), spec));
    st = pair.Turn();
  }
  // The window stopped the sender at 8 MiB; the log kept what it had not
  // read up to its bound, then let go: the standby must catch up otherwise.
  EXPECT_GE(pair.to_standby().unsent_bytes(), wal::kSendWindowBytes);
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
}

}  // namespace
}  // namespace werk::testing
