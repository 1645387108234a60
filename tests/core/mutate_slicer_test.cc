// A MUTATE cut into slices (core/mutate_slicer.h) leaves the state exactly as
// the whole MUTATE applied at once would, whatever the slice sizes.

#include "core/mutate_slicer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/time_format.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;
constexpr UnixNanos kSec = kNanosPerSecond;

std::string Jid(int i) { return "job-" + std::to_string(100000 + i); }

// `n` jobs spread over the scheduled, retry and dead sets, with two
// jobtypes and a few shared set keys (ties broken by arrival).
void Fill(StateMachine& sm, int n) {
  for (int i = 0; i < n; ++i) {
    JobSpec s;
    s.jid = Jid(i);
    s.jobtype = i % 3 ? "Alpha" : "Beta";
    s.queue = i % 2 ? "odd" : "even";
    s.args_json = "[" + std::to_string(i) + "]";
    s.created_at = FormatRfc3339Nano(kT0);
    s.retry = i % 5 == 0 ? -1 : 3;  // -1: dead at the first failure
    if (i % 4 == 0) {
      s.at_ns = kT0 + (1 + i % 7) * kSec;
      s.at = FormatRfc3339Nano(s.at_ns);
      ASSERT_EQ(sm.Apply(Mutation::Push(kT0, s)), absl::OkStatus());
      continue;
    }
    ASSERT_EQ(sm.Apply(Mutation::Push(kT0, s)), absl::OkStatus());
    ASSERT_EQ(sm.Apply(Mutation::Reserve(kT0, s.jid, "w", kT0 + 600 * kSec)), absl::OkStatus());
    const FailRecord f = DecideFailure(*sm.FindJob(s.jid), kT0, FailCause::kFail, "E", "m", {},
                                       i % 30);
    ASSERT_EQ(sm.Apply(Mutation::Fail(kT0, f)), absl::OkStatus());
  }
}

// Applies `op` slice by slice, each slice's record as the shard logs it.
int ApplySliced(StateMachine& sm, const MutateSetRecord& op, size_t scan, size_t matched,
                UnixNanos t) {
  MutateSlicer slicer(op);
  int records = 0;
  while (!slicer.done()) {
    MutateSetRecord slice = slicer.Slice();
    slicer.Scan(sm, scan, matched, &slice);
    EXPECT_LE(MutateSlicer::Matched(slice), matched);
    if (MutateSlicer::Matched(slice) == 0) continue;
    // The record round-trips through the log's encoding.
    auto m = DecodeMutation(EncodeMutation(Mutation::MutateSet(t, slice)));
    EXPECT_TRUE(m.has_value());
    EXPECT_EQ(sm.Apply(*m), absl::OkStatus());
    ++records;
  }
  return records;
}

std::vector<MutateSetRecord> Operations() {
  std::vector<MutateSetRecord> ops;
  const std::vector<std::optional<MutateFilter>> filters = {
      std::nullopt,
      MutateFilter{{Jid(1), Jid(2), Jid(5), Jid(1), Jid(8), "nope"}, "", ""},
      MutateFilter{{}, "*\"queue\":\"odd\"*", ""},
      MutateFilter{{}, "*", "Beta"},
      MutateFilter{{}, "", "Alpha"},
  };
  for (MutateCmd cmd : {MutateCmd::kClear, MutateCmd::kKill, MutateCmd::kDiscard,
                        MutateCmd::kRequeue})
    for (SetTarget target : {SetTarget::kRetries, SetTarget::kScheduled, SetTarget::kDead})
      for (const auto& f : filters) ops.push_back(MutateSetRecord{cmd, target, f});
  return ops;
}

TEST(MutateSlicer, SlicesReproduceTheWholeOperation) {
  const UnixNanos t = kT0 + 10 * kSec;
  for (const MutateSetRecord& op : Operations()) {
    for (auto [scan, matched] : {std::pair<size_t, size_t>{1, 1}, {3, 2}, {7, 100}, {1000, 1000}}) {
      StateMachine whole(kT0 / kNanosPerMilli), sliced(kT0 / kNanosPerMilli);
      Fill(whole, 120);
      Fill(sliced, 120);
      ASSERT_EQ(whole.StateHash(), sliced.StateHash());
      ASSERT_EQ(whole.Apply(Mutation::MutateSet(t, op)), absl::OkStatus());
      ApplySliced(sliced, op, scan, matched, t);
      EXPECT_EQ(whole.StateHash(), sliced.StateHash())
          << "cmd " << int(op.cmd) << " target " << int(op.target) << " filter "
          << (op.filter ? op.filter->regexp + "/" + op.filter->jobtype : "none") << " slices of "
          << scan << "/" << matched;
      // Requeued jobs join their queues in set order either way.
      for (const char* q : {"odd", "even"}) {
        const Queue* a = whole.FindQueue(q);
        const Queue* b = sliced.FindQueue(q);
        ASSERT_EQ(a == nullptr, b == nullptr);
        if (!a) continue;
        for (const Job *x = a->Front(), *y = b->Front(); x || y; x = a->Next(x), y = b->Next(y)) {
          ASSERT_TRUE(x && y);
          EXPECT_EQ(x->jid(), y->jid());
        }
      }
    }
  }
}

// Killing dead jobs moves each to the end of the dead set: the scan stops
// where the set ended when it began, so each is killed once and it ends.
TEST(MutateSlicer, KillOfDeadJobsMeetsEachOnce) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Fill(sm, 200);
  const size_t dead = sm.dead_size();
  ASSERT_GT(dead, 10u);
  MutateSetRecord kill{MutateCmd::kKill, SetTarget::kDead, std::nullopt};
  UnixNanos t = kT0;
  MutateSlicer slicer(kill);
  size_t killed = 0;
  while (!slicer.done()) {
    MutateSetRecord slice = slicer.Slice();
    slicer.Scan(sm, 4, 4, &slice);
    killed += MutateSlicer::Matched(slice);
    t += kSec;  // each slice at a later time: the killed jobs move past the end
    ASSERT_EQ(sm.Apply(Mutation::MutateSet(t, slice)), absl::OkStatus());
    ASSERT_LE(killed, dead);
  }
  EXPECT_EQ(killed, dead);
  EXPECT_EQ(sm.dead_size(), dead);
}

// A job that enters the set behind the cursor or past the end while the
// slices run is not acted on; the jobs there from the start all are.
TEST(MutateSlicer, JobsArrivingMidwayAreLeftAlone) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Fill(sm, 40);
  const size_t before = sm.scheduled_size();
  MutateSetRecord discard{MutateCmd::kDiscard, SetTarget::kScheduled, std::nullopt};
  MutateSlicer slicer(discard);
  int pushed = 0;
  while (!slicer.done()) {
    MutateSetRecord slice = slicer.Slice();
    slicer.Scan(sm, 2, 2, &slice);
    if (MutateSlicer::Matched(slice)) {
      ASSERT_EQ(sm.Apply(Mutation::MutateSet(kT0, slice)), absl::OkStatus());
    }
    JobSpec late;
    late.jid = "late-" + std::to_string(100000 + pushed++);
    late.jobtype = "Late";
    late.queue = "q";
    late.args_json = "[]";
    late.created_at = FormatRfc3339Nano(kT0);
    late.at_ns = kT0 + 3600 * kSec;  // past the set's end at the start
    late.at = FormatRfc3339Nano(late.at_ns);
    ASSERT_EQ(sm.Apply(Mutation::Push(kT0, late)), absl::OkStatus());
  }
  EXPECT_GT(before, 0u);
  EXPECT_EQ(sm.scheduled_size(), size_t(pushed));
}

TEST(MutateSlicer, EmptySetIsDoneAtOnce) {
  StateMachine sm(kT0 / kNanosPerMilli);
  MutateSlicer slicer(MutateSetRecord{MutateCmd::kKill, SetTarget::kRetries, std::nullopt});
  MutateSetRecord slice = slicer.Slice();
  slicer.Scan(sm, 100, 100, &slice);
  EXPECT_TRUE(slicer.done());
  EXPECT_EQ(MutateSlicer::Matched(slice), 0u);
}

}  // namespace
}  // namespace werk::core
