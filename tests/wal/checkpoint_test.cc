#include "wal/checkpoint.h"

#include <gtest/gtest.h>

#include "core/byte_codec.h"
#include "core/mutation.h"
#include "core/state_machine.h"
#include "tests/support/mem_storage.h"
#include "tests/wal/log_fixture.h"
#include "tests/wal/truncate_log.h"

namespace werk::wal {
namespace {

constexpr core::UnixNanos kT0 = 1'795'362'310LL * core::kNanosPerSecond;

core::JobSpec Spec(const std::string& jid, const std::string& queue = "default") {
  core::JobSpec s;
  s.jid = jid;
  s.jobtype = "T";
  s.queue = queue;
  s.args_json = "[1,2]";
  s.custom_json = "{\"k\":1}";
  s.created_at = "2026-11-22T00:00:00Z";
  s.retry = 3;
  return s;
}

TEST(Checkpoint, EveryJobStateRoundTrips) {
  core::StateMachine sm(kT0 / core::kNanosPerMilli);
  const core::UnixNanos s = core::kNanosPerSecond;
  (void)sm.Apply(core::Mutation::Push(kT0, Spec("queued-01", "a")));
  (void)sm.Apply(core::Mutation::Push(kT0, Spec("queued-02", "a")));
  (void)sm.Apply(core::Mutation::Push(kT0, Spec("queued-03", "b")));
  core::JobSpec later = Spec("sched-001");
  later.at = "x";
  later.at_ns = kT0 + 3600 * s;
  (void)sm.Apply(core::Mutation::Push(kT0, later));
  (void)sm.Apply(core::Mutation::Push(kT0, Spec("reserved1")));
  (void)sm.Apply(core::Mutation::Reserve(kT0, "reserved1", "w1", kT0 + 60 * s));
  (void)sm.Apply(core::Mutation::Push(kT0, Spec("retry-001")));
  (void)sm.Apply(core::Mutation::Reserve(kT0, "retry-001", "w1", kT0 + 60 * s));
  (void)sm.Apply(core::Mutation::Fail(kT0, core::DecideFailure(*sm.FindJob("retry-001"), kT0,
                                                         core::FailCause::kFail, "E", "m", {"bt"}, 3)));
  core::JobSpec dead = Spec("dead-0001");
  dead.retry = -1;
  (void)sm.Apply(core::Mutation::Push(kT0, dead));
  (void)sm.Apply(core::Mutation::Reserve(kT0, "dead-0001", "w1", kT0 + 60 * s));
  (void)sm.Apply(core::Mutation::Fail(kT0, core::DecideFailure(*sm.FindJob("dead-0001"), kT0,
                                                         core::FailCause::kFail, "E", "m", {}, 0)));
  (void)sm.Apply(core::Mutation::Queue(kT0, core::MutationType::kQueuePause, {{"b"}, false}));
  (void)sm.Apply(core::Mutation::Push(kT0, Spec("acked-001", "empty")));
  (void)sm.Apply(core::Mutation::Reserve(kT0, "acked-001", "w1", kT0 + 60 * s));
  (void)sm.Apply(core::Mutation::Ack(kT0, "acked-001"));
  (void)sm.Apply(core::Mutation::SetWorkerState(kT0, "w9", core::WorkerState::kQuiet));

  const std::string image = BuildCheckpoint(sm, 0, core::Lsn(42), core::Epoch(1), kT0);
  core::StateMachine back(kT0 / core::kNanosPerMilli);
  CheckpointHeader h;
  auto st = LoadCheckpoint(image, 0, &h, [&](core::SnapshotItemType t, std::string_view b) {
    return back.RestoreItem(t, b);
  });
  ASSERT_TRUE(st.ok()) << st;
  back.FinishRestore();
  EXPECT_EQ(h.version, kCheckpointFormatVersion);
  EXPECT_EQ(h.lsn, 42u);
  EXPECT_EQ(back.StateHash(), sm.StateHash());
  EXPECT_EQ(back.FindQueue("a")->Front()->jid(), "queued-01");  // FIFO order kept
  EXPECT_TRUE(back.FindQueue("b")->paused());
  EXPECT_NE(back.FindQueue("empty"), nullptr);  // empty queues are remembered
  EXPECT_EQ(back.worker_state("w9"), core::WorkerState::kQuiet);
  EXPECT_EQ(back.total_processed(), 3);
  // Restored timers fire: the reservation expires, the schedule comes due.
  std::vector<const core::Job*> due;
  back.DueJobs((kT0 + 3600 * s) / core::kNanosPerMilli, due, 100);
  EXPECT_EQ(due.size(), 3u);  // reservation, retry, schedule
}

// What a version 1 writer emitted: the counters item without the next queue
// position (queued jobs' keys are then read as item order).
class VersionOneSource final : public core::SnapshotSource {
 public:
  explicit VersionOneSource(const core::StateMachine& sm) : sm_(sm) {}
  void Snapshot(const core::SnapshotSink& sink) const override {
    std::string pos;
    core::ByteWriter(pos).U64(sm_.next_queue_pos());
    sm_.Snapshot([&](core::SnapshotItemType t, std::string_view b) {
      sink(t, t == core::SnapshotItemType::kCounters ? b.substr(0, b.size() - pos.size()) : b);
    });
  }
  size_t snapshot_bytes_hint() const override { return sm_.snapshot_bytes_hint(); }

 private:
  const core::StateMachine& sm_;
};

TEST(Checkpoint, VersionOneImagesStillLoad) {
  core::StateMachine sm(kT0 / core::kNanosPerMilli);
  for (const char* jid : {"job-0001", "job-0002", "job-0003"})
    (void)sm.Apply(core::Mutation::Push(kT0, Spec(jid)));
  (void)sm.Apply(core::Mutation::Reserve(kT0, "job-0001", "w1", kT0 + core::kNanosPerSecond));
  (void)sm.Apply(core::Mutation::Fail(kT0, core::DecideFailure(*sm.FindJob("job-0001"), kT0,
                                                         core::FailCause::kFail, "E", "m", {}, 0)));
  (void)sm.Apply(core::Mutation::EnqueueDue(kT0, {"job-0001"}));  // back of the queue
  std::string image = BuildCheckpoint(VersionOneSource(sm), 0, core::Lsn(9), core::Epoch(1), kT0);
  CheckpointHeader h;
  ASSERT_EQ(DecodeCheckpointHeader(image, &h), HeaderStatus::kOk);
  EXPECT_EQ(h.version, kCheckpointFormatVersion);
  h.version = 1;
  EncodeCheckpointHeader(h, image.data());
  core::StateMachine back(kT0 / core::kNanosPerMilli);
  auto st = LoadCheckpoint(image, 0, &h, [&](core::SnapshotItemType t, std::string_view b) {
    return back.RestoreItem(t, b);
  });
  ASSERT_TRUE(st.ok()) << st;
  back.FinishRestore();
  EXPECT_EQ(h.version, 1u);
  EXPECT_EQ(back.StateHash(), sm.StateHash());
  EXPECT_EQ(back.FindQueue("default")->Back()->jid(), "job-0001");
  EXPECT_EQ(back.next_queue_pos(), 3u);
  // A version from the future is refused.
  h.version = kCheckpointFormatVersion + 1;
  EncodeCheckpointHeader(h, image.data());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      LoadCheckpoint(image, 0, &h, [](core::SnapshotItemType, std::string_view) { return true; })));
}

// A checkpoint built a few jobs per loop turn while records keep coming: a
// restart from it (and the log after its LSN) is the state the log describes,
// and a crash before it is complete recovers from the log as before.
void SlicedCheckpoint(bool crash_midway) {
  testing::MemStorage storage;
  testing::LogFixture log(&storage, {.segment_bytes = 4096,
                                     .batch_bytes_max = 1024,
                                     .checkpoint_slice_jobs = 2});
  ASSERT_TRUE(log.Open().ok());
  int next = 0;
  for (; next < 60; ++next) log.Push("job-" + std::to_string(10000 + next), next % 2 ? "a" : "b");
  log.Flush();
  log.checkpointer().RequestNow();
  int turns = 0;
  for (; log.checkpointer().stats().taken == 0 && turns < 200; ++turns) {
    // A turn's commands, then the loop's log work.
    const std::string jid = "job-" + std::to_string(10000 + turns);
    const auto t = log.clock().WallNow();
    if (log.Commit(core::Mutation::Reserve(t, jid, "w", t + 60 * core::kNanosPerSecond)) &&
        turns % 3 == 0)
      log.Commit(core::Mutation::Ack(t, jid));
    log.Push("job-" + std::to_string(10000 + next++), "a");
    log.wal().Commit();
    log.checkpointer().Poll(log.sm());
    storage.RunPending();
    if (crash_midway && turns == 10) break;
  }
  const uint64_t taken = log.checkpointer().stats().taken;
  if (crash_midway) {
    EXPECT_EQ(taken, 0u);
    EXPECT_TRUE(log.checkpointer().busy());
  } else {
    EXPECT_EQ(taken, 1u);
    EXPECT_GT(log.checkpointer().stats().last_slices, 10u);
  }
  log.wal().Commit();
  while (storage.RunPending() > 0 || log.wal().commit_pending()) log.wal().Commit();
  const uint64_t live = log.sm().StateHash();
  const size_t jobs = log.sm().job_count();
  storage.Crash();
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(log.result().checkpoint_lsn > core::Lsn(0), !crash_midway);
  EXPECT_EQ(log.divergent(), 0u);
  EXPECT_EQ(log.sm().job_count(), jobs);
  EXPECT_EQ(log.sm().StateHash(), live);
}

TEST(Checkpoint, SlicedWhileRecordsAreApplied) { SlicedCheckpoint(false); }
TEST(Checkpoint, CrashDuringASlicedCheckpoint) { SlicedCheckpoint(true); }

TEST(Checkpoint, AnyDamageIsDetected) {
  core::StateMachine sm(0);
  for (int i = 0; i < 20; ++i)
    (void)sm.Apply(core::Mutation::Push(1, Spec("job-" + std::to_string(10000 + i))));
  const std::string image = BuildCheckpoint(sm, 0, core::Lsn(20), core::Epoch(1), 1);
  auto load = [](std::string_view img) {
    core::StateMachine into(0);
    CheckpointHeader h;
    return LoadCheckpoint(img, 0, &h, [&](core::SnapshotItemType t, std::string_view b) {
      return into.RestoreItem(t, b);
    });
  };
  ASSERT_TRUE(load(image).ok());
  for (size_t at = 0; at < image.size(); at += 7) {
    std::string bad = image;
    bad[at] ^= 0x20;
    EXPECT_FALSE(load(bad).ok()) << "flip at " << at;
  }
  for (size_t n = 0; n < image.size(); n += 11) EXPECT_FALSE(load(image.substr(0, n)).ok());
  EXPECT_FALSE(load(image + "x").ok());
  core::StateMachine into(0);
  CheckpointHeader h;
  EXPECT_FALSE(LoadCheckpoint(image, 1, &h, [&](core::SnapshotItemType t, std::string_view b) {
                 return into.RestoreItem(t, b);
               }).ok());  // another shard's
}

// A rejoin about to cut the log holds checkpoints (net/rejoin.h): none
// begins while the hold is set, not even one asked for; then they resume.
TEST(Checkpoint, NoneBeginsWhileHeld) {
  testing::MemStorage storage;
  testing::LogFixture log(&storage);
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 5; ++i) ASSERT_GT(log.Push("held-job-" + std::to_string(i)), 0u);
  log.Flush();
  std::atomic<bool> hold{true};
  log.checkpointer().set_hold(&hold);
  log.Checkpoint();
  EXPECT_EQ(log.checkpointer().stats().taken, 0u);
  hold = false;
  log.Checkpoint();
  EXPECT_EQ(log.checkpointer().stats().taken, 1u);
  EXPECT_EQ(log.checkpointer().stats().last_lsn, core::Lsn(5));
}

// Held while one is being built (a rejoin's DIVERGED arrived): it is
// abandoned, not finished, so nothing past the cut is written or released.
TEST(Checkpoint, OneUnderWayIsAbandonedWhenHeld) {
  testing::MemStorage storage;
  testing::LogFixture log(&storage, {.checkpoint_slice_jobs = 2});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 40; ++i) ASSERT_GT(log.Push("held-job-" + std::to_string(100 + i)), 0u);
  log.Flush();
  std::atomic<bool> hold{false};
  log.checkpointer().set_hold(&hold);
  log.checkpointer().RequestNow();
  log.checkpointer().Poll(log.sm());  // begins: 40 jobs take 20 slices
  log.checkpointer().Poll(log.sm());
  ASSERT_TRUE(log.checkpointer().busy());
  hold = true;
  log.Flush();
  EXPECT_FALSE(log.checkpointer().busy());
  EXPECT_EQ(log.checkpointer().stats().taken, 0u);
  hold = false;
  log.Checkpoint();
  EXPECT_EQ(log.checkpointer().stats().taken, 1u);
  EXPECT_EQ(log.checkpointer().stats().last_lsn, core::Lsn(40));
}

// A crash cut short the release of the segments a checkpoint covers: one in
// the middle is gone, those around it are still there. Recovery starts from
// the checkpoint; the restarted log finishes the release, so it no longer
// lists files with a hole in them as holding every record from LSN 1 (a
// standby catching up from there would find the hole: the sender's files
// phase failed with "the data ends where durable LSN n was expected", and
// the primary answered CONTINUE to every retry). Found by the replicated
// crash simulation.
TEST(Checkpointer, ARestartFinishesARelease) {
  truncate_test::Log log;
  log.Build(150);
  const auto segs = log.Segments();
  ASSERT_GE(segs.size(), 5u);
  const uint64_t ckpt = segs[3].second + 1;
  log.PutCheckpoint(ckpt);
  ASSERT_TRUE(log.storage.Remove(SegmentName(segs[1].first)).ok());
  testing::LogFixture f(&log.storage, truncate_test::FixtureOptions());
  ASSERT_TRUE(f.Open().ok());
  ASSERT_EQ(f.result().checkpoint_lsn, core::Lsn(ckpt));
  f.Flush();
  const auto files = f.wal().SegmentsFrom(core::Lsn(1));
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.front().id, segs[3].first) << "the first file holding LSN " << ckpt + 1;
  EXPECT_FALSE(log.storage.Exists(SegmentName(segs[0].first)));
  EXPECT_FALSE(log.storage.Exists(SegmentName(segs[2].first)));
  // And the log still recovers to the same records.
  ASSERT_TRUE(f.Open().ok());
  EXPECT_EQ(f.result().last_lsn, core::Lsn(150));
}

}  // namespace
}  // namespace werk::wal
