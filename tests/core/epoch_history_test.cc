// Where two logs part, from their epoch histories (core/epoch_history.h):
// a primary's answer to a standby's HELLO. Each case is a failover story.

#include "core/epoch_history.h"

#include <gtest/gtest.h>

#include <vector>

namespace werk::core {
namespace {

EpochStart RunOf(uint64_t epoch, uint64_t first_lsn, uint64_t id) {
  return {Epoch(epoch), Lsn(first_lsn), "", id};
}

EpochHistory Of(const std::vector<EpochStart>& runs) {
  EpochHistory h;
  for (const EpochStart& r : runs) EXPECT_TRUE(h.Begin(r).ok());
  return h;
}

TEST(EpochHistory, ARunOfTheSameEpochNeedsAnIdOtherThanTheLastOnes) {
  EpochHistory h;
  ASSERT_TRUE(h.Begin(RunOf(1, 1, 0xa)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(h.Begin(RunOf(1, 5, 0xa))));  // the same run again
  EXPECT_TRUE(absl::IsFailedPrecondition(h.Begin(RunOf(1, 5, 0))));    // no id: cannot tell
  EXPECT_TRUE(absl::IsFailedPrecondition(h.Begin(RunOf(1, 1, 0xb))));  // not after the last
  ASSERT_TRUE(h.Begin(RunOf(1, 5, 0xb)).ok());                         // a restart
  ASSERT_TRUE(h.Begin(RunOf(2, 9, 0xc)).ok());                         // a promotion
  EXPECT_TRUE(absl::IsFailedPrecondition(h.Begin(RunOf(1, 20, 0xd))));  // never back
  EXPECT_EQ(h.current(), Epoch(2));
  EXPECT_TRUE(absl::IsInvalidArgument(EpochHistory().Begin(RunOf(0, 1, 1))));
  EXPECT_EQ(EpochRunName(0xab), "00000000000000ab");
}

TEST(EpochHistory, AStandbyBehindOnTheSameRunsIsAPrefix) {
  const EpochHistory primary = Of({RunOf(1, 1, 0xa), RunOf(1, 100, 0xb)});
  // It has run a up to LSN 80 and nothing of run b: a prefix.
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(1, 1, 0xa)}, false, Lsn(80)), std::nullopt);
  // It has both runs, and is behind in b.
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(1, 1, 0xa), RunOf(1, 100, 0xb)}, false, Lsn(150)),
            std::nullopt);
  // An empty standby, or one with records from before any epoch record
  // (a primary that ran without a standby port until LSN 49).
  EXPECT_EQ(primary.ForkOf({}, false, Lsn(0)), std::nullopt);
  EXPECT_EQ(primary.ForkOf({}, false, Lsn(1)), Lsn(1));
  const EpochHistory later = Of({RunOf(1, 50, 0xa)});
  EXPECT_EQ(later.ForkOf({}, false, Lsn(49)), std::nullopt);
  EXPECT_EQ(later.ForkOf({}, false, Lsn(50)), Lsn(50));
}

TEST(EpochHistory, AStandbyWithTheTailARestartedPrimaryLostPartsWhereTheRestartBegan) {
  // Run a sent LSNs up to 120 before they were synced, crashed, and
  // recovered to 99: its restart (run b) writes other records from 100.
  const EpochHistory primary = Of({RunOf(1, 1, 0xa), RunOf(1, 100, 0xb)});
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(1, 1, 0xa)}, false, Lsn(120)), Lsn(100));
}

TEST(EpochHistory, ARestartedPrimaryAndAPromotedStandbyPartAtTheEarlierOfTheirRuns) {
  // P wrote run a to 200; its standby S got it to 150 and was promoted
  // (epoch 2 from 151). P, cut off, restarted at 201 (run b, epoch 1) and
  // now asks S to follow: it parts at 151 (S never had P's 151..200).
  const EpochHistory s = Of({RunOf(1, 1, 0xa), RunOf(2, 151, 0xc)});
  const std::vector p{RunOf(1, 1, 0xa), RunOf(1, 201, 0xb)};
  EXPECT_EQ(s.ForkOf(p, false, Lsn(230)), Lsn(151));
  // The same with a P that crashed before the promotion point's records
  // were synced: it restarted at 140, so it parts at 140.
  EXPECT_EQ(s.ForkOf(std::vector{RunOf(1, 1, 0xa), RunOf(1, 140, 0xb)}, false, Lsn(145)), Lsn(140));
  // And two servers that each took epoch 2 (numbers alone would call this
  // a prefix): the ids tell them apart.
  EXPECT_EQ(s.ForkOf(std::vector{RunOf(1, 1, 0xa), RunOf(2, 151, 0xd)}, false, Lsn(160)), Lsn(151));
}

TEST(EpochHistory, RunsWithoutIdsFromOlderLogsAreComparedByEpochAndLsn) {
  const EpochHistory primary = Of({RunOf(2, 10, 0), RunOf(5, 40, 0)});
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(2, 10, 0)}, false, Lsn(39)), std::nullopt);
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(2, 10, 0)}, false, Lsn(45)), Lsn(40));
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(3, 10, 0)}, false, Lsn(12)), Lsn(10));
}

TEST(EpochHistory, ATruncatedHistoryIsLinedUpByItsOldestEntry) {
  const EpochHistory primary = Of({RunOf(1, 1, 1), RunOf(1, 10, 2), RunOf(1, 20, 3), RunOf(2, 30, 4)});
  // The newest two of a standby that had all four runs but the last.
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(1, 10, 2), RunOf(1, 20, 3)}, true, Lsn(25)),
            std::nullopt);
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(1, 10, 2), RunOf(1, 20, 3)}, true, Lsn(31)), Lsn(30));
  // Its oldest sent entry is unknown here: nothing from there can be
  // compared.
  EXPECT_EQ(primary.ForkOf(std::vector{RunOf(1, 12, 9)}, true, Lsn(15)), Lsn(12));
}

}  // namespace
}  // namespace werk::core
