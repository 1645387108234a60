// FLUSH and QUEUE REMOVE apply in O(1) and leave their jobs to the graveyard
// (core/graveyard.h); freeing them a slice at a time changes nothing a reader
// of the state can see. Run under ASan, these also check that every removed
// job is freed exactly once, whatever order removals, pushes and flushes
// come in.

#include <gtest/gtest.h>

#include <string>

#include "core/state_machine.h"
#include "core/time_format.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;
constexpr UnixNanos kSec = kNanosPerSecond;

JobSpec Spec(const std::string& jid, const std::string& queue) {
  JobSpec s;
  s.jid = jid;
  s.jobtype = "Work";
  s.queue = queue;
  s.args_json = "[1]";
  s.created_at = FormatRfc3339Nano(kT0);
  s.retry = 25;
  return s;
}

std::string Jid(int i) { return "job-" + std::to_string(100000 + i); }

void Push(StateMachine& sm, const std::string& jid, const std::string& queue,
          UnixNanos at = 0) {
  JobSpec s = Spec(jid, queue);
  if (at) {
    s.at_ns = at;
    s.at = FormatRfc3339Nano(at);
  }
  ASSERT_EQ(sm.Apply(Mutation::Push(kT0, s)), absl::OkStatus());
}

Mutation Remove(const std::string& queue) {
  return Mutation::Queue(kT0, MutationType::kQueueRemove, {{queue}, false});
}

TEST(Graveyard, RemovedQueueIsGoneAtOnceAndFreedInSlices) {
  StateMachine sm(kT0 / kNanosPerMilli);
  StateMachine twin(kT0 / kNanosPerMilli);  // never had the removed queue
  for (int i = 0; i < 1000; ++i) Push(sm, Jid(i), "big");
  for (int i = 1000; i < 1010; ++i) {
    Push(sm, Jid(i), "small");
    Push(twin, Jid(i), "small");
  }
  ASSERT_EQ(sm.Apply(Remove("big")), absl::OkStatus());
  EXPECT_EQ(sm.FindQueue("big"), nullptr);
  EXPECT_EQ(sm.FindJob(Jid(0)), nullptr);
  EXPECT_EQ(sm.job_count(), 10u);
  EXPECT_EQ(sm.queued_total(), 10u);
  EXPECT_EQ(sm.StateHash(), twin.StateHash());
  EXPECT_TRUE(sm.has_garbage());
  EXPECT_EQ(sm.garbage_jobs(), 1000u);
  // Doomed jobs cannot be reserved or acknowledged.
  EXPECT_EQ(sm.Apply(Mutation::Reserve(kT0, Jid(1), "w", kT0 + 60 * kSec)),
            absl::NotFoundError(""));
  int slices = 0;
  while (sm.has_garbage()) {
    const size_t before = sm.garbage_jobs();
    sm.Reclaim(64);
    EXPECT_LE(before - sm.garbage_jobs(), 64u);
    EXPECT_EQ(sm.StateHash(), twin.StateHash());
    EXPECT_EQ(sm.job_count(), 10u);
    ++slices;
  }
  EXPECT_EQ(slices, 16);  // 1000 jobs, 64 at a time
  EXPECT_EQ(sm.garbage_jobs(), 0u);
}

TEST(Graveyard, PushOfARemovedJidReplacesIt) {
  StateMachine sm(kT0 / kNanosPerMilli);
  for (int i = 0; i < 10; ++i) Push(sm, Jid(i), "q");
  ASSERT_EQ(sm.Apply(Remove("q")), absl::OkStatus());
  Push(sm, Jid(3), "q");  // not a duplicate: the old job is gone
  ASSERT_NE(sm.FindJob(Jid(3)), nullptr);
  EXPECT_EQ(sm.job_count(), 1u);
  sm.Reclaim(1000);
  EXPECT_FALSE(sm.has_garbage());
  const Job* job = sm.FindJob(Jid(3));
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(sm.FindQueue("q")->size(), 1u);
  EXPECT_EQ(sm.job_count(), 1u);
}

TEST(Graveyard, FlushIsImmediateAndTheOldTimersNeverFire) {
  StateMachine sm(kT0 / kNanosPerMilli);
  for (int i = 0; i < 100; ++i) Push(sm, Jid(i), "q", i % 2 ? kT0 + 10 * kSec : 0);
  ASSERT_EQ(sm.Apply(Mutation::Reserve(kT0, Jid(0), "w", kT0 + 60 * kSec)), absl::OkStatus());
  ASSERT_EQ(sm.Apply(Mutation::Flush(kT0)), absl::OkStatus());
  EXPECT_EQ(sm.job_count(), 0u);
  EXPECT_EQ(sm.scheduled_size(), 0u);
  EXPECT_EQ(sm.reserved_size(), 0u);
  EXPECT_FALSE(sm.NextTimerMs().has_value());
  EXPECT_EQ(sm.StateHash(), StateMachine(kT0 / kNanosPerMilli).StateHash());
  // A job pushed now is timed by the new wheel, at the old wheel's time.
  Push(sm, "after-flush", "q", kT0 + 5 * kSec);
  std::vector<const Job*> due;
  sm.DueJobs((kT0 + 20 * kSec) / kNanosPerMilli, due, 100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]->jid(), "after-flush");
  while (sm.has_garbage()) sm.Reclaim(7);
  EXPECT_EQ(sm.job_count(), 1u);
}

// A queue removed, one of its jids pushed again, then a flush: every job is
// freed once (ASan), in whatever slices.
TEST(Graveyard, RemovalsPushesAndFlushesInterleaved) {
  for (size_t slice : {1u, 3u, 50u, 100000u}) {
    StateMachine sm(kT0 / kNanosPerMilli);
    for (int i = 0; i < 60; ++i) Push(sm, Jid(i), i % 3 ? "a" : "b", i % 5 ? 0 : kT0 + kSec);
    ASSERT_EQ(sm.Apply(Remove("a")), absl::OkStatus());
    Push(sm, Jid(1), "a");  // replaces a doomed entry
    Push(sm, Jid(2), "c");
    sm.Reclaim(slice);
    ASSERT_EQ(sm.Apply(Mutation::Flush(kT0)), absl::OkStatus());
    EXPECT_EQ(sm.job_count(), 0u);
    Push(sm, Jid(4), "b");  // was doomed, then flushed
    ASSERT_EQ(sm.Apply(Remove("b")), absl::OkStatus());
    Push(sm, Jid(5), "d");
    ASSERT_EQ(sm.Apply(Mutation::Flush(kT0)), absl::OkStatus());
    Push(sm, Jid(6), "d");
    while (sm.has_garbage()) sm.Reclaim(slice);
    EXPECT_EQ(sm.job_count(), 1u);
    EXPECT_NE(sm.FindJob(Jid(6)), nullptr);
  }
}

// What is left to free is counted exactly: the job a push replaced stays a
// removed queue's to free, the new one the flush's.
TEST(Graveyard, CountsWhatIsLeftToFree) {
  StateMachine sm(kT0 / kNanosPerMilli);
  for (int i = 0; i < 10; ++i) Push(sm, Jid(i), "q");
  ASSERT_EQ(sm.Apply(Remove("q")), absl::OkStatus());
  EXPECT_EQ(sm.garbage_jobs(), 10u);
  Push(sm, Jid(3), "q");
  Push(sm, Jid(20), "other");
  EXPECT_EQ(sm.garbage_jobs(), 10u);
  ASSERT_EQ(sm.Apply(Mutation::Flush(kT0)), absl::OkStatus());
  EXPECT_EQ(sm.garbage_jobs(), 12u);
  while (sm.has_garbage()) {
    const size_t before = sm.garbage_jobs();
    sm.Reclaim(3);
    EXPECT_LT(sm.garbage_jobs(), before + 1);
  }
  EXPECT_EQ(sm.garbage_jobs(), 0u);
}

TEST(Graveyard, DestroyedWithGarbageLeft) {
  auto sm = std::make_unique<StateMachine>(kT0 / kNanosPerMilli);
  for (int i = 0; i < 100; ++i) Push(*sm, Jid(i), i % 2 ? "a" : "b", i % 3 ? 0 : kT0 + kSec);
  ASSERT_EQ(sm->Apply(Remove("a")), absl::OkStatus());
  ASSERT_EQ(sm->Apply(Mutation::Flush(kT0)), absl::OkStatus());
  for (int i = 0; i < 10; ++i) Push(*sm, Jid(i), "a");
  ASSERT_EQ(sm->Apply(Remove("a")), absl::OkStatus());
  sm.reset();  // ASan: nothing leaks, nothing is freed twice
}

}  // namespace
}  // namespace werk::core
