// wal::TruncateAfter under power loss (docs/wal-format.md, "Cutting the
// log"): a crash after any durable step of the cut, or tearing the write in
// flight, leaves a log recovery accepts, holding every kept record and a
// prefix of the rest, which a second cut (as the next start runs) finishes.

#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "tests/wal/truncate_log.h"

namespace werk::wal::truncate_test {
namespace {

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
  void OpenRead(const std::string& name,
                std::function<void(absl::StatusOr<std::unique_ptr<ReadableFile>>)> done) override {
    inner_->OpenRead(name, std::move(done));
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
}  // namespace werk::wal::truncate_test
