#pragma once
// A shard's log built for the TruncateAfter tests (tests/wal/truncate_test.cc,
// tests/wal/truncate_crash_test.cc), with what a replay of any prefix of it
// gives, and the check that a recovered log is such a prefix.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/wal/log_fixture.h"
#include "wal/checkpoint.h"
#include "wal/log_reader.h"
#include "wal/truncate.h"

namespace werk::wal::truncate_test {

using testing::LogFixture;
using testing::MemStorage;

inline LogFixture::Options FixtureOptions() {
  LogFixture::Options o;
  o.segment_bytes = 4096;
  o.batch_bytes_max = 1024;
  return o;
}

// Where the non-zero bytes of a file end.
inline size_t LastNonZero(const std::string& data) {
  size_t end = data.size();
  while (end > 0 && data[end - 1] == 0) --end;
  return end;
}

inline TruncateOptions CutOptions() {
  TruncateOptions o;
  o.torn_window_bytes = kWritesInFlightMax * FixtureOptions().batch_bytes_max;
  return o;
}

inline core::Mutation PushOf(const core::ManualClock& clock, const std::string& jid) {
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
inline uint64_t ExpectPrefix(Log& log, bool append) {
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
inline TruncateReport CutAndCheck(Log& log, uint64_t keep) {
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

}  // namespace werk::wal::truncate_test
