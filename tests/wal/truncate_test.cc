// wal::TruncateAfter (docs/wal-format.md, "Cutting the log"): after a cut,
// recovery gives exactly the records up to keep_through and the state of a
// replay of only those, and the writer continues at keep_through + 1; a
// crash after any durable step of the cut (or tearing the write in flight)
// leaves a log recovery accepts, holding every kept record and a prefix of
// the rest, which a second cut finishes.

#include "wal/truncate.h"

#include <map>
#include <set>
#include <random>

#include <gtest/gtest.h>

#include "tests/wal/log_fixture.h"
#include "wal/checkpoint.h"
#include "wal/log_reader.h"

namespace werk::wal {
namespace {

using testing::LogFixture;
using testing::MemStorage;

LogFixture::Options FixtureOptions() {
  LogFixture::Options o;
  o.segment_bytes = 4096;
  o.batch_bytes_max = 1024;
  return o;
}

// Where the non-zero bytes of a file end.
size_t LastNonZero(const std::string& data) {
  size_t end = data.size();
  while (end > 0 && data[end - 1] == 0) --end;
  return end;
}

TruncateOptions CutOptions() {
  TruncateOptions o;
  o.torn_window_bytes = kWritesInFlightMax * FixtureOptions().batch_bytes_max;
  return o;
}

core::Mutation PushOf(const core::ManualClock& clock, const std::string& jid) {
  core::JobSpec s;
  s.jid = jid;
  s.jobtype = "T";
  s.queue = jid.back() % 2 ? "odd" : "even";
  // Records of several sizes, so that a reused segment's records end
  // before its earlier use's did.
  s.args_json = "[\"" + jid + "\", \"" + std::string(std::hash<std::string>{}(jid) % 7 * 40, 'p') +
                "\"]";
  s.created_at = "2026-11-22T00:00:00Z";
  return core::Mutation::Push(clock.WallNow(), s);
}

// A log of `n` pushes written `per_write` to a write (so writes begin at
// LSNs 1, 1 + per_write, ...), in 4 KiB segments; from LSN `epoch2_from` on
// (0: never) the records carry epoch 2.
struct Log {
  MemStorage storage;
  core::ManualClock clock;
  std::vector<core::Mutation> muts;  // muts[i] has LSN i + 1

  // After the LSNs in `idle_after`, the log goes quiet and writes a marker
  // alone vouching for them.
  // After the LSNs in `checkpoint_after`, the checkpointer takes one (and
  // the segments it covers are recycled, to be reused as later segments).
  void Build(int n, int per_write = 3, uint64_t epoch2_from = 0,
             const std::set<uint64_t>& idle_after = {},
             const std::set<uint64_t>& checkpoint_after = {}) {
    LogFixture f(&storage, FixtureOptions());
    ASSERT_TRUE(f.Open().ok());
    for (int i = 1; i <= n; ++i) {
      if (uint64_t(i) == epoch2_from) f.wal().SetEpoch(core::Epoch(2));
      muts.push_back(PushOf(clock, "job-" + std::to_string(i)));
      ASSERT_EQ(f.Commit(muts.back()), uint64_t(i));
      if (i % per_write == 0 || idle_after.count(uint64_t(i))) f.Flush();
      if (idle_after.count(uint64_t(i))) {
        f.clock().Advance(kIdleMarkerNs + 1);
        f.wal().WriteIdleMarkerIfDue();
        f.Flush();
        ASSERT_GT(f.wal().idle_markers(), 0u);
      }
      if (checkpoint_after.count(uint64_t(i))) {
        f.Flush();
        f.Checkpoint();
        ASSERT_TRUE(storage.Exists(CheckpointName(uint64_t(i))));
      }
    }
    f.Flush();
  }
  uint64_t last() const { return muts.size(); }

  // The state a replay of LSNs 1..lsn gives (plus `extra` after them).
  uint64_t Hash(uint64_t lsn, const std::vector<core::Mutation>& extra = {}) const {
    core::StateMachine sm(clock.WallNow() / core::kNanosPerMilli);
    for (uint64_t i = 0; i < lsn; ++i) EXPECT_EQ(sm.Apply(muts[i]), absl::OkStatus());
    for (const auto& m : extra) EXPECT_EQ(sm.Apply(m), absl::OkStatus());
    return sm.StateHash();
  }
  // Writes a checkpoint of the state at `lsn` (epoch 1).
  void PutCheckpoint(uint64_t lsn) {
    core::StateMachine sm(clock.WallNow() / core::kNanosPerMilli);
    for (uint64_t i = 0; i < lsn; ++i) EXPECT_EQ(sm.Apply(muts[i]), absl::OkStatus());
    storage.Put(CheckpointName(lsn), BuildCheckpoint(sm, 0, core::Lsn(lsn), core::Epoch(1), 0));
  }

  // (segment id, first LSN) of the segments with a header, in order.
  std::vector<std::pair<uint64_t, uint64_t>> Segments() {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const std::string& name : storage.List()) {
      uint64_t id;
      SegmentHeader h;
      if (ParseSegmentName(name, &id) &&
          DecodeSegmentHeader(*storage.ReadAll(name), &h) == HeaderStatus::kOk &&
          h.segment_id == id)
        out.emplace_back(id, h.first_lsn);
    }
    return out;
  }
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> out;
    for (const std::string& name : storage.List()) out[name] = *storage.ReadAll(name);
    return out;
  }
};

// Recovers `log`: the records it holds must be LSNs 1..lsn, with their
// state; returns lsn. Then, with `append`, one more record goes to lsn + 1
// and a restart finds it.
uint64_t ExpectPrefix(Log& log, bool append) {
  uint64_t last = 0;
  {
    LogFixture f(&log.storage, FixtureOptions());
    const absl::Status st = f.Open();
    EXPECT_TRUE(st.ok()) << st;
    if (!st.ok()) return UINT64_MAX;
    last = f.result().last_lsn.value();
    const uint64_t from = f.result().checkpoint_lsn.value();
    EXPECT_EQ(f.replayed().size(), last - from);
    for (size_t i = 0; i < f.replayed().size(); ++i) EXPECT_EQ(f.replayed()[i], from + i + 1);
    EXPECT_EQ(f.divergent(), 0u);
    EXPECT_EQ(f.sm().StateHash(), log.Hash(last)) << "recovered through LSN " << last;
    if (!append) return last;
    const core::Mutation m = PushOf(log.clock, "after-cut");
    EXPECT_EQ(f.Commit(m), last + 1);
    f.Flush();
  }
  LogFixture g(&log.storage, FixtureOptions());
  EXPECT_TRUE(g.Open().ok());
  EXPECT_EQ(g.result().last_lsn.value(), last + 1);
  EXPECT_EQ(g.sm().StateHash(), log.Hash(last, {PushOf(log.clock, "after-cut")}));
  return last;
}

// Cuts after `keep` and checks the report and the recovered log.
TruncateReport CutAndCheck(Log& log, uint64_t keep) {
  auto r = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  EXPECT_EQ(r->records_dropped, log.last() - keep);
  EXPECT_EQ(r->first_dropped.value(), keep + 1);
  EXPECT_EQ(r->last_dropped.value(), log.last());
  EXPECT_EQ(r->last_lsn.value(), log.last());
  EXPECT_GT(r->bytes_dropped, r->records_dropped * kFrameHeaderBytes);
  EXPECT_EQ(ExpectPrefix(log, true), keep);
  return *r;
}

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

// --- crash safety ------------------------------------------------------------

// Forwards to MemStorage, and crashes at the `crash_at`-th durable step
// (Remove or Overwrite, counted from 0): that step and every later one do
// nothing (or, with `tear`, that Overwrite lands in random 512-byte sectors,
// as a write in flight at a power loss may).
class CrashingStorage final : public Storage {
 public:
  CrashingStorage(MemStorage* inner, size_t crash_at, bool tear, uint64_t seed)
      : inner_(inner), crash_at_(crash_at), tear_(tear), rng_(seed) {}

  size_t steps() const { return steps_; }

  std::vector<std::string> List() override { return inner_->List(); }
  absl::StatusOr<std::string> ReadAll(const std::string& name) override {
    return inner_->ReadAll(name);
  }
  absl::Status Remove(const std::string& name) override {
    if (steps_++ >= crash_at_) return Crashed();
    return inner_->Remove(name);
  }
  absl::Status Overwrite(const std::string& name, uint64_t offset,
                         std::string_view data) override {
    if (steps_++ < crash_at_) return inner_->Overwrite(name, offset, data);
    if (tear_ && steps_ == crash_at_ + 1) {
      std::string mixed = *inner_->ReadAll(name);
      mixed.resize(std::max<size_t>(mixed.size(), offset + data.size()), '\0');
      for (uint64_t s = offset / 512 * 512; s < offset + data.size(); s += 512) {
        if (rng_() % 2) continue;
        for (uint64_t i = std::max(s, offset); i < std::min(s + 512, offset + data.size()); ++i)
          mixed[i] = data[i - offset];
      }
      EXPECT_TRUE(inner_->Overwrite(name, offset, mixed.substr(offset, data.size())).ok());
    }
    return Crashed();
  }
  absl::StatusOr<std::unique_ptr<SegmentFile>> Open(const std::string& name) override {
    return inner_->Open(name);
  }
  absl::Status Sync(const std::string& name) override { return inner_->Sync(name); }
  void CreatePreallocated(
      const std::string& name, uint64_t bytes,
      std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) override {
    inner_->CreatePreallocated(name, bytes, std::move(done));
  }
  void RenameAsync(const std::string& from, const std::string& to, IoDone done) override {
    inner_->RenameAsync(from, to, std::move(done));
  }
  void Reuse(const std::string& from, const std::string& to,
             std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) override {
    inner_->Reuse(from, to, std::move(done));
  }
  void WriteAtomic(const std::string& name, std::shared_ptr<const std::string> data,
                   IoDone done) override {
    inner_->WriteAtomic(name, std::move(data), std::move(done));
  }
  void RemoveAsync(const std::string& name, IoDone done) override {
    inner_->RemoveAsync(name, std::move(done));
  }

 private:
  static absl::Status Crashed() { return absl::UnavailableError("power lost"); }

  MemStorage* inner_;
  size_t crash_at_;
  bool tear_;
  std::mt19937_64 rng_;
  size_t steps_ = 0;
};

using BuildLog = std::function<void(Log&)>;

// For every durable step of the cut: crash there (cleanly, or tearing the
// write), recover — every kept record and a prefix of the rest, the state
// of their replay —, then cut again as a restart would, and recover the cut
// log exactly.
void CrashAtEveryStep(const BuildLog& setup, uint64_t keep, bool expect_checkpoint_step) {
  size_t steps = 0;
  {
    Log log;
    setup(log);
    CrashingStorage all(&log.storage, SIZE_MAX, false, 0);
    ASSERT_TRUE(TruncateAfter(all, core::Lsn(keep), CutOptions()).ok());
    steps = all.steps();
  }
  ASSERT_GE(steps, 4u) << "several steps: removals and zeroing";
  for (size_t at = 0; at < steps; ++at) {
    for (int tear = 0; tear < 2; ++tear) {
      SCOPED_TRACE("crash at step " + std::to_string(at) + (tear ? ", torn" : ""));
      Log log;
      setup(log);
      const uint64_t last = log.last();
      CrashingStorage crashing(&log.storage, at, tear != 0, 7 + at);
      auto r = TruncateAfter(crashing, core::Lsn(keep), CutOptions());
      ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
      log.storage.Crash();
      const uint64_t got = ExpectPrefix(log, false);
      EXPECT_GE(got, keep);
      EXPECT_LE(got, last);
      if (::testing::Test::HasFailure()) return;
      // The restart that follows: recovery ran (above); the cut runs again.
      auto again = TruncateAfter(log.storage, core::Lsn(keep), CutOptions());
      bool checkpoint_past = false;
      for (const std::string& name : log.storage.List()) {
        uint64_t lsn;
        if (ParseCheckpointName(name, &lsn) && lsn > keep) checkpoint_past = true;
      }
      if (checkpoint_past) {
        // Recovery loaded the checkpoint past the cut and removed the older
        // one: the caller bootstraps instead.
        EXPECT_TRUE(expect_checkpoint_step);
        EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
        // And the log it left goes on: the writer continues after it.
        EXPECT_EQ(ExpectPrefix(log, true), got);
        continue;
      }
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(ExpectPrefix(log, true), keep);
    }
  }
}

TEST(TruncateAfterCrash, InsideAWriteAcrossSegments) {
  const BuildLog setup = [](Log& log) { log.Build(150, 4); };
  Log probe;
  setup(probe);
  CrashAtEveryStep(setup, probe.Segments()[1].second + 2, false);
}

TEST(TruncateAfterCrash, AtAWriteBoundary) {
  const BuildLog setup = [](Log& log) { log.Build(100, 3); };
  Log probe;
  setup(probe);
  CrashAtEveryStep(setup, probe.Segments()[1].second + 2, false);
}

TEST(TruncateAfterCrash, OnRecycledSegments) {
  const BuildLog setup = [](Log& log) { log.Build(260, 3, 0, {}, {60, 150}); };
  CrashAtEveryStep(setup, 190, false);
}

TEST(TruncateAfterCrash, AtTheCheckpointWithCoveredSegmentsBefore) {
  const BuildLog setup = [](Log& log) {
    log.Build(150, 4);
    const auto segs = log.Segments();
    log.PutCheckpoint(segs[2].second - 1);
    ASSERT_TRUE(log.storage.Remove(SegmentName(segs[1].first)).ok());
  };
  Log probe;
  setup(probe);
  CrashAtEveryStep(setup, probe.Segments()[1].second - 1, false);
}

TEST(TruncateAfterCrash, WithCheckpointsOnBothSides) {
  const BuildLog setup = [](Log& log) {
    log.Build(150, 4);
    const auto segs = log.Segments();
    log.PutCheckpoint(segs[1].second + 1);
    log.PutCheckpoint(segs[3].second);
    ASSERT_TRUE(log.storage.Remove(SegmentName(segs[0].first)).ok());
  };
  Log probe;
  setup(probe);
  CrashAtEveryStep(setup, probe.Segments()[1].second + 6, true);
}

}  // namespace
}  // namespace werk::wal
