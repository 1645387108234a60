// A standby further behind than the primary's log keeps in memory catches
// up from the segment files (plan §1.4, step 6): the records up to the
// primary's durable LSN come from the files, then the live cursor's, while
// the primary keeps appending and checkpointing; a live cursor that falls
// behind meanwhile restarts the files phase; files that are gone, or a read
// that fails, end the stream with a clear error.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/wal/replication_pair.h"

namespace werk::testing {
namespace {

// A log of many segments, with a follower bound a standby starting at LSN 1
// is far beyond.
LogFixtureOptions FarBehind() {
  return {.segment_bytes = 4096, .batch_bytes_max = 1024, .follower_retained_bytes_max = 4096};
}

// Turns until the standby has every record the primary appended.
absl::Status CatchUp(Pair& pair) {
  for (int i = 0; i < 2000; ++i) {
    if (auto st = pair.Turn(); !st.ok()) return st;
    if (!pair.sender().catching_up() &&
        pair.standby().wal().durable_lsn() == pair.primary().wal().appended_lsn() &&
        pair.gate().durable_lsn() == pair.primary().wal().appended_lsn())
      return absl::OkStatus();
  }
  return absl::DeadlineExceededError("the standby did not catch up");
}

void ExpectSameState(Pair& pair) {
  EXPECT_EQ(pair.standby().wal().appended_lsn(), pair.primary().wal().appended_lsn());
  EXPECT_EQ(pair.standby().sm().StateHash(), pair.primary().sm().StateHash());
  // The standby's own log, recovered, is that state again.
  const uint64_t hash = pair.standby().sm().StateHash();
  ASSERT_TRUE(pair.standby().Open().ok());
  EXPECT_EQ(pair.standby().divergent(), 0u);
  EXPECT_EQ(pair.standby().sm().StateHash(), hash);
}

TEST(ReplicationCatchUp, AStandbyFarBehindCatchesUpFromTheFilesWhileThePrimaryAppends) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    Pair pair(FarBehind());
    std::mt19937_64 rng(seed);
    std::vector<std::string> jids;
    Work(pair, rng, 600, jids);  // no standby yet
    ASSERT_GT(pair.primary().wal().segment_count(), 10u);
    // Nothing is kept in memory for a follower from LSN 1.
    ASSERT_FALSE(pair.primary().wal().Follow(core::Lsn(1)).ok());

    ASSERT_TRUE(pair.StartAt(core::Lsn(1)).ok());
    EXPECT_TRUE(pair.sender().catching_up());
    EXPECT_EQ(pair.primary().wal().pins(), 1u);
    Work(pair, rng, 400, jids);
    ASSERT_TRUE(CatchUp(pair).ok());

    EXPECT_EQ(pair.sender().files_phases(), 1u + pair.sender().restarts());
    EXPECT_GT(pair.sender().file_bytes_read(), 0u);
    EXPECT_EQ(pair.primary().wal().pins(), 0u);
    ExpectSameState(pair);
  }
}

TEST(ReplicationCatchUp, ALiveCursorFallingBehindRestartsTheFilesPhase) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    Pair pair(FarBehind());
    std::mt19937_64 rng(seed);
    std::vector<std::string> jids;
    Work(pair, rng, 600, jids);
    // The primary's disk is slow: a few completions per turn, so the files
    // are read while many batches become durable, more than the log keeps.
    pair.set_primary_ops_per_turn(3);
    ASSERT_TRUE(pair.StartAt(core::Lsn(1)).ok());
    Work(pair, rng, 600, jids);
    pair.set_primary_ops_per_turn(SIZE_MAX);
    ASSERT_TRUE(CatchUp(pair).ok());
    EXPECT_GT(pair.sender().restarts(), 0u);
    EXPECT_EQ(pair.sender().files_phases(), 1u + pair.sender().restarts());
    ExpectSameState(pair);
  }
}

// The checkpoint covers the segments being read and asks for them to go:
// they stay (pinned) until the files phase is over, then go.
TEST(ReplicationCatchUp, ACheckpointDuringTheCatchUpLeavesTheFilesBeingRead) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    Pair pair(FarBehind());
    std::mt19937_64 rng(seed);
    std::vector<std::string> jids;
    Work(pair, rng, 600, jids);
    const auto segments = pair.primary().wal().SegmentsFrom(core::Lsn(1));
    pair.set_primary_ops_per_turn(2);  // a slow disk: the files take many turns
    ASSERT_TRUE(pair.StartAt(core::Lsn(1)).ok());
    pair.RequestCheckpoint();
    bool taken_while_reading = false;
    for (int i = 0; i < 1000 && pair.primary().checkpointer().stats().taken == 0; ++i) {
      ASSERT_TRUE(pair.Turn().ok());
      taken_while_reading =
          pair.primary().checkpointer().stats().taken > 0 && pair.sender().catching_up();
    }
    ASSERT_TRUE(taken_while_reading);
    ASSERT_GT(pair.primary().checkpointer().stats().last_lsn, segments[1].first_lsn);
    EXPECT_TRUE(pair.primary_storage().Exists(segments[0].name));
    Work(pair, rng, 200, jids);
    pair.set_primary_ops_per_turn(SIZE_MAX);
    ASSERT_TRUE(CatchUp(pair).ok());
    ExpectSameState(pair);
    // Caught up: the pin went, and the covered segments with it.
    EXPECT_EQ(pair.primary().wal().pins(), 0u);
    EXPECT_FALSE(pair.primary_storage().Exists(segments[0].name));
  }
}

TEST(ReplicationCatchUp, AStandbyAlreadyCloseNeedsNoFiles) {
  Pair pair(FarBehind());
  std::mt19937_64 rng(7);
  std::vector<std::string> jids;
  ASSERT_TRUE(pair.Start().ok());
  Work(pair, rng, 300, jids);
  ASSERT_TRUE(CatchUp(pair).ok());
  EXPECT_EQ(pair.sender().files_phases(), 0u);
  ExpectSameState(pair);
}

TEST(ReplicationCatchUp, SegmentsGoneNeedACheckpointBootstrap) {
  Pair pair(FarBehind());
  std::mt19937_64 rng(3);
  std::vector<std::string> jids;
  Work(pair, rng, 400, jids);
  pair.primary().Checkpoint();  // the segments it covers go
  Work(pair, rng, 100, jids);
  ASSERT_GT(pair.primary().wal().SegmentsFrom(core::Lsn(1)).front().first_lsn, core::Lsn(1));
  const absl::Status st = pair.StartAt(core::Lsn(1));
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
  EXPECT_NE(st.message().find("needs a checkpoint bootstrap"), std::string_view::npos) << st;
  EXPECT_EQ(pair.primary().wal().pins(), 0u);
  // The stream ended: nothing is sent.
  EXPECT_TRUE(absl::IsOutOfRange(pair.sender().Pump()));
  EXPECT_TRUE(pair.standby_inbox().empty());
}

TEST(ReplicationCatchUp, AFailedReadOfTheFilesEndsTheStream) {
  Pair pair(FarBehind());
  std::mt19937_64 rng(5);
  std::vector<std::string> jids;
  Work(pair, rng, 400, jids);
  pair.primary_storage().set_faults({.read_error = 1});
  ASSERT_TRUE(pair.StartAt(core::Lsn(1)).ok());  // the first read is not done yet
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("catching up from the log's files"), std::string_view::npos) << st;
  EXPECT_NE(st.message().find("injected I/O error"), std::string_view::npos) << st;
  EXPECT_FALSE(pair.sender().catching_up());
  EXPECT_EQ(pair.primary().wal().pins(), 0u);
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(0));
  EXPECT_EQ(pair.sender().Pump(), st);  // it stays ended
  // The primary itself is unharmed: it goes on logging.
  pair.primary_storage().set_faults({});
  pair.primary().Push("after");
  pair.primary().Flush();
  EXPECT_FALSE(pair.primary().wal().failed());
}

}  // namespace
}  // namespace werk::testing
