// Reading a shard's log back from its segment files (wal/log_file_source.h):
// the frames come out byte for byte as a log cursor gave them, across
// segments and recycled segments, whatever the read size; the segments read
// stay in place through a checkpoint while pinned and go once the pin does;
// records whose segments are gone, a read that fails and a damaged frame
// are each a clear error.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/wal/log_fixture.h"
#include "wal/log_file_source.h"
#include "wal/log_reader.h"

namespace werk::testing {
namespace {

struct Shipped {
  std::string frame;
  uint64_t salt = 0;
  uint64_t segment_id = 0;
  bool operator==(const Shipped&) const = default;
};

// Every record as a log cursor gives it: what the files must give.
class Oracle {
 public:
  explicit Oracle(wal::Wal& wal) {
    auto c = wal.Follow(core::Lsn(1));
    EXPECT_TRUE(c.ok()) << c.status();
    cursor_ = std::move(*c);
  }
  void Drain() {
    auto n = cursor_->Read(SIZE_MAX, [&](const wal::FollowedRecord& r) {
      records_[r.lsn.value()] = {std::string(r.frame), r.salt, r.segment_id};
      return true;
    });
    EXPECT_TRUE(n.ok()) << n.status();
  }
  std::map<uint64_t, Shipped> Range(uint64_t from, uint64_t to) const {
    return {records_.lower_bound(from), records_.upper_bound(to)};
  }

 private:
  std::unique_ptr<wal::LogCursor> cursor_;
  std::map<uint64_t, Shipped> records_;
};

// Reads the source to its end (or its error), completing its reads.
absl::Status ReadAll(wal::LogFileSource& source, MemStorage& storage,
                     std::map<uint64_t, Shipped>* out, size_t bytes_max = SIZE_MAX) {
  for (int i = 0; i < 100000 && !source.done(); ++i) {
    auto n = source.Read(bytes_max, [&](const wal::FollowedRecord& r) {
      EXPECT_TRUE(r.durable);
      EXPECT_EQ(r.frame.substr(wal::kFrameHeaderBytes), r.body);
      (*out)[r.lsn.value()] = {std::string(r.frame), r.salt, r.segment_id};
      return true;
    });
    if (!n.ok()) return n.status();
    if (*n == 0) storage.RunPending();
  }
  return source.done() ? absl::OkStatus() : absl::DeadlineExceededError("no end");
}

absl::StatusOr<std::unique_ptr<wal::LogFileSource>> OpenSource(LogFixture& f, uint64_t from,
                                                               uint64_t to,
                                                               size_t read_bytes = 512) {
  wal::LogFileSource::Options o;
  o.read_bytes = read_bytes;
  return wal::LogFileSource::Open(&f.wal(), core::Lsn(from), core::Lsn(to), o);
}

void PushMany(LogFixture& f, Oracle& oracle, int n, const std::string& prefix) {
  for (int i = 0; i < n; ++i) {
    f.Push(prefix + std::to_string(i));
    if (i % 7 == 6) {
      f.Flush();
      oracle.Drain();
    }
  }
  f.Flush();
  oracle.Drain();
}

TEST(LogFileSource, ReadsEveryRecordAcrossSegmentsByteForByte) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 400, "job-");
  const uint64_t durable = f.wal().durable_lsn().value();
  ASSERT_EQ(durable, 400u);
  ASSERT_GT(f.wal().segment_count(), 8u);
  // Reads smaller than a frame, about a segment, and the default.
  for (size_t read_bytes : {size_t(50), size_t(4096), wal::kFileReadBytes}) {
    for (auto [from, to] : {std::pair<uint64_t, uint64_t>{1, durable},
                            {57, 333},
                            {200, 200},
                            {durable, durable}}) {
      SCOPED_TRACE(std::to_string(read_bytes) + " " + std::to_string(from) + ".." +
                   std::to_string(to));
      auto source = OpenSource(f, from, to, read_bytes);
      ASSERT_TRUE(source.ok()) << source.status();
      std::map<uint64_t, Shipped> got;
      ASSERT_TRUE(ReadAll(**source, storage, &got).ok());
      EXPECT_EQ(got, oracle.Range(from, to));
      EXPECT_EQ((*source)->next_lsn(), core::Lsn(to + 1));
    }
  }
}

TEST(LogFileSource, ABudgetOfOneFrameGivesOneRecordPerRead) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 40, "job-");
  auto source = OpenSource(f, 1, 40);
  ASSERT_TRUE(source.ok());
  std::map<uint64_t, Shipped> got;
  // A budget of 1 byte still delivers one record; a take that refuses
  // consumes nothing.
  int refused = 0;
  for (int i = 0; i < 10000 && !(*source)->done(); ++i) {
    size_t calls = 0;
    auto n = (*source)->Read(1, [&](const wal::FollowedRecord& r) {
      ++calls;
      if (r.lsn.value() % 5 == 0 && refused++ % 2 == 0) return false;
      got[r.lsn.value()] = {std::string(r.frame), r.salt, r.segment_id};
      return true;
    });
    ASSERT_TRUE(n.ok());
    EXPECT_LE(*n, 1u);
    if (*n == 0 && calls == 0) storage.RunPending();
  }
  EXPECT_EQ(got, oracle.Range(1, 40));
  EXPECT_GT(refused, 0);
}

// The newest segment, once reused, holds an older use's frames after its
// own: the source stops at the last record asked for, and the stale bytes
// (hashed with another salt) are never taken for records.
TEST(LogFileSource, RecycledSegmentsAreReadUpToTheirOwnRecords) {
  MemStorage storage;
  LogFixture f(&storage, {.segment_bytes = 4096, .batch_bytes_max = 1024,
                          .recycled_segments_max = 4});
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  for (int round = 0; round < 4; ++round) {
    PushMany(f, oracle, 120, "r" + std::to_string(round) + "-");
    f.Checkpoint();
  }
  ASSERT_GT(f.wal().segments_recycled(), 0u);
  // Push until the newest segment is a reused file with stale bytes after
  // its last record.
  bool stale = false;
  for (int i = 0; i < 400 && !stale; ++i) {
    f.Push("tail-" + std::to_string(i));
    f.Flush();
    oracle.Drain();
    const auto segments = f.wal().SegmentsFrom(f.wal().durable_lsn());
    const std::string& data = *storage.Durable(segments.back().name);
    wal::SegmentHeader h;
    ASSERT_EQ(wal::DecodeSegmentHeader(data, &h), wal::HeaderStatus::kOk);
    const uint64_t last = wal::LastValidFrameHeader(data, wal::kSegmentHeaderBytes, h.salt);
    ASSERT_NE(last, UINT64_MAX);
    wal::FrameHeader fh;
    ASSERT_TRUE(wal::DecodeFrameHeader(std::string_view(data).substr(last), &fh, h.salt));
    const size_t end = last + wal::kFrameHeaderBytes + fh.body_bytes;
    stale = data.find_first_not_of('\0', end) != std::string::npos;
  }
  ASSERT_TRUE(stale);
  const uint64_t durable = f.wal().durable_lsn().value();
  const uint64_t from = f.wal().SegmentsFrom(core::Lsn(1)).front().first_lsn.value();
  for (size_t read_bytes : {size_t(64), size_t(1000), wal::kFileReadBytes}) {
    auto source = OpenSource(f, from, durable, read_bytes);
    ASSERT_TRUE(source.ok()) << source.status();
    std::map<uint64_t, Shipped> got;
    ASSERT_TRUE(ReadAll(**source, storage, &got).ok());
    EXPECT_EQ(got, oracle.Range(from, durable));
  }
}

TEST(LogFileSource, PinnedSegmentsOutliveACheckpointAndGoWithThePin) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 300, "job-");
  const uint64_t durable = f.wal().durable_lsn().value();
  const std::vector<wal::Wal::SegmentRef> before = f.wal().SegmentsFrom(core::Lsn(1));
  ASSERT_GT(before.size(), 4u);

  auto source = OpenSource(f, 1, durable, 256);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(f.wal().pins(), 1u);
  std::map<uint64_t, Shipped> got;
  // Part of the way in.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE((*source)->Read(SIZE_MAX, [&](const wal::FollowedRecord& r) {
                             got[r.lsn.value()] = {std::string(r.frame), r.salt, r.segment_id};
                             return true;
                           }).ok());
    storage.RunPending();
  }
  ASSERT_FALSE((*source)->done());
  ASSERT_GT(got.size(), 0u);

  // A checkpoint covering everything asks the log to let the segments go.
  PushMany(f, oracle, 50, "more-");
  f.Checkpoint();
  ASSERT_GT(f.checkpointer().stats().last_lsn, core::Lsn(durable));
  for (const auto& s : before) EXPECT_TRUE(storage.Exists(s.name)) << s.name;
  EXPECT_EQ(f.wal().SegmentsFrom(core::Lsn(1)).front().first_lsn, core::Lsn(1));

  ASSERT_TRUE(ReadAll(**source, storage, &got).ok());
  EXPECT_EQ(got, oracle.Range(1, durable));
  // Done: the pin went, and with it what the checkpoint released.
  EXPECT_EQ(f.wal().pins(), 0u);
  storage.RunPending();
  EXPECT_FALSE(storage.Exists(before.front().name));
  EXPECT_GT(f.wal().SegmentsFrom(core::Lsn(1)).front().first_lsn, core::Lsn(1));
}

TEST(LogFileSource, TheLastPinLetsTheReleaseHappen) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 200, "job-");
  const size_t segments = f.wal().segment_count();
  wal::SegmentPin a = f.wal().Pin(core::Lsn(1));
  wal::SegmentPin b = f.wal().Pin(core::Lsn(100));
  wal::SegmentPin moved = std::move(a);
  EXPECT_FALSE(a.held());
  EXPECT_TRUE(moved.held());
  EXPECT_EQ(moved.lsn(), core::Lsn(1));
  f.Checkpoint();
  EXPECT_EQ(f.wal().segment_count(), segments);
  // The pin at 1 goes: the segments before the one holding LSN 100 go.
  moved.Release();
  storage.RunPending();
  const auto left = f.wal().SegmentsFrom(core::Lsn(1));
  EXPECT_LT(left.size(), segments);
  EXPECT_LE(left.front().first_lsn, core::Lsn(100));
  EXPECT_GT(f.wal().SegmentsFrom(core::Lsn(100)).size(), 1u);
  // The last pin goes: everything the checkpoint covers goes.
  b = wal::SegmentPin();
  storage.RunPending();
  EXPECT_EQ(f.wal().pins(), 0u);
  EXPECT_GT(f.wal().SegmentsFrom(core::Lsn(1)).front().first_lsn, core::Lsn(100));
}

TEST(LogFileSource, RecordsWhoseSegmentsAreGoneNeedACheckpointBootstrap) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 200, "job-");
  f.Checkpoint();
  PushMany(f, oracle, 20, "more-");
  auto source = OpenSource(f, 1, f.wal().durable_lsn().value());
  ASSERT_TRUE(absl::IsOutOfRange(source.status())) << source.status();
  EXPECT_NE(source.status().message().find("checkpoint bootstrap"), std::string_view::npos);
  EXPECT_EQ(f.wal().pins(), 0u);
}

TEST(LogFileSource, AFailedReadIsAnErrorThatEndsTheSource) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 100, "job-");
  storage.set_faults({.read_error = 1});
  auto source = OpenSource(f, 1, 100);
  ASSERT_TRUE(source.ok());
  std::map<uint64_t, Shipped> got;
  const absl::Status st = ReadAll(**source, storage, &got);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("injected I/O error"), std::string_view::npos) << st;
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(f.wal().pins(), 0u);  // the pin went with the error
  // It stays ended.
  EXPECT_FALSE((*source)->Read(SIZE_MAX, [](const wal::FollowedRecord&) { return true; }).ok());
}

TEST(LogFileSource, ADamagedFrameIsDataLossNamingTheFileAndByte) {
  MemStorage storage;
  LogFixture f(&storage);
  ASSERT_TRUE(f.Open().ok());
  Oracle oracle(f.wal());
  PushMany(f, oracle, 100, "job-");
  const auto segments = f.wal().SegmentsFrom(core::Lsn(1));
  ASSERT_GT(segments.size(), 2u);
  // A byte in the body of the second segment's first record.
  const std::string& name = segments[1].name;
  const uint64_t at = wal::kSegmentHeaderBytes + wal::kWriteMarkerFrameBytes;
  const std::string& data = *storage.Durable(name);
  ASSERT_TRUE(storage.Overwrite(name, at + wal::kFrameHeaderBytes + 3,
                                std::string(1, char(data[at + wal::kFrameHeaderBytes + 3] ^ 1)))
                  .ok());
  auto source = OpenSource(f, 1, 100);
  ASSERT_TRUE(source.ok());
  std::map<uint64_t, Shipped> got;
  const absl::Status st = ReadAll(**source, storage, &got);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find(name + " at byte " + std::to_string(at)), std::string_view::npos)
      << st;
  // Everything before the damage was handed out, nothing after.
  EXPECT_EQ(got, oracle.Range(1, segments[1].first_lsn.value() - 1));
}

}  // namespace
}  // namespace werk::testing
