// The rejoin's decision (net/rejoin_decision.h) — discard a diverged tail
// or refuse — and the REJOIN file that carries a decided cut across the
// restart (net/rejoin.h).

#include "net/rejoin.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "net/promotion_marker.h"
#include "net/rejoin_decision.h"
#include "tests/support/temp_dir.h"

namespace werk::net {
namespace {

// Shard 1's log ends at LSN 140; the primary's diverged at 101.
DivergedTail Tail() {
  DivergedTail t;
  t.shard = 1;
  t.fork = core::Lsn(101);
  t.records = 40;
  t.first = core::Lsn(101);
  t.last = core::Lsn(140);
  return t;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RejoinDecision, ATailWrittenInSyncModeIsDiscardedWithoutTheFlag) {
  const RejoinDecision d = DecideRejoin(Tail(), /*discard_diverged=*/false);
  EXPECT_TRUE(d.discard);
  EXPECT_FALSE(d.possibly_acknowledged);
  EXPECT_TRUE(Has(d.message, "shard 1")) << d.message;
  EXPECT_TRUE(Has(d.message, "40 records (LSN 101..140)")) << d.message;
  EXPECT_TRUE(Has(d.message, "none was acknowledged")) << d.message;
}

TEST(RejoinDecision, AloneAtTheLogsEndRefusesNamingTheCountTheRangeAndTheFlag) {
  DivergedTail t = Tail();
  t.alone_since = core::Lsn(90);  // alone before the fork and still alone
  const RejoinDecision d = DecideRejoin(t, false);
  EXPECT_FALSE(d.discard);
  EXPECT_TRUE(d.possibly_acknowledged);
  EXPECT_TRUE(Has(d.message, "shard 1")) << d.message;
  EXPECT_TRUE(Has(d.message, "40 records (LSN 101..140)")) << d.message;
  EXPECT_TRUE(Has(d.message, "--discard-diverged")) << d.message;
  EXPECT_TRUE(Has(d.message, "since LSN 90")) << d.message;
}

TEST(RejoinDecision, AReplicationRecordInTheTailRefusesEvenWhenNoLongerAlone) {
  // Alone from before the fork until a standby caught up at LSN 120: the
  // records between may have been acknowledged alone.
  DivergedTail t = Tail();
  t.replication_record = core::Lsn(120);
  const RejoinDecision d = DecideRejoin(t, false);
  EXPECT_FALSE(d.discard);
  EXPECT_TRUE(d.possibly_acknowledged);
  EXPECT_TRUE(Has(d.message, "LSN 120")) << d.message;
}

TEST(RejoinDecision, TheFlagDiscardsWhatMayHaveBeenAcknowledgedAndSaysSo) {
  DivergedTail t = Tail();
  t.alone_since = core::Lsn(101);
  const RejoinDecision d = DecideRejoin(t, /*discard_diverged=*/true);
  EXPECT_TRUE(d.discard);
  EXPECT_TRUE(d.possibly_acknowledged);
  EXPECT_TRUE(Has(d.message, "--discard-diverged")) << d.message;
  EXPECT_TRUE(Has(d.message, "40 records (LSN 101..140)")) << d.message;
}

TEST(RejoinDecision, ACutTheLogCannotMakeIsRefusedWithOrWithoutTheFlag) {
  DivergedTail t = Tail();
  t.cut_refused = "cannot read the segment";
  for (bool flag : {false, true}) {
    const RejoinDecision d = DecideRejoin(t, flag);
    EXPECT_FALSE(d.discard);
    EXPECT_TRUE(Has(d.message, "cannot read the segment")) << d.message;
  }
}

TEST(RejoinDecision, ACutPastItsCheckpointBootstrapsOnlyWithTheFlag) {
  DivergedTail t = Tail();
  t.cut_refused = "the newest checkpoint is at LSN 130; bootstrap from the primary instead";
  t.needs_bootstrap = true;
  const RejoinDecision refused = DecideRejoin(t, false);
  EXPECT_FALSE(refused.discard);
  EXPECT_TRUE(Has(refused.message, "--discard-diverged")) << refused.message;
  EXPECT_TRUE(Has(refused.message, "only in that checkpoint")) << refused.message;
  const RejoinDecision d = DecideRejoin(t, true);
  EXPECT_TRUE(d.discard);
  EXPECT_TRUE(d.bootstrap);
  EXPECT_TRUE(d.possibly_acknowledged);
  EXPECT_TRUE(Has(d.message, "bootstrapping from the primary's checkpoint")) << d.message;
}

TEST(RejoinPlan, FormatsAndParsesBack) {
  RejoinPlan plan{"diverged-e2-1700000000",
                  {{0, core::Lsn(7), true},
                   {3, core::Lsn(1), false},
                   {4, core::Lsn(9), true, true}}};
  auto back = ParseRejoinPlan(FormatRejoinPlan(plan));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, plan);
}

TEST(RejoinPlan, RefusesDamagedText) {
  for (const char* text :
       {"", "werk rejoin 1\n", "werk rejoin 1\ncopy x\n",
        "werk rejoin 2\ncopy x\ncut 0 5 pending\n", "werk rejoin 1\ncopy ../x\ncut 0 5 pending\n",
        "werk rejoin 1\ncopy x\ncut 0 0 pending\n", "werk rejoin 1\ncopy x\ncut 0 5 maybe\n",
        "werk rejoin 1\ncopy x\ncut 0 5 pending 9\n"}) {
    EXPECT_FALSE(ParseRejoinPlan(text).ok()) << text;
  }
}

TEST(RejoinPlan, TheMarkerIsWrittenReadAndAbsentWithoutOne) {
  testing::TempDir dir;
  auto none = ReadRejoinMarker(dir.path());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  const RejoinPlan plan{"diverged-e3-1", {{1, core::Lsn(12), false}}};
  ASSERT_TRUE(WriteRejoinMarker(dir.path(), plan).ok());
  auto read = ReadRejoinMarker(dir.path());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, plan);
  EXPECT_FALSE(std::filesystem::exists(RejoinMarkerPath(dir.path()) + ".tmp"));
}

// A cut marked `bootstrap` empties the shard's log after the copy (and is
// re-runnable): the next start recovers an empty shard, which its primary
// bootstraps.
TEST(RejoinPlan, ABootstrapCutEmptiesTheShardAfterTheCopy) {
  testing::TempDir dir;
  const std::string shard = dir.path() + "/wal/shard-000";
  std::filesystem::create_directories(shard);
  std::ofstream(shard + "/checkpoint-00000000000000000130.ckpt") << "state";
  const RejoinPlan plan{"diverged-e3-1", {{0, core::Lsn(12), false, true}}};
  ASSERT_TRUE(WriteRejoinMarker(dir.path(), plan).ok());
  std::vector<std::string> notes;
  const absl::Status st = FinishPendingCuts(dir.path(), &notes);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_TRUE(std::filesystem::is_directory(shard));
  EXPECT_TRUE(std::filesystem::is_empty(shard));
  EXPECT_TRUE(std::filesystem::exists(
      dir.path() + "/diverged-e3-1/shard-000/checkpoint-00000000000000000130.ckpt"));
  EXPECT_FALSE(std::filesystem::exists(RejoinMarkerPath(dir.path())));
}

TEST(PromotionMarker, NamesItsEpoch) {
  EXPECT_EQ(PromotionMarkerEpoch("promoted to primary at epoch 3 on 2026-01-01T00:00:00Z; it was "
                                 "the standby of 127.0.0.1:7500"),
            std::optional<uint64_t>(3));
  EXPECT_EQ(PromotionMarkerEpoch("promoted to primary"), std::nullopt);
  EXPECT_EQ(PromotionMarkerEpoch("promoted to primary at epoch x"), std::nullopt);
}

}  // namespace
}  // namespace werk::net
