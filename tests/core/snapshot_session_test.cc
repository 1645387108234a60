// Snapshots built in slices (core/snapshot_session.h): whatever is applied
// between slices, the image restores to exactly the state as of the start
// (S1, S2), an abort leaves no trace (S6), and queues keep FIFO order (S5).

#include "core/snapshot_session.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/byte_codec.h"
#include "core/job_json.h"
#include "core/state_machine.h"
#include "core/time_format.h"
#include "tests/support/mutation_gen.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;
constexpr UnixNanos kSec = kNanosPerSecond;

using Items = std::vector<std::pair<SnapshotItemType, std::string>>;

SnapshotSink Into(Items& items) {
  return [&items](SnapshotItemType t, std::string_view b) { items.emplace_back(t, std::string(b)); };
}

std::unique_ptr<StateMachine> Restored(const Items& items) {
  auto sm = std::make_unique<StateMachine>(0);
  for (const auto& [t, b] : items) EXPECT_TRUE(sm->RestoreItem(t, b));
  sm->FinishRestore();
  return sm;
}

// The jids of the job items, each once (S2).
std::multiset<std::string> JobJids(const Items& items) {
  std::multiset<std::string> out;
  for (const auto& [t, b] : items) {
    if (t != SnapshotItemType::kJob) continue;
    ByteReader r(b);
    JobView v;
    std::optional<Failure> f;
    EXPECT_TRUE(ReadJobView(r, &v, &f));
    out.emplace(v.jid);
  }
  return out;
}

struct Rng {
  std::mt19937_64 rng;
  uint64_t Pick(uint64_t n) { return n == 0 ? 0 : rng() % n; }
  bool Done() const { return false; }
};

// What the shard does with expired timers, as records.
void FireTimers(StateMachine& sm, UnixNanos now, Rng& rng) {
  std::vector<const Job*> due;
  sm.DueJobs(now / kNanosPerMilli, due, 1000);
  std::vector<std::string> enqueue, purge;
  std::vector<FailRecord> expired;
  for (const Job* j : due) {
    if (j->state == JobState::kScheduled || j->state == JobState::kRetry)
      enqueue.emplace_back(j->jid());
    else if (j->state == JobState::kDead)
      purge.emplace_back(j->jid());
    else if (j->state == JobState::kReserved)
      expired.push_back(DecideFailure(*j, now, FailCause::kReservationExpired, "Expired", "x", {},
                                      int(rng.Pick(30))));
  }
  for (auto& r : expired) (void)sm.Apply(Mutation::Fail(now, std::move(r)));
  if (!enqueue.empty()) (void)sm.Apply(Mutation::EnqueueDue(now, std::move(enqueue)));
  if (!purge.empty()) (void)sm.Apply(Mutation::PurgeDead(now, std::move(purge)));
}

// Random records of every kind (FLUSH and QUEUE REMOVE included) between
// slices of random size: a finished image is the state at its start.
TEST(SnapshotSession, GeneratedStreamsBetweenSlices) {
  int done = 0, aborted = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Rng src{std::mt19937_64(seed)};
    testing::MutationGen<Rng> gen(src);
    StateMachine sm(0);
    for (int i = 0; i < 60; ++i) (void)sm.Apply(gen.Plain());
    Items reference;
    sm.Snapshot(Into(reference));
    const uint64_t expected = Restored(reference)->StateHash();
    Items items;
    auto session = sm.BeginSnapshot(Into(items));
    ASSERT_TRUE(sm.snapshot_open());
    while (session->status() == SnapshotSession::Status::kRunning) {
      for (uint64_t n = src.Pick(4); n > 0; --n) (void)sm.Apply(gen.Plain());
      if (src.Pick(4) == 0) FireTimers(sm, gen.Time(), src);
      (void)session->Step(1 + src.Pick(3));
    }
    if (session->status() == SnapshotSession::Status::kDone) {
      ++done;
      EXPECT_EQ(Restored(items)->StateHash(), expected) << "seed " << seed;
      EXPECT_EQ(JobJids(items), JobJids(reference)) << "seed " << seed;
    } else {
      ++aborted;
    }
    EXPECT_FALSE(sm.snapshot_open());
    // S6: the next session is unaffected by what an earlier one left.
    Items again, whole;
    auto next = sm.BeginSnapshot(Into(again));
    while (next->Step(1 + src.Pick(5)) == SnapshotSession::Status::kRunning) {
    }
    ASSERT_EQ(next->status(), SnapshotSession::Status::kDone);
    EXPECT_EQ(Restored(again)->StateHash(), sm.StateHash()) << "seed " << seed;
  }
  EXPECT_GT(done, 100);
  EXPECT_GT(aborted, 10);
}

JobSpec Spec(int i, UnixNanos at_ns = 0) {
  JobSpec s;
  s.jid = "job-" + std::to_string(100000 + i);
  s.jobtype = "Work";
  s.queue = "q" + std::to_string(i % 3);
  s.args_json = "[" + std::to_string(i) + "]";
  s.created_at = FormatRfc3339Nano(kT0);
  s.retry = i % 4 == 0 ? 0 : 3;
  if (at_ns) {
    s.at = FormatRfc3339Nano(at_ns);
    s.at_ns = at_ns;
  }
  return s;
}

// A larger state and a workload on live jobs (every transition, no flush):
// the session always finishes, and its image is the state at its start.
TEST(SnapshotSession, LiveWorkloadBetweenSlices) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Rng rng{std::mt19937_64(seed)};
    StateMachine sm(kT0 / kNanosPerMilli);
    UnixNanos now = kT0;
    int next = 0;
    std::vector<std::string> jids;
    auto push = [&] {
      const int i = next++;
      const UnixNanos at = rng.Pick(5) == 0 ? now + UnixNanos(1 + rng.Pick(60)) * kSec : 0;
      JobSpec s = Spec(i, at);
      jids.push_back(s.jid);
      (void)sm.Apply(Mutation::Push(now, std::move(s)));
    };
    auto act = [&] {
      const std::string& jid = jids[rng.Pick(jids.size())];
      const Job* j = sm.FindJob(jid);
      switch (rng.Pick(6)) {
        case 0: push(); break;
        case 1:
          if (j && j->state == JobState::kQueued)
            (void)sm.Apply(Mutation::Reserve(now, jid, "w", now + 30 * kSec));
          break;
        case 2:
          if (j && j->state == JobState::kReserved) (void)sm.Apply(Mutation::Ack(now, jid));
          break;
        case 3:
          if (j && j->state == JobState::kReserved)
            (void)sm.Apply(Mutation::Fail(
                now, DecideFailure(*j, now, FailCause::kFail, "E", "m", {}, int(rng.Pick(30)))));
          break;
        case 4: {
          MutateSetRecord r;
          r.cmd = MutateCmd(1 + rng.Pick(4));
          r.target = SetTarget(1 + rng.Pick(3));
          if (rng.Pick(2)) r.filter = MutateFilter{{jid}, "", ""};
          (void)sm.Apply(Mutation::MutateSet(now, r));
          break;
        }
        case 5:
          now += UnixNanos(rng.Pick(20)) * kSec;
          FireTimers(sm, now, rng);
          break;
      }
    };
    for (int i = 0; i < 300; ++i) push();
    for (int i = 0; i < 600; ++i) act();
    Items reference;
    sm.Snapshot(Into(reference));
    const auto at_start = Restored(reference);
    Items items;
    auto session = sm.BeginSnapshot(Into(items));
    while (session->Step(1 + rng.Pick(16)) == SnapshotSession::Status::kRunning)
      for (uint64_t n = rng.Pick(8); n > 0; --n) act();
    ASSERT_EQ(session->status(), SnapshotSession::Status::kDone);
    EXPECT_GT(session->pre_images(), 0u);
    const auto back = Restored(items);
    EXPECT_EQ(back->StateHash(), at_start->StateHash()) << "seed " << seed;
    EXPECT_EQ(JobJids(items), JobJids(reference));
    EXPECT_EQ(back->next_queue_pos(), at_start->next_queue_pos());
    // S5: each queue in FIFO order, as it was.
    for (const Queue* q : at_start->SortedQueues()) {
      const Queue* b = back->FindQueue(q->name());
      ASSERT_NE(b, nullptr);
      const Job* x = q->Front();
      const Job* y = b->Front();
      for (; x && y; x = q->Next(x), y = b->Next(y)) ASSERT_EQ(x->jid(), y->jid());
      EXPECT_EQ(x, nullptr);
      EXPECT_EQ(y, nullptr);
    }
  }
}

TEST(SnapshotSession, FlushAndQueueRemovalAbort) {
  StateMachine sm(kT0 / kNanosPerMilli);
  for (int i = 0; i < 20; ++i) (void)sm.Apply(Mutation::Push(kT0, Spec(i)));
  Items items;
  auto s = sm.BeginSnapshot(Into(items));
  EXPECT_EQ(s->Step(2), SnapshotSession::Status::kRunning);
  (void)sm.Apply(Mutation::Queue(kT0, MutationType::kQueueRemove, QueueRecord{{"q1"}, false}));
  EXPECT_EQ(s->status(), SnapshotSession::Status::kAborted);
  EXPECT_EQ(s->Step(100), SnapshotSession::Status::kAborted);
  EXPECT_FALSE(sm.snapshot_open());
  // Beginning a session while one is open aborts the open one.
  auto s2 = sm.BeginSnapshot(Into(items));
  auto s3 = sm.BeginSnapshot(Into(items));
  EXPECT_EQ(s2->status(), SnapshotSession::Status::kAborted);
  (void)sm.Apply(Mutation::Flush(kT0));
  EXPECT_EQ(s3->status(), SnapshotSession::Status::kAborted);
  // Dropping a running session closes it.
  auto s4 = sm.BeginSnapshot(Into(items));
  EXPECT_TRUE(sm.snapshot_open());
  s4.reset();
  EXPECT_FALSE(sm.snapshot_open());
  sm.Reclaim(1'000'000);
}

// A queue that a busy producer keeps filling does not keep the walk going:
// it stops at the first job enqueued since the start.
TEST(SnapshotSession, WalkEndsDespiteAGrowingQueue) {
  StateMachine sm(kT0 / kNanosPerMilli);
  for (int i = 0; i < 30; i += 3) (void)sm.Apply(Mutation::Push(kT0, Spec(i)));
  Items items;
  auto s = sm.BeginSnapshot(Into(items));
  int pushed = 0, steps = 0;
  while (s->Step(1) == SnapshotSession::Status::kRunning) {
    ++steps;
    for (int k = 0; k < 3; ++k) (void)sm.Apply(Mutation::Push(kT0, Spec(1000 + 3 * pushed++)));
  }
  EXPECT_LT(steps, 20);
  EXPECT_EQ(JobJids(items).size(), 10u);
}

}  // namespace
}  // namespace werk::core
