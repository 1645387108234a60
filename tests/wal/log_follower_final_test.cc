// What followers are given is final: the frames read as soon as they were
// appended are the bytes on disk, across segment switches, and what
// recovery replays; and after a log failure nothing more is delivered as
// durable.

#include <gtest/gtest.h>

#include <map>

#include "tests/wal/checking_follower.h"
#include "wal/log_reader.h"
#include "wal/recovery.h"

namespace werk::testing {
namespace {

using Reach = wal::FollowOptions::Reach;

struct OnDisk {
  uint64_t segment_id;
  std::string frame;
};

// Every record frame of every started segment, by LSN, as made durable.
std::map<uint64_t, OnDisk> ReadSegments(MemStorage& storage) {
  std::map<uint64_t, OnDisk> out;
  for (const std::string& name : storage.List()) {
    uint64_t id;
    if (!wal::ParseSegmentName(name, &id)) continue;
    const std::string& data = *storage.Durable(name);
    wal::SegmentHeader h;
    if (wal::DecodeSegmentHeader(data, &h) != wal::HeaderStatus::kOk || h.segment_id != id)
      continue;  // the spare
    wal::LogReader r(data, {.expected_lsn = core::Lsn(h.first_lsn),
                            .salt = h.salt,
                            .write_markers = true});
    wal::Frame f;
    while (r.Next(&f) == wal::ReadOutcome::kRecord) {
      if (f.header.type != uint16_t(wal::RecordType::kMutation)) continue;
      out[f.header.lsn] = {id, data.substr(f.offset, wal::kFrameHeaderBytes + f.body.size())};
    }
    EXPECT_EQ(r.Next(&f), wal::ReadOutcome::kEnd) << name << ": " << r.reason();
  }
  return out;
}

// Whether segment `id` has been started (its header written) yet.
bool Started(MemStorage& storage, uint64_t id) {
  auto data = storage.ReadAll(wal::SegmentName(id));
  wal::SegmentHeader h;
  return data.ok() && wal::DecodeSegmentHeader(*data, &h) == wal::HeaderStatus::kOk &&
         h.segment_id == id;
}

TEST(LogFollowerFinal, FramesReadAsAppendedAreTheBytesOnDiskAndWhatRecoveryReplays) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 256});
  ASSERT_TRUE(log.Open().ok());
  RecordSource source;
  CheckingFollower early(log.wal(), source, 1, Reach::kAppended);
  early.set_reads_when_told(false);
  size_t before_their_segment = 0;
  for (int i = 0; i < 500; ++i) {
    source.Append(log.wal());
    // Captured at once, before the batch is submitted.
    ASSERT_TRUE(early.Drain().ok());
    const auto& got = early.got().back();
    EXPECT_FALSE(got.durable);
    before_their_segment += !Started(storage, got.segment_id);
    // Writes complete one at a time, so batches open while the write that
    // fills a segment is still in flight: bound for the next segment.
    if (i % 3 == 0) log.wal().Commit();
    storage.RunPending(1);
  }
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  ASSERT_EQ(log.wal().durable_lsn().value(), 500u);
  EXPECT_GT(log.wal().segment_count(), 20u);
  // Many records were appended before the segment they went to was started.
  EXPECT_GT(before_their_segment, 20u);

  const auto disk = ReadSegments(storage);
  ASSERT_EQ(disk.size(), 500u);
  ASSERT_EQ(early.got().size(), 500u);
  for (const auto& g : early.got()) {
    const OnDisk& d = disk.at(g.lsn);
    EXPECT_EQ(g.segment_id, d.segment_id) << g.lsn;
    EXPECT_EQ(g.frame, d.frame) << "the frame of LSN " << g.lsn << " changed after Append";
  }

  std::map<uint64_t, std::string> replayed;
  wal::RecoveryOptions ro;
  ro.torn_window_bytes = wal::kWritesInFlightMax * 256;
  auto r = wal::Recover(storage, ro,
                        {[](core::SnapshotItemType, std::string_view) { return true; },
                         [&](core::Lsn lsn, std::string_view body) {
                           replayed[lsn.value()] = std::string(body);
                           return absl::OkStatus();
                         }});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(replayed.size(), 500u);
  for (const auto& g : early.got())
    EXPECT_EQ(replayed.at(g.lsn), g.frame.substr(wal::kFrameHeaderBytes));
}

TEST(LogFollowerFinal, NothingAppendedAfterAFailureIsDeliveredAsDurable) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 4096, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  RecordSource source;
  CheckingFollower durable(log.wal(), source, 1);
  CheckingFollower early(log.wal(), source, 1, Reach::kAppended);
  for (int i = 0; i < 30; ++i) source.Append(log.wal());
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  ASSERT_EQ(log.wal().durable_lsn().value(), 30u);

  storage.set_faults({.sync_error = 1.0});
  for (int i = 0; i < 20; ++i) {
    source.Append(log.wal());
    // The early follower reads while the writes are still in flight.
    if (i % 5 == 4) Turn(log.wal(), storage, 0);
  }
  for (int i = 0; i < 5; ++i) Turn(log.wal(), storage);
  ASSERT_TRUE(log.wal().failed());
  const uint64_t last_durable = log.wal().durable_lsn().value();
  EXPECT_GE(last_durable, 30u);
  // Records appended after the failure are never delivered at all.
  for (int i = 0; i < 5; ++i) source.Append(log.wal());
  Turn(log.wal(), storage);

  // The durable follower has everything durable, then the failure.
  EXPECT_EQ(durable.next(), last_durable + 1);
  EXPECT_EQ(durable.last().code(), absl::StatusCode::kFailedPrecondition) << durable.last();
  EXPECT_EQ(durable.Drain().code(), absl::StatusCode::kFailedPrecondition);
  // The early one saw some records that never became durable, none of them
  // flagged durable, and nothing appended after the failure.
  uint64_t not_durable = 0;
  for (const auto& g : early.got()) {
    if (g.lsn > last_durable) {
      EXPECT_FALSE(g.durable) << g.lsn;
      ++not_durable;
    }
    EXPECT_LE(g.lsn, 50u);
  }
  EXPECT_GT(not_durable, 0u);
  EXPECT_EQ(early.Drain().code(), absl::StatusCode::kFailedPrecondition);
  // A follower arriving now learns the same.
  CheckingFollower late(log.wal(), source, last_durable + 1);
  const absl::Status st = late.Drain();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("failed"), std::string::npos) << st;
  EXPECT_TRUE(late.got().empty());
}

}  // namespace
}  // namespace werk::testing
