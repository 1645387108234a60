// wal::TruncateAfter (docs/wal-format.md, "Cutting the log"): after a cut,
// recovery gives exactly the records up to keep_through and the state of a
// replay of only those, and the writer continues at keep_through + 1; the
// refusals change nothing; a dry run writes nothing. Crashes during the cut
// are in truncate_crash_test.cc.

#include "wal/truncate.h"

#include <gtest/gtest.h>

#include "tests/wal/truncate_log.h"

namespace werk::wal::truncate_test {
namespace {

TEST(TruncateAfter, InsideAWriteInTheMiddleOfASegment) {
  Log log;
  log.Build(120);
  const auto segs = log.Segments();
  ASSERT_GE(segs.size(), 4u);
  // Writes begin at 1, 4, 7, ...: first + 4 is the middle record of a write.
  const uint64_t keep = segs[1].second + 4;
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.cut_segment, SegmentName(segs[1].first));
  EXPECT_GE(r.segments_removed.size(), segs.size() - 2) << "every later segment and the spare";
  EXPECT_EQ(log.Segments().size(), 2u);
}

TEST(TruncateAfter, AtTheEndOfAWrite) {
  Log log;
  log.Build(120);
  const auto segs = log.Segments();
  const uint64_t keep = segs[2].second + 5;
  const std::string before = *log.storage.ReadAll(SegmentName(segs[2].first));
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.cut_segment, SegmentName(segs[2].first));
  // The cut begins at the marker of the write after keep_through.
  SegmentHeader h;
  ASSERT_EQ(DecodeSegmentHeader(before, &h), HeaderStatus::kOk);
  FrameHeader f;
  ASSERT_TRUE(DecodeFrameHeader(std::string_view(before).substr(r.cut_offset), &f, h.salt));
  EXPECT_EQ(f.type, uint16_t(RecordType::kWrite));
  EXPECT_EQ(f.lsn, keep + 1);
}

TEST(TruncateAfter, AtASegmentBoundaryRemovesTheSegmentWhole) {
  Log log;
  log.Build(120);
  const auto segs = log.Segments();
  const uint64_t keep = segs[2].second - 1;
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_TRUE(r.cut_segment.empty());
  ASSERT_FALSE(r.segments_removed.empty());
  EXPECT_EQ(r.segments_removed.back(), SegmentName(segs[2].first));
}

TEST(TruncateAfter, AcrossSeveralSegmentsWithEpochsInTheTail) {
  Log log;
  log.Build(150, 3, 100);
  const auto segs = log.Segments();
  ASSERT_GE(segs.size(), 5u);
  const uint64_t keep = segs[0].second + 7;
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.epochs_dropped, (std::vector<core::Epoch>{core::Epoch(1), core::Epoch(2)}));
  EXPECT_GE(r.segments_removed.size(), segs.size() - 1);
  EXPECT_EQ(log.Segments().size(), 1u);
}

TEST(TruncateAfter, OnlyTheNewEpochDropped) {
  Log log;
  log.Build(60, 3, 41);
  const TruncateReport r = CutAndCheck(log, 40);
  EXPECT_EQ(r.epochs_dropped, std::vector<core::Epoch>{core::Epoch(2)});
}

TEST(TruncateAfter, EverythingLeavesAnEmptyLog) {
  Log log;
  log.Build(40);
  const auto segs = log.Segments();
  auto r = TruncateAfter(log.storage, core::Lsn(0), CutOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cut_segment.empty());
  EXPECT_EQ(r->records_dropped, 40u);
  EXPECT_TRUE(log.Segments().empty());
  EXPECT_EQ(ExpectPrefix(log, true), 0u);
}

// The cut segment holds no record to keep, and the segments before it end
// below the checkpoint that covers them: all go, the checkpoint stays alone.
TEST(TruncateAfter, AtTheCheckpointLeavesTheCheckpointAlone) {
  Log log;
  log.Build(150);
  const auto segs = log.Segments();
  ASSERT_GE(segs.size(), 4u);
  const uint64_t ckpt = segs[2].second - 1;
  log.PutCheckpoint(ckpt);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[1].first)).ok());  // covered, released first
  auto r = TruncateAfter(log.storage, core::Lsn(ckpt), CutOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->start_lsn.value(), ckpt);
  EXPECT_EQ(r->segments_removed.back(), SegmentName(segs[2].first));
  EXPECT_TRUE(log.Segments().empty());
  EXPECT_EQ(ExpectPrefix(log, true), ckpt);
}

TEST(TruncateAfter, KeepingTheLastRecordWritesNothing) {
  Log log;
  log.Build(50);
  const auto before = log.Files();
  auto r = TruncateAfter(log.storage, core::Lsn(50), CutOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->records_dropped, 0u);
  EXPECT_TRUE(r->notes.empty());
  EXPECT_EQ(log.Files(), before);
  EXPECT_EQ(ExpectPrefix(log, true), 50u);
}

TEST(TruncateAfter, PastTheEndOfTheLogIsRefused) {
  Log log;
  log.Build(50);
  const auto before = log.Files();
  auto r = TruncateAfter(log.storage, core::Lsn(51), CutOptions());
  ASSERT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(std::string(r.status().message()).find("ends at LSN 50"), std::string::npos)
      << r.status();
  EXPECT_EQ(log.Files(), before);
}

TEST(TruncateAfter, DryRunCountsAndWritesNothing) {
  Log log;
  log.Build(120);
  const auto segs = log.Segments();
  const uint64_t keep = segs[1].second + 4;
  const auto before = log.Files();
  TruncateOptions o = CutOptions();
  o.dry_run = true;
  auto dry = TruncateAfter(log.storage, core::Lsn(keep), o);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(log.Files(), before);
  EXPECT_TRUE(dry->dry_run);
  ASSERT_FALSE(dry->notes.empty());
  EXPECT_EQ(dry->notes[0].rfind("would remove ", 0), 0u) << dry->notes[0];
  auto real = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_EQ(dry->records_dropped, real->records_dropped);
  EXPECT_EQ(dry->bytes_dropped, real->bytes_dropped);
  EXPECT_EQ(dry->first_dropped, real->first_dropped);
  EXPECT_EQ(dry->last_dropped, real->last_dropped);
  EXPECT_EQ(dry->segments_removed, real->segments_removed);
  EXPECT_EQ(dry->cut_offset, real->cut_offset);
  EXPECT_NE(log.Files(), before);
}

TEST(TruncateAfter, AgainOnTheCutLogIsANoOp) {
  Log log;
  log.Build(90);
  const uint64_t keep = log.Segments()[1].second + 1;
  ASSERT_TRUE(TruncateAfter(log.storage, core::Lsn(keep), CutOptions()).ok());
  const auto after = log.Files();
  auto again = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->records_dropped, 0u);
  EXPECT_EQ(log.Files(), after);
}

// A marker alone after keep_through vouches only for kept records: with
// nothing else after it there is nothing to cut; before more records, the
// cut begins at it.
TEST(TruncateAfter, IdleMarkersAroundTheCut) {
  Log log;
  log.Build(60, 3, 0, {31, 60});
  const auto before = log.Files();
  auto none = TruncateAfter(log.storage, core::Lsn(60), CutOptions());
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->records_dropped, 0u);
  EXPECT_EQ(log.Files(), before);
  const TruncateReport r = CutAndCheck(log, 31);
  SegmentHeader h;
  const std::string data = before.at(r.cut_segment);
  ASSERT_EQ(DecodeSegmentHeader(data, &h), HeaderStatus::kOk);
  FrameHeader f;
  ASSERT_TRUE(DecodeFrameHeader(std::string_view(data).substr(r.cut_offset), &f, h.salt));
  EXPECT_EQ(f.type, uint16_t(RecordType::kWrite));
  EXPECT_EQ(f.lsn, 32u);
  EXPECT_EQ(f.body_bytes + kFrameHeaderBytes, kWriteMarkerFrameBytes);
}

// The checkpointer's own checkpoints, and segments reused from recycled
// files: stale bytes of an earlier use after their records (older segments
// and the cut one) neither stop the reading nor survive as frames.
TEST(TruncateAfter, OnRecycledSegmentsAfterCheckpoints) {
  Log log;
  log.Build(320, 3, 0, {}, {60, 150});
  bool reused = false;
  for (const auto& [id, first] : log.Segments()) {
    const std::string data = *log.storage.ReadAll(SegmentName(id));
    SegmentHeader h;
    ASSERT_EQ(DecodeSegmentHeader(data, &h), HeaderStatus::kOk);
    LogReader::Options o;
    o.expected_lsn = core::Lsn(first);
    o.salt = h.salt;
    o.newest = true;
    o.write_markers = true;
    LogReader reader(data, o);
    Frame f;
    while (reader.Next(&f) == ReadOutcome::kRecord) {
    }
    reused = reused || LastNonZero(data) > reader.offset();
  }
  EXPECT_TRUE(reused) << "a segment holds stale bytes of an earlier use";
  const uint64_t keep = 230;
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.start_lsn.value(), 150u);
}

// --- checkpoints -------------------------------------------------------------

TEST(TruncateAfter, CheckpointBelowIsKept) {
  Log log;
  log.Build(150);
  const auto segs = log.Segments();
  ASSERT_GE(segs.size(), 5u);
  const uint64_t ckpt = segs[2].second + 2;
  log.PutCheckpoint(ckpt);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[0].first)).ok());  // covered, released
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[1].first)).ok());
  const uint64_t keep = segs[3].second + 4;
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.start_lsn.value(), ckpt);
  EXPECT_TRUE(r.checkpoints_removed.empty());
  EXPECT_TRUE(log.storage.Exists(CheckpointName(ckpt)));
}

TEST(TruncateAfter, TheOnlyCheckpointPastTheCutIsRefused) {
  Log log;
  log.Build(150);
  const auto segs = log.Segments();
  const uint64_t keep = segs[2].second + 4;
  log.PutCheckpoint(keep + 5);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[0].first)).ok());  // covered, released
  const auto before = log.Files();
  auto r = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("checkpoint is at LSN " + std::to_string(keep + 5)), std::string::npos) << msg;
  EXPECT_NE(msg.find("starts at LSN " + std::to_string(segs[1].second)), std::string::npos) << msg;
  EXPECT_NE(msg.find("bootstrap"), std::string::npos) << msg;
  EXPECT_EQ(log.Files(), before);
}

// A log that still reaches LSN 1 is a consistent start of its own.
TEST(TruncateAfter, CheckpointPastTheCutGoesWhenTheLogReachesLsnOne) {
  Log log;
  log.Build(120);
  const uint64_t keep = log.Segments()[2].second + 4;
  log.PutCheckpoint(keep + 5);
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.start_lsn.value(), 0u);
  EXPECT_EQ(r.checkpoints_removed, std::vector<std::string>{CheckpointName(keep + 5)});
}

TEST(TruncateAfter, CheckpointsPastTheCutGoAndTheOlderOneIsTheStart) {
  Log log;
  log.Build(150);
  const auto segs = log.Segments();
  const uint64_t base = segs[1].second + 1;
  const uint64_t keep = segs[2].second + 4;
  log.PutCheckpoint(base);
  log.PutCheckpoint(keep + 3);
  log.PutCheckpoint(keep + 9);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[0].first)).ok());  // covered by base
  const TruncateReport r = CutAndCheck(log, keep);
  EXPECT_EQ(r.start_lsn.value(), base);
  EXPECT_EQ(r.checkpoints_removed,
            (std::vector<std::string>{CheckpointName(keep + 9), CheckpointName(keep + 3)}));
  EXPECT_TRUE(log.storage.Exists(CheckpointName(base)));
}

TEST(TruncateAfter, AnOlderCheckpointTheLogNoLongerReachesIsRefused) {
  Log log;
  log.Build(150);
  const auto segs = log.Segments();
  const uint64_t keep = segs[3].second + 4;
  log.PutCheckpoint(segs[0].second + 1);
  log.PutCheckpoint(keep + 3);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[0].first)).ok());  // released under the newer one
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[1].first)).ok());
  const auto before = log.Files();
  auto r = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("no consistent start"), std::string::npos);
  EXPECT_EQ(log.Files(), before);
}

// A checkpoint's release of the segments it covers, cut short by a crash:
// one segment in the middle is gone, the ones around it are still there.
// Recovery accepts that log (it starts from the checkpoint); cutting it
// before the checkpoint leaves no consistent start, which is a bootstrap,
// not corruption. (Found by the replicated crash simulation.)
TEST(TruncateAfter, AHoleLeftByAnInterruptedReleaseIsRefusedAsNeedingABootstrap) {
  Log log;
  log.Build(150);
  const auto segs = log.Segments();
  ASSERT_GE(segs.size(), 4u);
  const uint64_t keep = segs[2].second + 4;
  log.PutCheckpoint(segs[3].second + 1);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[1].first)).ok());  // released before the crash
  {
    LogFixture f(&log.storage, FixtureOptions());
    ASSERT_TRUE(f.Open().ok()) << "recovery accepts the log";
  }
  const auto before = log.Files();
  auto r = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("no consistent start"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bootstrap"), std::string::npos) << msg;
  EXPECT_EQ(log.Files(), before);
}

// The spare after the last segment as a crash can leave it: a reused file
// whose new header write was torn (neither zero nor its earlier use's
// header), with that use's stale bytes after it. Recovery keeps it as the
// spare; the cut, run after recovery (a rejoin's), must accept what
// recovery left. (Found by the replicated crash simulation.)
TEST(TruncateAfter, AfterRecoveryKeptASpareWithATornHeader) {
  Log log;
  log.Build(120);
  const auto segs = log.Segments();
  std::string spare(64 << 10, '\x5a');
  for (size_t i = 0; i < kSegmentHeaderBytes; i += 3) spare[i] = char(i);
  log.storage.Put(SegmentName(segs.back().first + 1), spare);
  {
    LogFixture f(&log.storage, FixtureOptions());
    ASSERT_TRUE(f.Open().ok());
    EXPECT_EQ(f.result().last_lsn, core::Lsn(120));
  }
  CutAndCheck(log, segs[1].second + 4);
}

}  // namespace
}  // namespace werk::wal::truncate_test
