// The owner's operations on its jobs (core/partition.h), driven without
// sockets: a ShardRuntime on a ManualClock with an in-memory journal.

#include "core/partition.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/limits.h"

namespace werk::core {
namespace {

class PartitionTest : public ::testing::Test {
 protected:
  PartitionTest() : runtime_(clock_, 64), partition_(&runtime_, PartitionOptions{}) {
    runtime_.AttachJournal(&journal_);
  }

  JobSpec Job(std::string jid, std::string queue = "default", int64_t reserve_for = 0) {
    JobSpec job;
    job.jid = std::move(jid);
    job.jobtype = "T";
    job.args_json = "[]";
    job.queue = std::move(queue);
    job.reserve_for = reserve_for;
    EXPECT_TRUE(ValidateJob(job, runtime_.now(), partition_.options().limits).ok());
    return job;
  }
  // One loop iteration: the clock is read and the journal committed.
  void Iterate() { runtime_.RunOnce(0); }

  ManualClock clock_;
  VolatileJournal journal_;
  ShardRuntime runtime_;
  Partition partition_;
};

TEST_F(PartitionTest, PushLogsTheJobAndRefusesALiveJid) {
  EXPECT_TRUE(partition_.Push(Job("jid-00001")).ok());
  EXPECT_EQ(journal_.appended_lsn(), Lsn(1));
  const OpStatus again = partition_.Push(Job("jid-00001"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "jid jid-00001 is already in use by a live job");
  EXPECT_EQ(journal_.appended_lsn(), Lsn(1));  // nothing logged for it
}

TEST_F(PartitionTest, ReserveTakesQueuesInOrderAndSkipsPausedOnes) {
  ASSERT_TRUE(partition_.Push(Job("low-00001", "low")).ok());
  ASSERT_TRUE(partition_.Push(Job("high-0001", "high")).ok());
  EXPECT_FALSE(partition_.Reserve({"missing"}, "w")->has_value());
  OpResult<std::optional<std::string>> job = partition_.Reserve({"high", "low"}, "w");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_NE((*job)->find("\"jid\":\"high-0001\""), std::string::npos) << **job;
  ASSERT_TRUE(partition_.Commit(
      Mutation::Queue(runtime_.now(), MutationType::kQueuePause, QueueRecord{{"low"}, false})));
  EXPECT_FALSE(partition_.Reserve({"high", "low"}, "w")->has_value());
  EXPECT_EQ(partition_.state().reserved_size(), 1u);
}

TEST_F(PartitionTest, AckAndFailFollowFaktory) {
  ASSERT_TRUE(partition_.Push(Job("job-00001")).ok());
  // Neither ACK nor FAIL acts on a job that is not reserved; ACK says OK.
  EXPECT_TRUE(partition_.Ack("job-00001").ok());
  EXPECT_TRUE(partition_.Ack("never-seen").ok());
  EXPECT_EQ(partition_.Fail({"job-00001", "m", "E", {}}).message(), "Job not found job-00001");
  ASSERT_TRUE(partition_.Reserve({"default"}, "w")->has_value());
  EXPECT_TRUE(partition_.Fail({"job-00001", "boom", "E", {}}).ok());
  EXPECT_EQ(partition_.state().retries_size(), 1u);
  EXPECT_EQ(partition_.state().total_failures(), 1);
  ASSERT_TRUE(partition_.Push(Job("job-00002")).ok());
  ASSERT_TRUE(partition_.Reserve({"default"}, "w")->has_value());
  EXPECT_TRUE(partition_.Ack("job-00002").ok());
  EXPECT_EQ(partition_.state().total_processed(), 2);  // a failure is processed too
}

TEST_F(PartitionTest, AnExpiredReservationIsFailedByTheTimers) {
  ASSERT_TRUE(partition_.Push(Job("job-00001", "default", 60)).ok());
  ASSERT_TRUE(partition_.Reserve({"default"}, "w")->has_value());
  Iterate();
  partition_.FireTimers();
  EXPECT_EQ(partition_.timer_stats().reservations_expired, 0u);
  ASSERT_TRUE(partition_.NextTimerMs().has_value());
  clock_.Advance(61 * kNanosPerSecond);
  Iterate();  // the loop reads the clock
  partition_.FireTimers();
  EXPECT_EQ(partition_.timer_stats().reservations_expired, 1u);
  EXPECT_EQ(partition_.state().reserved_size(), 0u);
  EXPECT_EQ(partition_.state().retries_size(), 1u);
}

TEST_F(PartitionTest, NothingIsAcknowledgedOnceTheLogFailed) {
  ASSERT_TRUE(partition_.Push(Job("job-00001")).ok());
  journal_.FailAtNextCommit();
  Iterate();
  EXPECT_FALSE(partition_.writable());
  EXPECT_EQ(partition_.Push(Job("job-00002")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(partition_.Reserve({"default"}, "w").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(partition_.state().job_count(), 1u);
}

TEST_F(PartitionTest, QueueKnowledgeForTheGlobalOperations) {
  ASSERT_TRUE(partition_.Push(Job("job-00001", "a")).ok());
  clock_.Advance(kNanosPerSecond);
  Iterate();
  ASSERT_TRUE(partition_.Push(Job("job-00002", "b")).ok());
  EXPECT_EQ(partition_.KnownQueues({"a", "zzz"}, false), std::vector<std::string>{"a"});
  EXPECT_EQ(partition_.KnownQueues({}, true), (std::vector<std::string>{"a", "b"}));
  const std::vector<UnixNanos> oldest = partition_.OldestEnqueued({"a", "b", "zzz"});
  ASSERT_EQ(oldest.size(), 3u);
  EXPECT_LT(oldest[0], oldest[1]);
  EXPECT_EQ(oldest[2], 0);
}

TEST_F(PartitionTest, AStandbyRefusesEveryWriteAndFiresNoTimers) {
  ASSERT_TRUE(partition_.Push(Job("job-00001", "default", 60)).ok());
  ASSERT_TRUE(partition_.Reserve({"default"}, "w")->has_value());
  ASSERT_TRUE(partition_.Push(Job("job-00002")).ok());
  const Lsn before = journal_.appended_lsn();
  partition_.set_role(Role::kStandby);
  const OpStatus refused = partition_.Push(Job("job-00003"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(refused.message()), std::string(kStandbyMessage));
  EXPECT_EQ(partition_.Ack("job-00001").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(partition_.Fail({"job-00001", "m", "E", {}}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(partition_.Reserve({"default"}, "w").status().code(),
            absl::StatusCode::kFailedPrecondition);
  MutateSlicer slicer(MutateSetRecord{});
  EXPECT_FALSE(partition_.MutateSlice(slicer).ok());
  EXPECT_FALSE(partition_.CommitGlobal(Mutation::Flush(runtime_.now())).ok());
  clock_.Advance(61 * kNanosPerSecond);  // the reservation is overdue
  Iterate();
  partition_.FireTimers();
  EXPECT_EQ(partition_.timer_stats().reservations_expired, 0u);
  EXPECT_EQ(journal_.appended_lsn(), before);  // nothing was logged
  EXPECT_EQ(partition_.state().job_count(), 2u);
  partition_.set_role(Role::kPrimary);
  EXPECT_TRUE(partition_.Push(Job("job-00003")).ok());
}

// Promotion: the epoch record is logged while the partition is still a
// standby; an epoch that does not go up is refused and not logged. Once
// primary, the reservation the old primary made expires here.
TEST_F(PartitionTest, CommitEpochLogsTheNewEpochOnAStandby) {
  ASSERT_TRUE(partition_.Push(Job("job-00001", "default", 60)).ok());
  ASSERT_TRUE(partition_.Reserve({"default"}, "w")->has_value());
  partition_.set_role(Role::kStandby, "10.0.0.1:7500");
  const Lsn before = journal_.appended_lsn();
  ASSERT_TRUE(partition_.CommitEpoch(EpochRecord{2, before.next().value(), "10.0.0.2:7500"}));
  EXPECT_EQ(journal_.appended_lsn(), before.next());
  EXPECT_EQ(partition_.state().epochs().current(), Epoch(2));
  ASSERT_EQ(partition_.state().epochs().entries().size(), 1u);
  EXPECT_EQ(partition_.state().epochs().entries()[0].first_lsn, before.next());
  EXPECT_EQ(partition_.state().epochs().entries()[0].node, "10.0.0.2:7500");
  // Still a standby: only the epoch record gets through.
  EXPECT_EQ(partition_.role(), Role::kStandby);
  EXPECT_FALSE(partition_.Push(Job("job-00002")).ok());
  // The same epoch again, or a lower one: refused, nothing logged.
  const Lsn after = journal_.appended_lsn();
  EXPECT_FALSE(partition_.CommitEpoch(EpochRecord{2, after.next().value(), ""}));
  EXPECT_FALSE(partition_.CommitEpoch(EpochRecord{1, after.next().value(), ""}));
  EXPECT_EQ(journal_.appended_lsn(), after);
  EXPECT_EQ(partition_.state().epochs().current(), Epoch(2));
  // Primary: the timers resume, and the overdue reservation expires.
  partition_.set_role(Role::kPrimary);
  clock_.Advance(61 * kNanosPerSecond);
  Iterate();
  partition_.FireTimers();
  EXPECT_EQ(partition_.timer_stats().reservations_expired, 1u);
  EXPECT_TRUE(partition_.Push(Job("job-00002")).ok());
}

TEST_F(PartitionTest, ADeposedPrimaryRefusesEveryWriteNamingTheEpochAndThePrimary) {
  ASSERT_TRUE(partition_.Push(Job("job-00001", "default", 60)).ok());
  ASSERT_TRUE(partition_.Reserve({"default"}, "w")->has_value());
  partition_.Depose(Epoch(4), "10.0.0.2:7500");
  EXPECT_EQ(partition_.role(), Role::kDeposed);
  EXPECT_EQ(partition_.deposed_by(), Epoch(4));
  const Lsn before = journal_.appended_lsn();
  const OpStatus push = partition_.Push(Job("job-00002"));
  EXPECT_EQ(push.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(push.message(),
            "werk is deposed by epoch 4: it takes no writes; the primary is 10.0.0.2:7500 (its "
            "replication address)");
  EXPECT_EQ(partition_.Ack("job-00001"), push);
  // An older epoch does not replace the newer one; a newer one does.
  partition_.Depose(Epoch(3), "10.0.0.3:7500");
  EXPECT_EQ(partition_.CheckWritable(), push);
  partition_.Depose(Epoch(6), "");
  EXPECT_EQ(partition_.CheckWritable().message(),
            "werk is deposed by epoch 6: it takes no writes; the new primary's address is "
            "unknown");
  // No timer fires: the reservation stays as it is, and nothing is logged.
  clock_.Advance(61 * kNanosPerSecond);
  Iterate();
  partition_.FireTimers();
  EXPECT_EQ(partition_.timer_stats().reservations_expired, 0u);
  EXPECT_EQ(journal_.appended_lsn(), before);
}

}  // namespace
}  // namespace werk::core
