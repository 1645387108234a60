// The Wal's group commit, rotation, failure handling and checkpoints, on
// in-memory storage whose I/O completes when the test says so.

#include "wal/wal.h"

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/wal/log_fixture.h"

namespace werk::testing {
namespace {

TEST(Wal, GroupCommitPipelinesBatchesAndDurabilityMovesInOrder) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 1 << 20});
  ASSERT_TRUE(log.Open().ok());
  storage.RunPending();  // the first spare segment
  for (int i = 0; i < 50; ++i) log.Push("job-" + std::to_string(1000 + i));
  EXPECT_EQ(log.wal().appended_lsn().value(), 50u);
  EXPECT_EQ(log.wal().durable_lsn().value(), 0u);
  const uint64_t writes_before = storage.writes();
  log.wal().Commit();
  EXPECT_EQ(storage.writes(), writes_before + 1);  // one write+sync for 50 records
  // While it is in flight the next batch fills, and is written alongside.
  for (int i = 0; i < 10; ++i) log.Push("late-" + std::to_string(1000 + i));
  log.wal().Commit();
  EXPECT_EQ(storage.writes(), writes_before + 2);
  // Two writes in flight is the limit: a third batch waits.
  for (int i = 0; i < 5; ++i) log.Push("later-" + std::to_string(1000 + i));
  log.wal().Commit();
  EXPECT_EQ(storage.writes(), writes_before + 2);
  EXPECT_EQ(log.wal().durable_lsn().value(), 0u);
  // The second write completes first: nothing is durable until the first is.
  storage.set_shuffle(false);
  std::vector<uint64_t> seen;
  while (storage.pending() > 0) {
    storage.RunPending(1);
    seen.push_back(log.wal().durable_lsn().value());
  }
  log.wal().Commit();
  storage.RunPending();
  EXPECT_EQ(log.wal().durable_lsn().value(), 65u);
  EXPECT_EQ(storage.writes(), writes_before + 3);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
  EXPECT_FALSE(log.wal().commit_pending());
}

TEST(Wal, OutOfOrderCompletionNeverSkipsAhead) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    MemStorage storage(seed);
    storage.set_shuffle(true);
    LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 256});
    ASSERT_TRUE(log.Open().ok());
    std::vector<uint64_t> batch_ends;
    for (int i = 0; i < 200; ++i) {
      log.Push("job-" + std::to_string(10000 + i));
      if (i % 3 == 0) log.wal().Commit();
      const uint64_t before = log.wal().durable_lsn().value();
      storage.RunPending(1);
      // Durability only moves forward, and never past an unwritten record.
      ASSERT_GE(log.wal().durable_lsn().value(), before);
      ASSERT_LE(log.wal().durable_lsn().value(), log.wal().appended_lsn().value());
    }
    log.Flush();
    EXPECT_EQ(log.wal().durable_lsn().value(), 200u);
  }
}

TEST(Wal, RotatesSegmentsAndRecoversAcrossThem) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 300; ++i) {
    log.Push("job-" + std::to_string(10000 + i));
    if (i % 7 == 0) log.Flush();
  }
  log.Flush();
  EXPECT_GT(log.wal().segment_count(), 5u);
  const uint64_t hash = log.sm().StateHash();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().records_replayed, 300u);
  EXPECT_EQ(log.sm().StateHash(), hash);
  EXPECT_EQ(log.divergent(), 0u);
  // And it keeps appending after the restart.
  log.Push("after-restart");
  log.Flush();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_NE(log.sm().FindJob("after-restart"), nullptr);
}

TEST(Wal, FailedSyncIsStickyAndNothingLaterBecomesDurable) {
  MemStorage storage;
  LogFixture log(&storage);
  ASSERT_TRUE(log.Open().ok());
  log.Push("job-00001");
  log.Flush();
  EXPECT_EQ(log.wal().durable_lsn().value(), 1u);
  storage.set_faults({.sync_error = 1.0});
  log.Push("job-00002");
  log.Flush();
  EXPECT_TRUE(log.wal().failed());
  EXPECT_EQ(log.wal().durable_lsn().value(), 1u);
  storage.set_faults({});
  log.Push("job-00003");
  log.Flush();  // never retried
  EXPECT_EQ(log.wal().durable_lsn().value(), 1u);
  EXPECT_NE(log.wal().failure().find("failed"), std::string::npos);
}

TEST(Wal, FailedWriteIsSticky) {
  MemStorage storage;
  LogFixture log(&storage);
  ASSERT_TRUE(log.Open().ok());
  storage.RunPending();
  storage.set_faults({.write_error = 1.0});
  log.Push("job-00001");
  log.Flush();
  EXPECT_TRUE(log.wal().failed());
  EXPECT_EQ(log.wal().durable_lsn().value(), 0u);
}

TEST(Wal, CheckpointBoundsTheLogAndRestoresTheSameState) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 50; ++i) {
      const std::string jid = "job-" + std::to_string(round * 100 + i + 10000);
      log.Push(jid);
      if (i % 2) {
        log.Commit(core::Mutation::Reserve(log.clock().WallNow(), jid, "w", log.clock().WallNow() + 60'000'000'000));
        if (i % 3) log.Commit(core::Mutation::Ack(log.clock().WallNow(), jid));
      }
    }
    log.Flush();
    log.Checkpoint();
  }
  EXPECT_GE(log.checkpointer().stats().taken, 20u);
  // Old segments and checkpoints are gone: only a handful of files remain.
  size_t segments = 0, checkpoints = 0;
  for (const auto& name : storage.List()) {
    uint64_t v;
    segments += wal::ParseSegmentName(name, &v);
    checkpoints += wal::ParseCheckpointName(name, &v);
  }
  EXPECT_LE(segments, 3u);
  EXPECT_EQ(checkpoints, 1u);
  const uint64_t hash = log.sm().StateHash();
  const size_t jobs = log.sm().job_count();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_GT(log.result().checkpoint_items, 0u);
  EXPECT_EQ(log.sm().job_count(), jobs);
  EXPECT_EQ(log.sm().StateHash(), hash);
}

// Rounds of ten pushes, each made durable and covered by a checkpoint.
void PushAndCheckpoint(LogFixture& log, int from_round, int rounds) {
  for (int round = from_round; round < from_round + rounds; ++round) {
    for (int i = 0; i < 10; ++i) log.Push("job-" + std::to_string(10000 + round * 100 + i));
    log.Flush();
    log.Checkpoint();
  }
}

TEST(Wal, CoveredSegmentsAreKeptForReuseUpToTheLimit) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int round = 0; round < 30; ++round) {
    PushAndCheckpoint(log, round, 1);
    size_t free_files = 0;
    for (const auto& name : storage.List()) {
      uint64_t v;
      free_files += wal::ParseRecycledName(name, &v);
    }
    EXPECT_LE(free_files, wal::kRecycledSegmentsMax);
    EXPECT_EQ(free_files, log.wal().recycled_kept());
  }
  // Every new segment after the first checkpoints came from the pool.
  EXPECT_GE(log.wal().segments_recycled(), 10u);
  // A restart finds the pool and keeps using it.
  const size_t jobs = log.sm().job_count();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.sm().job_count(), jobs);
  EXPECT_EQ(log.result().position.recycled.size(), 0u);  // moved into the Wal
  EXPECT_GT(log.wal().recycled_kept(), 0u);
  for (int i = 0; i < 100; ++i) log.Push("job-after-" + std::to_string(i));
  log.Flush();
  EXPECT_GT(log.wal().segments_recycled(), 0u);
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.sm().job_count(), jobs + 100);
}

size_t FreeFiles(MemStorage& storage) {
  size_t n = 0;
  for (const auto& name : storage.List()) {
    uint64_t v;
    n += wal::ParseRecycledName(name, &v);
  }
  return n;
}

// A busy log keeps as many covered segments as it is told (what a
// checkpoint interval writes); once quiet for long enough it gives back all
// but kRecycledSegmentsMax, and not before.
TEST(Wal, ABusyLogKeepsMoreForReuseAndAQuietOneGivesThemBack) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048,
                            .batch_bytes_max = 512,
                            .recycled_segments_max = 6,
                            .recycled_trim_idle_ns = 60'000'000'000});
  ASSERT_TRUE(log.Open().ok());
  // Rounds of enough records to fill several segments between checkpoints.
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 60; ++i) log.Push("job-" + std::to_string(10000 + round * 100 + i));
    log.Flush();
    log.Checkpoint();
    EXPECT_LE(FreeFiles(storage), 6u);
    EXPECT_EQ(FreeFiles(storage), log.wal().recycled_kept());
  }
  ASSERT_GT(log.wal().recycled_kept(), wal::kRecycledSegmentsMax);
  const size_t kept = log.wal().recycled_kept();
  // Quiet, but not for long enough: nothing is given back.
  log.clock().Advance(59'000'000'000);
  EXPECT_GT(log.wal().trim_wait_ns(), 0);
  log.wal().OnTurn();
  log.Flush();
  EXPECT_EQ(log.wal().recycled_kept(), kept);
  // The deadline is what the loop sleeps for at most.
  EXPECT_LE(log.wal().WaitBudgetNs(), 1'000'000'000);
  log.clock().Advance(1'000'000'000);
  EXPECT_EQ(log.wal().trim_wait_ns(), 0);
  log.wal().OnTurn();
  log.Flush();
  EXPECT_EQ(log.wal().recycled_kept(), wal::kRecycledSegmentsMax);
  EXPECT_EQ(FreeFiles(storage), wal::kRecycledSegmentsMax);
  EXPECT_EQ(log.wal().trim_wait_ns(), -1);
  // Busy again, the log still writes and recovers.
  const size_t jobs = log.sm().job_count();
  for (int i = 0; i < 100; ++i) log.Push("job-after-" + std::to_string(i));
  log.Flush();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.sm().job_count(), jobs + 100);
}

TEST(Wal, AKeptSegmentRemovedByHandIsReplacedByANewOne) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  PushAndCheckpoint(log, 0, 6);
  ASSERT_GT(log.wal().recycled_kept(), 0u);
  for (const auto& name : storage.List()) {
    uint64_t v;
    if (wal::ParseRecycledName(name, &v)) {
      ASSERT_TRUE(storage.Remove(name).ok());
    }
  }
  for (int i = 0; i < 60; ++i) log.Push("job-later-" + std::to_string(i));
  log.Flush();
  EXPECT_FALSE(log.wal().failed());
  EXPECT_EQ(log.wal().durable_lsn(), log.wal().appended_lsn());
  const size_t jobs = log.sm().job_count();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.sm().job_count(), jobs);
}


// The epochs of the log's segments, oldest first (headers that decode).
std::vector<uint64_t> SegmentEpochs(MemStorage& storage) {
  std::map<uint64_t, uint64_t> by_id;
  for (const auto& name : storage.List()) {
    uint64_t id;
    if (!wal::ParseSegmentName(name, &id)) continue;
    wal::SegmentHeader h;
    if (wal::DecodeSegmentHeader(*storage.Durable(name), &h) == wal::HeaderStatus::kOk)
      by_id[id] = h.epoch;
  }
  std::vector<uint64_t> out;
  for (const auto& [id, epoch] : by_id) out.push_back(epoch);
  return out;
}

TEST(Wal, ANewEpochGoesIntoLaterFramesMarkersAndSegmentHeaders) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.wal().epoch(), core::Epoch(1));
  for (int i = 0; i < 20; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.Flush();
  for (int i = 20; i < 23; ++i) log.Push("job-" + std::to_string(10000 + i));
  // In the middle of an open batch: the records already in it keep epoch 1,
  // the rest go into a new batch (a write's marker must not claim a newer
  // epoch than its frames: recovery refuses epochs that go down, R10).
  log.wal().SetEpoch(core::Epoch(3));
  EXPECT_EQ(log.wal().epoch(), core::Epoch(3));
  for (int i = 23; i < 80; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.Flush();
  const std::vector<uint64_t> epochs = SegmentEpochs(storage);
  ASSERT_GE(epochs.size(), 3u);
  EXPECT_EQ(epochs.front(), 1u);
  EXPECT_EQ(epochs.back(), 3u);
  const uint64_t hash = log.sm().StateHash();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().records_replayed, 80u);
  EXPECT_EQ(log.result().epoch, core::Epoch(3));
  EXPECT_EQ(log.sm().StateHash(), hash);
  EXPECT_EQ(log.divergent(), 0u);
  EXPECT_EQ(log.wal().epoch(), core::Epoch(3));
}

TEST(WalDeathTest, SetEpochNeverLowersIt) {
  MemStorage storage;
  LogFixture log(&storage);
  ASSERT_TRUE(log.Open().ok());
  log.wal().SetEpoch(core::Epoch(4));
  log.wal().SetEpoch(core::Epoch(4));  // the same is fine
  EXPECT_DEATH(log.wal().SetEpoch(core::Epoch(3)), "");
}

TEST(Wal, ACheckpointKeepsTheEpochWhenNoRecordFollowsIt) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 60; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.Flush();
  // A crash between writing the checkpoint and removing what it covers
  // leaves those segments (all epoch 1) beside a checkpoint of epoch 5.
  std::map<std::string, std::string> before;
  for (const auto& name : storage.List()) {
    uint64_t id;
    if (wal::ParseSegmentName(name, &id)) before[name] = *storage.Durable(name);
  }
  log.wal().SetEpoch(core::Epoch(5));
  log.Checkpoint();
  ASSERT_EQ(log.checkpointer().stats().taken, 1u);
  const uint64_t hash = log.sm().StateHash();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().records_replayed, 0u);
  EXPECT_EQ(log.result().epoch, core::Epoch(5));
  EXPECT_EQ(log.sm().StateHash(), hash);

  for (const auto& [name, bytes] : before)
    if (!storage.Exists(name)) storage.Put(name, bytes);
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().epoch, core::Epoch(5));
  EXPECT_EQ(log.sm().StateHash(), hash);
  // And the next records carry it.
  log.Push("after");
  log.Flush();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().epoch, core::Epoch(5));
  EXPECT_NE(log.sm().FindJob("after"), nullptr);
}

// A promotion as the log shows it: the epoch moves (frames), then the epoch
// record (the history) is the first record of the new epoch. Replay and a
// checkpoint both give it back.
// An epoch change with no record after it, then a marker written alone:
// the restarted log continues in that epoch (a later write in the older
// one would be refused by the next recovery, R10).
TEST(Wal, AnEpochOnlyAnIdleMarkerCarriesSurvivesARestart) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 4096});
  ASSERT_TRUE(log.Open().ok());
  log.Push("job-1");
  log.Flush();
  log.wal().SetEpoch(core::Epoch(3));
  log.clock().Advance(wal::kIdleMarkerNs + 1);
  log.wal().WriteIdleMarkerIfDue();
  log.Flush();
  ASSERT_EQ(log.wal().idle_markers(), 1u);
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().epoch, core::Epoch(3));
  log.Push("job-2");
  log.Flush();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().epoch, core::Epoch(3));
  EXPECT_NE(log.sm().FindJob("job-2"), nullptr);
}

// Records after a checkpoint carry its epoch or a later one: an older tail
// (a deposed primary's, copied in by hand) is refused, not replayed.
TEST(Wal, RecordsOfAnOlderEpochAfterACheckpointAreRefused) {
  MemStorage old_storage;
  LogFixture old_log(&old_storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 4096});
  ASSERT_TRUE(old_log.Open().ok());
  for (int i = 0; i < 5; ++i) old_log.Push("job-" + std::to_string(i));
  old_log.Flush();

  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 4096});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 3; ++i) log.Push("job-" + std::to_string(i));
  log.Flush();
  log.wal().SetEpoch(core::Epoch(2));
  log.Checkpoint();
  // The checkpoint (LSN 3, epoch 2) beside the epoch-1 log of LSN 1..5.
  std::string checkpoint;
  for (const auto& name : storage.List()) {
    uint64_t lsn;
    if (wal::ParseCheckpointName(name, &lsn)) checkpoint = name;
  }
  ASSERT_FALSE(checkpoint.empty());
  old_storage.Put(checkpoint, *storage.Durable(checkpoint));
  LogFixture mixed(&old_storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 4096});
  const absl::Status st = mixed.Open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("follows a checkpoint of epoch 2"), std::string_view::npos) << st;
}

// An epoch record names its own LSN and epoch; one that names others is
// refused by recovery (the history would point at the wrong place).
TEST(Wal, AnEpochRecordInTheWrongPlaceIsRefused) {
  MemStorage storage;
  LogFixture log(&storage);
  ASSERT_TRUE(log.Open().ok());
  log.Push("job-1");
  log.wal().SetEpoch(core::Epoch(2));
  log.Commit(core::Mutation::NewEpoch(log.clock().WallNow(), {2, 7, "x"}));  // at LSN 2
  log.Flush();
  const absl::Status st = log.Open();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("names LSN 7"), std::string_view::npos) << st;
}

TEST(Wal, AnEpochRecordIsReplayedAndCheckpointed) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 10; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.wal().SetEpoch(core::Epoch(2));
  const uint64_t first = log.wal().appended_lsn().value() + 1;
  ASSERT_EQ(log.Commit(core::Mutation::NewEpoch(log.clock().WallNow(),
                                                {2, first, "127.0.0.1:7420"})),
            first);
  log.Push("job-after");
  log.Flush();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.divergent(), 0u);
  EXPECT_EQ(log.result().epoch, core::Epoch(2));
  ASSERT_EQ(log.sm().epochs().entries().size(), 1u);
  EXPECT_EQ(log.sm().epochs().ForkAfter(core::Epoch(1)), core::Lsn(first));
  log.Checkpoint();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().records_replayed, 0u);
  EXPECT_EQ(log.result().epoch, core::Epoch(2));
  EXPECT_EQ(log.sm().epochs().ForkAfter(core::Epoch(1)), core::Lsn(first));
  EXPECT_EQ(log.sm().epochs().entries().front().node, "127.0.0.1:7420");
}

}  // namespace
}  // namespace werk::testing
