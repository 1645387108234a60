#include "core/state_machine.h"

#include <gtest/gtest.h>

#include <random>

#include "core/job_json.h"
#include "core/limits.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;  // 2026-11-22T15:45:10Z
constexpr UnixNanos kSec = kNanosPerSecond;

JobSpec Spec(std::string jid, std::string queue = "default", int64_t retry = 25) {
  JobSpec s;
  s.jid = std::move(jid);
  s.jobtype = "Work";
  s.queue = std::move(queue);
  s.args_json = "[1]";
  s.created_at = FormatRfc3339Nano(kT0);
  s.retry = retry;
  return s;
}

class StateMachineTest : public ::testing::Test {
 protected:
  StateMachine sm{kT0 / kNanosPerMilli};

  void Push(const JobSpec& s, UnixNanos t = kT0) {
    ASSERT_EQ(sm.Apply(Mutation::Push(t, s)), absl::OkStatus());
  }
  void Reserve(const std::string& jid, UnixNanos t = kT0, int64_t secs = 1800) {
    ASSERT_EQ(sm.Apply(Mutation::Reserve(t, jid, "w1", t + secs * kSec)), absl::OkStatus());
  }
  void Fail(const std::string& jid, UnixNanos t, int r = 0) {
    const Job* job = sm.FindJob(jid);
    ASSERT_NE(job, nullptr);
    ASSERT_EQ(sm.Apply(Mutation::Fail(
                  t, DecideFailure(*job, t, FailCause::kFail, "E", "boom", {"l1"}, r))),
              absl::OkStatus());
  }
  std::vector<const Job*> Due(UnixNanos t) {
    std::vector<const Job*> out;
    sm.DueJobs(t / kNanosPerMilli, out, 100000);
    return out;
  }
};

TEST_F(StateMachineTest, PushEnqueuesFifo) {
  Push(Spec("job-0001"));
  Push(Spec("job-0002"));
  const Queue* q = sm.FindQueue("default");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->size(), 2u);
  EXPECT_EQ(q->Front()->jid(), "job-0001");
  EXPECT_EQ(q->Front()->enqueued_at, kT0);
  EXPECT_EQ(sm.Apply(Mutation::Push(kT0, Spec("job-0001"))), absl::AlreadyExistsError(""));
  EXPECT_EQ(q->size(), 2u);
}

TEST_F(StateMachineTest, ScheduledJobComesDueThroughTimer) {
  JobSpec s = Spec("sched-001");
  s.at = "later";
  s.at_ns = kT0 + 10 * kSec + 1;  // sub-millisecond: must not fire early
  Push(s);
  EXPECT_EQ(sm.scheduled_size(), 1u);
  EXPECT_EQ(sm.FindQueue("default"), nullptr);  // queue not created until enqueued
  EXPECT_TRUE(Due(kT0 + 10 * kSec).empty());
  auto due = Due(kT0 + 10 * kSec + kNanosPerMilli);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]->jid(), "sched-001");
  ASSERT_EQ(sm.Apply(Mutation::EnqueueDue(kT0 + 11 * kSec, {"sched-001"})), absl::OkStatus());
  EXPECT_EQ(sm.scheduled_size(), 0u);
  EXPECT_EQ(sm.FindQueue("default")->size(), 1u);
  EXPECT_EQ(sm.FindJob("sched-001")->enqueued_at, kT0 + 11 * kSec);
}

TEST_F(StateMachineTest, AtInThePastEnqueuesNow) {
  JobSpec s = Spec("past-0001");
  s.at = "x";
  s.at_ns = kT0 - kSec;
  Push(s);
  EXPECT_EQ(sm.scheduled_size(), 0u);
  EXPECT_EQ(sm.FindQueue("default")->size(), 1u);
}

TEST_F(StateMachineTest, ReserveAckCounts) {
  Push(Spec("job-0001"));
  Reserve("job-0001");
  EXPECT_EQ(sm.reserved_size(), 1u);
  EXPECT_TRUE(sm.FindQueue("default")->empty());
  EXPECT_EQ(sm.Apply(Mutation::Reserve(kT0, "job-0001", "w", kT0)), absl::NotFoundError(""));
  ASSERT_EQ(sm.Apply(Mutation::Ack(kT0 + kSec, "job-0001")), absl::OkStatus());
  EXPECT_EQ(sm.FindJob("job-0001"), nullptr);
  EXPECT_EQ(sm.total_processed(), 1);
  EXPECT_EQ(sm.total_failures(), 0);
  EXPECT_EQ(sm.Apply(Mutation::Ack(kT0, "job-0001")), absl::NotFoundError(""));
  EXPECT_EQ(sm.history().at(UtcDayNumber(kT0)).processed, 1);
}

// Apply is on the hot path: its outcomes are a code without a message, which
// absl holds inline in the status (nothing allocated, nothing to free).
TEST_F(StateMachineTest, OutcomesAreCodesWithoutMessages) {
  Push(Spec("job-0001"));
  const OpStatus duplicate = sm.Apply(Mutation::Push(kT0, Spec("job-0001")));
  EXPECT_TRUE(absl::IsAlreadyExists(duplicate));
  EXPECT_TRUE(duplicate.message().empty());
  const OpStatus missing = sm.Apply(Mutation::Ack(kT0, "job-0002"));
  EXPECT_TRUE(absl::IsNotFound(missing));
  EXPECT_TRUE(missing.message().empty());
}

TEST_F(StateMachineTest, RetryDelayFormula) {
  // Reference §4.4 table: n^4 + 15 + r*(n+1).
  EXPECT_EQ(RetryDelaySeconds(0, 0), 15);
  EXPECT_EQ(RetryDelaySeconds(0, 29), 44);
  EXPECT_EQ(RetryDelaySeconds(1, 29), 74);
  EXPECT_EQ(RetryDelaySeconds(3, 0), 96);
  EXPECT_EQ(RetryDelaySeconds(10, 29), 10334);
  EXPECT_EQ(RetryDelaySeconds(24, 0), 331791);
  EXPECT_EQ(RetryDelaySeconds(24, 29), 332516);
}

TEST_F(StateMachineTest, FailRetriesThenDies) {
  Push(Spec("job-0001", "default", /*retry=*/2));
  // 1st failure: retry_count 0 < 2 -> retry.
  Reserve("job-0001");
  Fail("job-0001", kT0 + kSec, 5);
  const Job* job = sm.FindJob("job-0001");
  ASSERT_EQ(job->state, JobState::kRetry);
  EXPECT_EQ(job->failure->retry_count, 0);
  EXPECT_EQ(job->failure->remaining, 2);
  EXPECT_EQ(job->failure->failed_at, FormatRfc3339Nano(kT0 + kSec));
  EXPECT_EQ(job->set_key, kT0 + kSec + (15 + 5) * kSec);
  EXPECT_EQ(job->failure->next_at, FormatRfc3339Nano(job->set_key));
  EXPECT_EQ(sm.total_processed(), 1);
  EXPECT_EQ(sm.total_failures(), 1);
  // Due, back in the queue with its failure kept.
  auto due = Due(job->set_key);
  ASSERT_EQ(due.size(), 1u);
  ASSERT_EQ(sm.Apply(Mutation::EnqueueDue(job->set_key, {"job-0001"})), absl::OkStatus());
  // 2nd failure: retry_count 1 < 2 -> retry.
  Reserve("job-0001", kT0 + 100 * kSec);
  Fail("job-0001", kT0 + 101 * kSec);
  job = sm.FindJob("job-0001");
  EXPECT_EQ(job->state, JobState::kRetry);
  EXPECT_EQ(job->failure->retry_count, 1);
  EXPECT_EQ(job->failure->remaining, 1);
  EXPECT_EQ(job->failure->failed_at, FormatRfc3339Nano(kT0 + kSec));  // first failure kept
  ASSERT_EQ(sm.Apply(Mutation::EnqueueDue(kT0 + 200 * kSec, {"job-0001"})), absl::OkStatus());
  // 3rd failure: retry_count 2 >= 2 -> dead (three executions in all).
  Reserve("job-0001", kT0 + 300 * kSec);
  Fail("job-0001", kT0 + 301 * kSec);
  job = sm.FindJob("job-0001");
  EXPECT_EQ(job->state, JobState::kDead);
  EXPECT_EQ(job->failure->retry_count, 2);
  EXPECT_EQ(job->failure->remaining, 0);
  EXPECT_EQ(job->set_key, kT0 + 301 * kSec + kDeadTtlSeconds * kSec);
  EXPECT_EQ(sm.dead_size(), 1u);
  // Purged after 180 days.
  auto purge = Due(job->set_key);
  ASSERT_EQ(purge.size(), 1u);
  ASSERT_EQ(sm.Apply(Mutation::PurgeDead(job->set_key, {"job-0001"})), absl::OkStatus());
  EXPECT_EQ(sm.job_count(), 0u);
}

TEST_F(StateMachineTest, RetryZeroDiscardsNegativeGoesDead) {
  Push(Spec("zero-0001", "default", 0));
  Push(Spec("negv-0001", "default", -1));
  Reserve("zero-0001");
  Reserve("negv-0001");
  Fail("zero-0001", kT0);
  Fail("negv-0001", kT0);
  EXPECT_EQ(sm.FindJob("zero-0001"), nullptr);
  EXPECT_EQ(sm.FindJob("negv-0001")->state, JobState::kDead);
  EXPECT_EQ(sm.total_failures(), 2);
}

TEST_F(StateMachineTest, ReservationExpiryTimer) {
  Push(Spec("job-0001"));
  Reserve("job-0001", kT0, 60);
  EXPECT_TRUE(Due(kT0 + 59 * kSec).empty());
  auto due = Due(kT0 + 60 * kSec);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]->state, JobState::kReserved);
  auto rec = DecideFailure(*due[0], kT0 + 60 * kSec, FailCause::kReservationExpired,
                           "ReservationExpired", "Faktory job reservation expired", {}, 0);
  ASSERT_EQ(sm.Apply(Mutation::Fail(kT0 + 60 * kSec, rec)), absl::OkStatus());
  const Job* job = sm.FindJob("job-0001");
  EXPECT_EQ(job->state, JobState::kRetry);
  EXPECT_EQ(job->failure->errtype, "ReservationExpired");
}

TEST_F(StateMachineTest, AckCancelsReservationTimer) {
  Push(Spec("job-0001"));
  Reserve("job-0001", kT0, 60);
  ASSERT_EQ(sm.Apply(Mutation::Ack(kT0 + kSec, "job-0001")), absl::OkStatus());
  EXPECT_TRUE(Due(kT0 + 3600 * kSec).empty());
}

TEST_F(StateMachineTest, MutateFilters) {
  for (int i = 0; i < 6; ++i) {
    JobSpec s = Spec("job-000" + std::to_string(i), i % 2 ? "odd" : "even", 5);
    s.jobtype = i < 3 ? "Alpha" : "Beta";
    Push(s);
    Reserve(s.jid);
    Fail(s.jid, kT0);
  }
  ASSERT_EQ(sm.retries_size(), 6u);
  MutateSetRecord kill;
  kill.cmd = MutateCmd::kKill;
  kill.target = SetTarget::kRetries;
  kill.filter = MutateFilter{{"job-0000", "job-0005"}, "*ignored*", ""};
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, kill)), absl::OkStatus());
  EXPECT_EQ(sm.retries_size(), 4u);
  EXPECT_EQ(sm.dead_size(), 2u);

  MutateSetRecord requeue;
  requeue.cmd = MutateCmd::kRequeue;
  requeue.target = SetTarget::kRetries;
  requeue.filter = MutateFilter{{}, "", "Alpha"};
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, requeue)), absl::OkStatus());
  EXPECT_EQ(sm.retries_size(), 2u);  // job-0001, job-0002 requeued
  EXPECT_EQ(sm.FindQueue("odd")->size(), 1u);
  EXPECT_EQ(sm.FindQueue("even")->size(), 1u);

  MutateSetRecord discard;
  discard.cmd = MutateCmd::kDiscard;
  discard.target = SetTarget::kRetries;
  discard.filter = MutateFilter{{}, "*\"queue\":\"odd\"*", "Beta"};
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, discard)), absl::OkStatus());
  EXPECT_EQ(sm.retries_size(), 1u);  // job-0004 (even) remains
  EXPECT_NE(sm.FindJob("job-0004"), nullptr);

  MutateSetRecord clear;
  clear.cmd = MutateCmd::kClear;
  clear.target = SetTarget::kDead;
  clear.filter = MutateFilter{{"nothing"}, "", ""};  // clear ignores the filter
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, clear)), absl::OkStatus());
  EXPECT_EQ(sm.dead_size(), 0u);

  MutateSetRecord discard_all;
  discard_all.cmd = MutateCmd::kDiscard;
  discard_all.target = SetTarget::kRetries;
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, discard_all)), absl::OkStatus());
  EXPECT_EQ(sm.retries_size(), 0u);
}

TEST_F(StateMachineTest, MutateKillScheduled) {
  JobSpec s = Spec("sched-001");
  s.at_ns = kT0 + 3600 * kSec;
  Push(s);
  MutateSetRecord kill;
  kill.cmd = MutateCmd::kKill;
  kill.target = SetTarget::kScheduled;
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, kill)), absl::OkStatus());
  EXPECT_EQ(sm.dead_size(), 1u);
  EXPECT_TRUE(Due(kT0 + 7200 * kSec).empty());  // its schedule timer is gone
}

TEST_F(StateMachineTest, QueuePauseResumeRemove) {
  Push(Spec("job-0001", "a"));
  Push(Spec("job-0002", "b"));
  ASSERT_EQ(sm.Apply(Mutation::Queue(kT0, MutationType::kQueuePause, {{"a", "nope"}, false})),
            absl::OkStatus());
  EXPECT_TRUE(sm.FindQueue("a")->paused());
  EXPECT_FALSE(sm.FindQueue("b")->paused());
  EXPECT_EQ(sm.FindQueue("nope"), nullptr);
  ASSERT_EQ(sm.Apply(Mutation::Queue(kT0, MutationType::kQueuePause, {{}, true})),
            absl::OkStatus());
  EXPECT_TRUE(sm.FindQueue("b")->paused());
  ASSERT_EQ(sm.Apply(Mutation::Queue(kT0, MutationType::kQueueResume, {{"a"}, false})),
            absl::OkStatus());
  EXPECT_FALSE(sm.FindQueue("a")->paused());
  ASSERT_EQ(sm.Apply(Mutation::Queue(kT0, MutationType::kQueueRemove, {{"b"}, false})),
            absl::OkStatus());
  EXPECT_EQ(sm.FindQueue("b"), nullptr);
  EXPECT_EQ(sm.FindJob("job-0002"), nullptr);
}

// Regression: a queue named twice was removed twice (use after free), in a
// live command and again on every replay of its record.
TEST_F(StateMachineTest, QueueNamedTwiceIsOneQueue) {
  Push(Spec("job-0001", "q2"));
  Push(Spec("job-0002", "q2"));
  Push(Spec("job-0003", "other"));
  for (MutationType type : {MutationType::kQueuePause, MutationType::kQueueResume,
                            MutationType::kQueueRemove}) {
    ASSERT_EQ(sm.Apply(Mutation::Queue(kT0, type, {{"q2", "q2", "nope", "q2"}, false})),
              absl::OkStatus());
  }
  EXPECT_EQ(sm.FindQueue("q2"), nullptr);
  EXPECT_EQ(sm.job_count(), 1u);
  EXPECT_EQ(sm.queued_total(), 1u);
}

// Times at the ends of the range (a client's `at`, a pushed failure's retry
// count) saturate instead of overflowing.
TEST_F(StateMachineTest, ExtremeTimesAndCountsSaturate) {
  JobSpec far = Spec("job-0001");
  far.at_ns = INT64_MAX;
  far.at = "9999-12-31T23:59:59Z";
  Push(far, kT0);
  EXPECT_EQ(sm.FindJob("job-0001")->state, JobState::kScheduled);
  JobSpec worn = Spec("job-0002");
  worn.failure = Failure{};
  worn.failure->retry_count = INT64_MAX - 2;
  worn.retry = INT64_MAX;
  Push(worn);
  Reserve("job-0002");
  FailRecord r = DecideFailure(*sm.FindJob("job-0002"), INT64_MAX - 1, FailCause::kFail, "E",
                               "m", {}, 29);
  EXPECT_EQ(r.outcome, FailOutcome::kRetry);
  EXPECT_EQ(r.retry_at, INT64_MAX);
  ASSERT_EQ(sm.Apply(Mutation::Fail(INT64_MAX - 1, r)), absl::OkStatus());
  EXPECT_EQ(sm.FindJob("job-0002")->failure->retry_count, INT64_MAX - 1);
  // Kill at the end of time: the dead set's purge time saturates too.
  MutateSetRecord kill;
  kill.cmd = MutateCmd::kKill;
  kill.target = SetTarget::kRetries;
  ASSERT_EQ(sm.Apply(Mutation::MutateSet(INT64_MAX, kill)), absl::OkStatus());
  EXPECT_EQ(sm.FindJob("job-0002")->state, JobState::kDead);
}

// A global operation is applied whole or not at all: a step that is not a
// plain mutation makes the record invalid, and nothing of it is applied.
TEST_F(StateMachineTest, MalformedGlobalOperationAppliesNothing) {
  Push(Spec("job-0001", "a"));
  GlobalOpRecord g;
  g.origin = 1;
  g.id = 1;
  g.steps = {EncodeMutation(Mutation::Queue(kT0, MutationType::kQueueRemove, {{"a"}, false})),
             "not a mutation"};
  EXPECT_EQ(sm.Apply(Mutation::Global(kT0, g)), absl::InvalidArgumentError(""));
  EXPECT_NE(sm.FindQueue("a"), nullptr);
  EXPECT_TRUE(sm.last_global_ops().empty());
  g.steps.pop_back();
  g.id = 0;
  EXPECT_EQ(sm.Apply(Mutation::Global(kT0, g)), absl::InvalidArgumentError(""));
  g.id = 1;
  EXPECT_EQ(sm.Apply(Mutation::Global(kT0, g)), absl::OkStatus());
  EXPECT_EQ(sm.FindQueue("a"), nullptr);
}

TEST_F(StateMachineTest, FlushWipesEverything) {
  Push(Spec("job-0001"));
  Push(Spec("job-0002"));
  Reserve("job-0002");
  ASSERT_EQ(sm.Apply(Mutation::Ack(kT0, "job-0002")), absl::OkStatus());
  ASSERT_EQ(sm.Apply(Mutation::Flush(kT0)), absl::OkStatus());
  EXPECT_EQ(sm.job_count(), 0u);
  EXPECT_TRUE(sm.SortedQueues().empty());
  EXPECT_EQ(sm.total_processed(), 0);
  EXPECT_TRUE(sm.history().empty());
}

TEST_F(StateMachineTest, WorkerStates) {
  EXPECT_EQ(sm.worker_state("w"), WorkerState::kRunning);
  (void)sm.Apply(Mutation::SetWorkerState(kT0, "w", WorkerState::kQuiet));
  EXPECT_EQ(sm.worker_state("w"), WorkerState::kQuiet);
  (void)sm.Apply(Mutation::ForgetWorker(kT0, "w"));
  EXPECT_EQ(sm.worker_state("w"), WorkerState::kRunning);
}

TEST_F(StateMachineTest, HistoryKeepsOneHundredEightyDays) {
  for (int day = 0; day < 200; ++day) {
    const std::string jid = "job-" + std::to_string(10000 + day);
    const UnixNanos t = kT0 + int64_t(day) * 86400 * kSec;
    Push(Spec(jid), t);
    Reserve(jid, t);
    ASSERT_EQ(sm.Apply(Mutation::Ack(t, jid)), absl::OkStatus());
  }
  EXPECT_EQ(sm.history().size(), size_t(kHistoryDaysMax));
  EXPECT_EQ(sm.total_processed(), 200);
}

// Replaying the encoded records into a fresh state machine gives the same
// state: the property WAL replay and the standby rely on.
TEST_F(StateMachineTest, EpochRecordsBuildTheHistoryAndRefuseGoingBack) {
  EXPECT_EQ(sm.epochs().current(), Epoch(1));
  ASSERT_EQ(sm.Apply(Mutation::NewEpoch(kT0, {2, 10, "a:1"})), absl::OkStatus());
  ASSERT_EQ(sm.Apply(Mutation::NewEpoch(kT0, {5, 40, "b:1"})), absl::OkStatus());
  EXPECT_EQ(sm.epochs().current(), Epoch(5));
  // Lower or equal epoch, or an LSN not after the last start: the log is wrong.
  EXPECT_TRUE(absl::IsFailedPrecondition(sm.Apply(Mutation::NewEpoch(kT0, {5, 50, "c"}))));
  EXPECT_TRUE(absl::IsFailedPrecondition(sm.Apply(Mutation::NewEpoch(kT0, {6, 40, "c"}))));
  ASSERT_EQ(sm.epochs().entries().size(), 2u);
  // A log that stopped in epoch 1 or 2 diverges where the next one began.
  EXPECT_EQ(sm.epochs().ForkAfter(Epoch(1)), Lsn(10));
  EXPECT_EQ(sm.epochs().ForkAfter(Epoch(2)), Lsn(40));
  EXPECT_EQ(sm.epochs().ForkAfter(Epoch(4)), Lsn(40));
  EXPECT_EQ(sm.epochs().ForkAfter(Epoch(5)), std::nullopt);
  // A restart of the primary: the same number, a new run (an id).
  ASSERT_EQ(sm.Apply(Mutation::NewEpoch(kT0, {5, 50, "b:1", 0x77})), absl::OkStatus());
  EXPECT_EQ(sm.epochs().current(), Epoch(5));
  ASSERT_EQ(sm.epochs().entries().size(), 3u);
  ASSERT_EQ(sm.Apply(Mutation::NewEpoch(kT0, {5, 60, "b:1", 0x78})), absl::OkStatus());
  ASSERT_EQ(sm.epochs().entries().size(), 4u);
  // Alone from the first "alone" until a standby has everything again.
  ASSERT_EQ(sm.Apply(Mutation::Replication(kT0, {true, 61})), absl::OkStatus());
  ASSERT_EQ(sm.Apply(Mutation::Replication(kT0, {true, 70})), absl::OkStatus());
  EXPECT_EQ(sm.epochs().alone_since(), Lsn(61));
  // FLUSH wipes jobs, not the log's history.
  ASSERT_EQ(sm.Apply(Mutation::Flush(kT0)), absl::OkStatus());
  EXPECT_EQ(sm.epochs().entries().size(), 4u);
  EXPECT_EQ(sm.epochs().alone_since(), Lsn(61));
  // The checkpoint keeps all of it.
  StateMachine back(kT0 / kNanosPerMilli);
  bool restored = true;
  sm.Snapshot([&](SnapshotItemType t, std::string_view b) { restored &= back.RestoreItem(t, b); });
  ASSERT_TRUE(restored);
  EXPECT_EQ(back.epochs(), sm.epochs());
  EXPECT_EQ(back.StateHash(), sm.StateHash());
  ASSERT_EQ(sm.Apply(Mutation::Replication(kT0, {false, 80})), absl::OkStatus());
  EXPECT_EQ(sm.epochs().alone_since(), std::nullopt);
  EXPECT_NE(back.StateHash(), sm.StateHash());
}

TEST(StateMachineReplay, EncodedRecordsReproduceTheState) {
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    std::mt19937_64 rng(seed);
    StateMachine live(kT0 / kNanosPerMilli);
    std::vector<std::string> log;
    UnixNanos now = kT0;
    auto apply = [&](const Mutation& m) {
      if (live.Apply(m) == absl::OkStatus()) log.push_back(EncodeMutation(m));
    };
    std::vector<std::string> jids;
    for (int step = 0; step < 800; ++step) {
      now += int64_t(rng() % 5000) * kNanosPerMilli;
      const int op = int(rng() % 12);
      if (op < 4 || jids.empty()) {
        JobSpec s = Spec("job-" + std::to_string(seed) + "-" + std::to_string(step),
                         rng() % 2 ? "a" : "b", int64_t(rng() % 4) - 1);
        if (rng() % 4 == 0) s.at_ns = now + int64_t(rng() % 20) * kSec;
        jids.push_back(s.jid);
        apply(Mutation::Push(now, s));
        continue;
      }
      const std::string& jid = jids[rng() % jids.size()];
      const Job* job = live.FindJob(jid);
      if (op < 6 && job && job->state == JobState::kQueued) {
        apply(Mutation::Reserve(now, jid, "w", now + 60 * kSec));
      } else if (op < 7 && job && job->state == JobState::kReserved) {
        apply(Mutation::Ack(now, jid));
      } else if (op < 8 && job && job->state == JobState::kReserved) {
        apply(Mutation::Fail(now, DecideFailure(*job, now, FailCause::kFail, "E", "m", {},
                                                int(rng() % 30))));
      } else if (op < 9) {
        MutateSetRecord r;
        r.cmd = MutateCmd(1 + rng() % 4);
        r.target = SetTarget(1 + rng() % 3);
        if (rng() % 2) r.filter = MutateFilter{{jid}, "", ""};
        apply(Mutation::MutateSet(now, r));
      } else if (op < 10) {
        apply(Mutation::Queue(now, MutationType(uint8_t(MutationType::kQueuePause) + rng() % 2),
                              {{rng() % 2 ? "a" : "b"}, false}));
      }
      // Timers, as the shard would turn them into records.
      std::vector<const Job*> due;
      live.DueJobs(now / kNanosPerMilli, due, 100000);
      std::vector<std::string> enqueue, purge;
      std::vector<FailRecord> expired;
      for (const Job* j : due) {
        if (j->state == JobState::kScheduled || j->state == JobState::kRetry)
          enqueue.emplace_back(j->jid());
        else if (j->state == JobState::kDead)
          purge.emplace_back(j->jid());
        else if (j->state == JobState::kReserved)
          expired.push_back(DecideFailure(*j, now, FailCause::kReservationExpired, "R", "x", {}, 1));
      }
      for (auto& f : expired) apply(Mutation::Fail(now, f));
      if (!enqueue.empty()) apply(Mutation::EnqueueDue(now, enqueue));
      if (!purge.empty()) apply(Mutation::PurgeDead(now, purge));
    }
    StateMachine replica(kT0 / kNanosPerMilli);
    for (const auto& bytes : log) {
      auto m = DecodeMutation(bytes);
      ASSERT_TRUE(m.has_value());
      ASSERT_EQ(replica.Apply(*m), absl::OkStatus()) << "seed " << seed;
    }
    EXPECT_EQ(replica.StateHash(), live.StateHash()) << "seed " << seed;
    EXPECT_EQ(replica.job_count(), live.job_count());
  }
}

}  // namespace
}  // namespace werk::core
