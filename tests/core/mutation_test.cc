#include "core/mutation.h"

#include <gtest/gtest.h>

#include <random>

namespace werk::core {
namespace {

JobSpec SampleJob() {
  JobSpec j;
  j.jid = "jid-00000001";
  j.jobtype = "SendEmail";
  j.queue = "critical";
  j.args_json = R"([1,"two",{"three":3}])";
  j.custom_json = R"({"k":"v"})";
  j.created_at = "2026-11-22T15:45:10.1Z";
  j.at = "2026-11-23T00:00:00Z";
  j.at_ns = 123456789;
  j.retry = -1;
  j.reserve_for = 600;
  j.backtrace = 5;
  Failure f;
  f.retry_count = 2;
  f.remaining = 23;
  f.failed_at = "x";
  f.backtrace = {"a", "b"};
  j.failure = f;
  return j;
}

std::vector<Mutation> AllKinds() {
  FailRecord fr;
  fr.jid = "jid-00000001";
  fr.cause = FailCause::kReservationExpired;
  fr.outcome = FailOutcome::kDead;
  fr.errtype = "E";
  fr.message = "m";
  fr.backtrace = {"l1"};
  fr.retry_at = -5;
  MutateSetRecord ms;
  ms.cmd = MutateCmd::kRequeue;
  ms.target = SetTarget::kDead;
  ms.filter = MutateFilter{{"a", "b"}, "*x*", "T"};
  return {
      Mutation::Push(1, SampleJob()),
      Mutation::Reserve(2, "jid", "wid", 99),
      Mutation::Ack(3, "jid"),
      Mutation::Fail(4, fr),
      Mutation::EnqueueDue(5, {"a", "b", "c"}),
      Mutation::PurgeDead(6, {}),
      Mutation::MutateSet(7, ms),
      Mutation::MutateSet(7, MutateSetRecord{}),
      Mutation::Queue(8, MutationType::kQueuePause, QueueRecord{{"q1", "q2"}, false}),
      Mutation::Queue(9, MutationType::kQueueResume, QueueRecord{{}, true}),
      Mutation::Queue(10, MutationType::kQueueRemove, QueueRecord{{"q"}, false}),
      Mutation::Flush(11),
      Mutation::SetWorkerState(12, "w", WorkerState::kTerminate),
      Mutation::ForgetWorker(13, "w"),
      Mutation::Queue(14, MutationType::kQueueDeclare, QueueRecord{{"q3"}, false}),
      Mutation::Global(15, GlobalOpRecord{3, 42,
                                          {EncodeMutation(Mutation::Flush(15)),
                                           EncodeMutation(Mutation::Queue(
                                               15, MutationType::kQueuePause,
                                               QueueRecord{{"q"}, false}))}}),
      Mutation::Global(16, GlobalOpRecord{0, 1, {}}),
      Mutation::NewEpoch(17, EpochRecord{2, 1234, "10.0.0.2:7420"}),
      Mutation::NewEpoch(18, EpochRecord{7, 1, ""}),
      Mutation::NewEpoch(21, EpochRecord{3, 77, "10.0.0.3:7420", 0x9e3779b97f4a7c15}),
      Mutation::Replication(19, ReplicationRecord{true, 55}),
      Mutation::Replication(20, ReplicationRecord{false, 0}),
      Mutation::CronPush(22, CronPushRecord{0x9e3779b97f4a7c15, 1'795'362'300, SampleJob()}),
      Mutation::CronPush(23, CronPushRecord{1, -60, JobSpec{}}),
  };
}

TEST(Mutation, RoundTripsEveryKind) {
  for (const Mutation& m : AllKinds()) {
    const std::string bytes = EncodeMutation(m);
    auto back = DecodeMutation(bytes);
    ASSERT_TRUE(back.has_value()) << MutationTypeName(m.type);
    EXPECT_EQ(*back, m) << MutationTypeName(m.type);
  }
}

TEST(Mutation, ACronPushNeedsAnEntry) {
  std::string bytes =
      EncodeMutation(Mutation::CronPush(1, CronPushRecord{7, 60, SampleJob()}));
  ASSERT_TRUE(DecodeMutation(bytes));
  // The entry id follows type, version and the time (one varint byte).
  ASSERT_EQ(uint8_t(bytes[3]), 7);
  bytes[3] = 0;
  EXPECT_FALSE(DecodeMutation(bytes));
}

TEST(Mutation, EveryTruncationIsRejected) {
  for (const Mutation& m : AllKinds()) {
    const std::string bytes = EncodeMutation(m);
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(DecodeMutation(bytes.substr(0, n)).has_value())
          << MutationTypeName(m.type) << " cut at " << n;
    }
    EXPECT_FALSE(DecodeMutation(bytes + "x").has_value()) << "trailing byte accepted";
  }
}

TEST(Mutation, UnknownTypeOrVersionIsRejected) {
  std::string bytes = EncodeMutation(Mutation::Flush(1));
  bytes[0] = char(200);
  EXPECT_FALSE(DecodeMutation(bytes).has_value());
  bytes = EncodeMutation(Mutation::Flush(1));
  bytes[1] = char(kMutationFormatVersion + 1);
  EXPECT_FALSE(DecodeMutation(bytes).has_value());
}

TEST(Mutation, AnEpochRecordNeedsAnEpochAndItsLsn) {
  EXPECT_FALSE(DecodeMutation(EncodeMutation(Mutation::NewEpoch(1, EpochRecord{0, 5, "n"}))));
  EXPECT_FALSE(DecodeMutation(EncodeMutation(Mutation::NewEpoch(1, EpochRecord{3, 0, "n"}))));
  std::string bytes = EncodeMutation(Mutation::Replication(1, ReplicationRecord{true, 9}));
  bytes[3] = char(2);  // "alone" is a flag (after type, version and a 1-byte time)
  EXPECT_FALSE(DecodeMutation(bytes));
}

TEST(Mutation, AnEpochRecordsRunIdIsItsVersionTwo) {
  // With an id: version 2, and the id must be there and not 0.
  std::string with = EncodeMutation(Mutation::NewEpoch(1, EpochRecord{3, 5, "n", 0x42}));
  EXPECT_EQ(uint8_t(with[1]), kEpochRecordIdVersion);
  with.back() = char(0);  // the id, a one-byte varint
  EXPECT_FALSE(DecodeMutation(with));
  // Without (a log from before ids): version 1, read as id 0.
  const std::string without = EncodeMutation(Mutation::NewEpoch(1, EpochRecord{3, 5, "n"}));
  EXPECT_EQ(uint8_t(without[1]), kMutationFormatVersion);
  EXPECT_EQ(std::get<EpochRecord>(DecodeMutation(without)->body).id, 0u);
  // Version 2 is the epoch record's only.
  std::string flush = EncodeMutation(Mutation::Flush(1));
  flush[1] = char(kEpochRecordIdVersion);
  EXPECT_FALSE(DecodeMutation(flush));
}

TEST(Mutation, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& c : bytes) c = char(rng());
    if (!bytes.empty() && rng() % 2) bytes[0] = char(1 + rng() % 13);
    if (bytes.size() > 1 && rng() % 2) bytes[1] = char(kMutationFormatVersion);
    (void)DecodeMutation(bytes);
  }
}

}  // namespace
}  // namespace werk::core
