// Following the log (wal/log_follower.h): order and gaplessness across many
// batches and segment switches, back-pressure, the retention bound, and
// where a follower may start.

#include <gtest/gtest.h>

#include "core/shard_runtime.h"
#include "tests/wal/checking_follower.h"
#include "wal/log_followers.h"

namespace werk::testing {
namespace {

using Reach = wal::FollowOptions::Reach;

TEST(LogFollower, ReadsEveryRecordInOrderAcrossBatchesAndSegments) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 256});
  ASSERT_TRUE(log.Open().ok());
  RecordSource source;
  CheckingFollower f(log.wal(), source, 1);
  for (int i = 0; i < 600; ++i) {
    source.Append(log.wal());
    if (i % 5 == 0) Turn(log.wal(), storage);
  }
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  EXPECT_GT(log.wal().segment_count(), 20u);
  EXPECT_EQ(f.next(), 601u);
  EXPECT_TRUE(f.last().ok()) << f.last();
  // It was told only when there was something new, and read it all.
  EXPECT_GT(f.told(), 50);
  EXPECT_EQ(log.wal().followers().retained_batches(), 0u);
}

TEST(LogFollower, OutOfOrderCompletionsStillDeliverInOrder) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    MemStorage storage(seed);
    storage.set_shuffle(true);
    LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 256});
    ASSERT_TRUE(log.Open().ok());
    RecordSource source(seed);
    CheckingFollower durable(log.wal(), source, 1);
    CheckingFollower early(log.wal(), source, 1, Reach::kAppended);
    for (int i = 0; i < 300; ++i) {
      source.Append(log.wal());
      if (i % 3 == 0) log.wal().Commit();
      Turn(log.wal(), storage, 1);
    }
    while (log.wal().commit_pending()) Turn(log.wal(), storage);
    EXPECT_EQ(durable.next(), 301u);
    EXPECT_EQ(early.next(), 301u);
    // The early follower saw records before they were durable.
    size_t before_durable = 0;
    for (const auto& g : early.got()) before_durable += !g.durable;
    EXPECT_GT(before_durable, 0u);
    for (const auto& g : durable.got()) EXPECT_TRUE(g.durable);
  }
}

TEST(LogFollower, ASlowFollowerCatchesUpWithinItsBudget) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 4096, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  RecordSource source;
  CheckingFollower fast(log.wal(), source, 1);
  CheckingFollower slow(log.wal(), source, 1);
  slow.set_reads_when_told(false);  // takes nothing for a while
  for (int i = 0; i < 200; ++i) {
    source.Append(log.wal());
    if (i % 4 == 0) Turn(log.wal(), storage);
  }
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  EXPECT_EQ(fast.next(), 201u);
  EXPECT_EQ(slow.next(), 1u);
  EXPECT_GT(slow.told(), 0);
  // What the slow one has not read is kept for it.
  const size_t kept = log.wal().followers().retained_bytes();
  EXPECT_GT(kept, 0u);
  // Turning a record down leaves it for the next Read.
  auto none = slow.cursor().Read(SIZE_MAX, [](const wal::FollowedRecord&) { return false; });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
  EXPECT_EQ(slow.cursor().next_lsn().value(), 1u);
  // It catches up a little at a time: each Read stays within its budget,
  // and what everyone has read is let go as it goes.
  size_t reads = 0;
  size_t kept_before = kept;
  while (slow.next() <= 200) {
    auto n = slow.ReadOnce(1024);
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_GT(*n, 0u);
    EXPECT_LE(log.wal().followers().retained_bytes(), kept_before);
    kept_before = log.wal().followers().retained_bytes();
    ++reads;
  }
  EXPECT_GT(reads, 10u);
  EXPECT_EQ(slow.next(), 201u);
  EXPECT_EQ(log.wal().followers().retained_batches(), 0u);
  EXPECT_EQ(log.wal().followers().fell_behind(), 0u);
}

TEST(LogFollower, FallingBehindTheBoundIsAnErrorAndTheFollowerStartsOver) {
  MemStorage storage;
  LogFixture log(
      &storage,
      {.segment_bytes = 8192, .batch_bytes_max = 512, .follower_retained_bytes_max = 4096});
  ASSERT_TRUE(log.Open().ok());
  RecordSource source;
  CheckingFollower fast(log.wal(), source, 1);
  CheckingFollower slow(log.wal(), source, 1);
  slow.set_reads_when_told(false);
  for (int i = 0; i < 300; ++i) {
    source.Append(log.wal());
    if (i % 4 == 0) Turn(log.wal(), storage);
    // The bound holds, give or take the newest batch.
    EXPECT_LE(log.wal().followers().retained_bytes(), 4096u + 4096u);
  }
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  EXPECT_EQ(fast.next(), 301u);  // the fast one is not held back
  EXPECT_EQ(log.wal().followers().fell_behind(), 1u);
  const absl::Status st = slow.Drain();
  EXPECT_EQ(st.code(), absl::StatusCode::kOutOfRange) << st;
  EXPECT_NE(st.message().find("fell behind"), std::string::npos);
  EXPECT_EQ(slow.next(), 1u);
  // It stays so; following again from the start is refused too.
  EXPECT_EQ(slow.Drain().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log.wal().Follow(core::Lsn(1)).status().code(), absl::StatusCode::kOutOfRange);
  // Following from what the log still has works.
  slow.Close();
  CheckingFollower again(log.wal(), source, log.wal().durable_lsn().value() + 1);
  for (int i = 0; i < 20; ++i) source.Append(log.wal());
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  EXPECT_EQ(log.wal().durable_lsn().value(), 320u) << log.wal().failure();
  EXPECT_EQ(again.told(), 1) << again.last();
  EXPECT_EQ(again.next(), 321u);
  EXPECT_EQ(fast.next(), 321u);
}

TEST(LogFollower, FollowsFromMidStream) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  RecordSource source;
  for (int i = 0; i < 50; ++i) source.Append(log.wal());
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  // Nothing is kept while nobody follows.
  EXPECT_EQ(log.wal().followers().retained_bytes(), 0u);
  EXPECT_EQ(log.wal().Follow(core::Lsn(50)).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(log.wal().Follow(core::Lsn(52)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log.wal().Follow(core::Lsn(0)).status().code(), absl::StatusCode::kInvalidArgument);
  CheckingFollower first(log.wal(), source, 51);
  first.set_reads_when_told(false);
  for (int i = 0; i < 100; ++i) {
    source.Append(log.wal());
    if (i % 10 == 0) Turn(log.wal(), storage);
  }
  while (log.wal().commit_pending()) Turn(log.wal(), storage);
  // A second follower starts inside what is kept for the first, mid-batch.
  CheckingFollower second(log.wal(), source, 77);
  ASSERT_TRUE(second.Drain().ok());
  EXPECT_EQ(second.next(), 151u);
  ASSERT_TRUE(first.Drain().ok());
  EXPECT_EQ(first.next(), 151u);
  // Once both read everything and leave, nothing is kept.
  first.Close();
  second.Close();
  EXPECT_EQ(log.wal().followers().cursors(), 0u);
  EXPECT_EQ(log.wal().followers().retained_bytes(), 0u);
}

// Appends a few records on each of its turns, as the Faktory shard does.
class Producer final : public core::Participant {
 public:
  Producer(wal::Wal& wal, RecordSource& source) : wal_(wal), source_(source) {}
  void OnTurn() override {
    for (int i = 0; i < 1 + turns_++ % 4; ++i) source_.Append(wal_);
  }

 private:
  wal::Wal& wal_;
  RecordSource& source_;
  int turns_ = 0;
};

TEST(LogFollower, TheShardLoopDeliversWhatBecameDurable) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 256});
  ASSERT_TRUE(log.Open().ok());
  core::ManualClock clock;
  core::ShardRuntime runtime(clock, 64);
  RecordSource source;
  Producer producer(log.wal(), source);
  runtime.AttachJournal(&log.wal());
  runtime.AddParticipant(&producer);
  runtime.AddParticipant(&log.wal());
  CheckingFollower f(log.wal(), source, 1);
  for (int i = 0; i < 200; ++i) {
    runtime.RunOnce(0);
    // What the follower has is exactly what the loop saw durable.
    EXPECT_EQ(f.next(), log.wal().durable_lsn().value() + 1);
    storage.RunPending();  // the writes complete before the next wake-up
  }
  EXPECT_GT(log.wal().durable_lsn().value(), 400u);
  EXPECT_GT(log.wal().segment_count(), 20u);
  EXPECT_TRUE(f.last().ok()) << f.last();
}

TEST(LogFollower, ACursorOutlivingItsLogReadsAnError) {
  MemStorage storage;
  LogFixture log(&storage);
  ASSERT_TRUE(log.Open().ok());
  auto c = log.wal().Follow(core::Lsn(1));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(log.Open().ok());  // a new Wal: the old one is gone
  auto n = (*c)->Read(SIZE_MAX, [](const wal::FollowedRecord&) { return true; });
  EXPECT_EQ(n.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace werk::testing
