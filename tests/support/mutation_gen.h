#pragma once
// Random mutations of every kind, as the encoder can produce them, against a
// small group of state machines: the driver behind the Apply fuzzer
// (tests/fuzz/fuzz_apply.cc) and its seeded unit test
// (tests/core/apply_total_test.cc).
//
// Apply must be total (issue: records that cannot fail to apply): whatever
// the state, any record the encoder can produce applies without crashing,
// without undefined behaviour and without breaking the state machine's own
// bookkeeping. The generator draws its fields from small pools, so records
// collide on jids and queues (the interesting cases), and from extreme values
// (times near INT64_MIN/MAX, counters at their limits).
//
// `Source` is anything with `uint64_t Pick(uint64_t n)` (a value in [0, n),
// 0 for n == 0) and `bool Done()`.

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/global_ops.h"
#include "core/mutation.h"
#include "core/snapshot_session.h"
#include "core/state_machine.h"

namespace werk::testing {

template <typename Source>
class MutationGen {
 public:
  explicit MutationGen(Source& src) : src_(src) {}

  int64_t Time() {
    static constexpr int64_t kTimes[] = {0,
                                         1,
                                         -1,
                                         INT64_MIN,
                                         INT64_MAX,
                                         INT64_MAX - 1,
                                         INT64_MIN + 1,
                                         1'700'000'000'000'000'000,
                                         1'700'000'000'000'000'000 + 1'000'000'000,
                                         1'700'000'000'000'000'000 - 86'400'000'000'000,
                                         253'402'300'799'000'000  // year 9999, in ns / 1000
                                         };
    if (src_.Pick(4) == 0) return int64_t(src_.Pick(UINT64_MAX) - src_.Pick(UINT64_MAX));
    return kTimes[src_.Pick(std::size(kTimes))];
  }

  int64_t Int() {
    static constexpr int64_t kInts[] = {0,  1,  -1,  2,  25,  60, 86400, 86401,
                                        INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    return kInts[src_.Pick(std::size(kInts))];
  }

  std::string Jid() {
    if (src_.Pick(16) == 0) return Text(40);
    return "jid-000" + std::to_string(src_.Pick(6));
  }
  std::string QueueName() {
    static const char* kQueues[] = {"default", "a", "b", "c", "", "*"};
    if (src_.Pick(16) == 0) return Text(12);
    return kQueues[src_.Pick(std::size(kQueues))];
  }
  std::string Wid() { return "w" + std::to_string(src_.Pick(3)); }

  // Bytes of any value, up to `max` long.
  std::string Text(size_t max) {
    std::string s(src_.Pick(max + 1), '\0');
    for (char& c : s) c = char(src_.Pick(256));
    return s;
  }

  // A glob from the characters that matter to the matcher.
  std::string Glob() {
    static const char kChars[] = "*?[]\\^-a\"jid:0";
    std::string s(src_.Pick(24), '\0');
    for (char& c : s) c = kChars[src_.Pick(sizeof kChars - 1)];
    return s;
  }

  core::JobSpec Spec() {
    core::JobSpec j;
    j.jid = Jid();
    j.jobtype = src_.Pick(4) == 0 ? "" : "T" + std::to_string(src_.Pick(2));
    j.queue = QueueName();
    j.args_json = src_.Pick(8) == 0 ? Text(8) : "[1]";
    if (src_.Pick(3) == 0) j.custom_json = "{\"k\":1}";
    if (src_.Pick(3) == 0) j.created_at = "2024-01-01T00:00:00Z";
    if (src_.Pick(3) == 0) {
      j.at_ns = Time();
      j.at = "2030-01-01T00:00:00Z";
    }
    j.retry = Int();
    j.reserve_for = Int();
    j.backtrace = Int();
    if (src_.Pick(3) == 0) {
      core::Failure f;
      f.retry_count = Int();
      f.remaining = Int();
      f.failed_at = "2024-01-01T00:00:00Z";
      f.message = Text(4);
      f.backtrace.resize(src_.Pick(3), "line");
      j.failure = std::move(f);
    }
    return j;
  }

  std::vector<std::string> Jids() {
    std::vector<std::string> v(src_.Pick(5));
    for (auto& s : v) s = Jid();
    return v;
  }

  core::Mutation Plain(int depth = 0) {
    const int64_t t = Time();
    switch (src_.Pick(18)) {
      case 0:
      case 1: return core::Mutation::Push(t, Spec());
      case 2: return core::Mutation::Reserve(t, Jid(), Wid(), Time());
      case 3: return core::Mutation::Ack(t, Jid());
      case 4: {
        core::FailRecord r;
        r.jid = Jid();
        r.cause = src_.Pick(2) ? core::FailCause::kFail : core::FailCause::kReservationExpired;
        r.outcome = core::FailOutcome(1 + src_.Pick(3));
        r.errtype = Text(3);
        r.message = Text(3);
        r.backtrace.resize(src_.Pick(3), "at x");
        r.retry_at = Time();
        return core::Mutation::Fail(t, std::move(r));
      }
      case 5: return core::Mutation::EnqueueDue(t, Jids());
      case 6: return core::Mutation::PurgeDead(t, Jids());
      case 7: {
        core::MutateSetRecord r;
        r.cmd = core::MutateCmd(1 + src_.Pick(4));
        r.target = core::SetTarget(1 + src_.Pick(3));
        if (src_.Pick(2)) {
          core::MutateFilter f;
          if (src_.Pick(3) == 0) f.jids = Jids();
          if (src_.Pick(2)) f.regexp = Glob();
          if (src_.Pick(2)) f.jobtype = "T" + std::to_string(src_.Pick(2));
          r.filter = std::move(f);
        }
        return core::Mutation::MutateSet(t, std::move(r));
      }
      case 8: {
        core::QueueRecord r;
        r.all = src_.Pick(4) == 0;
        r.names.resize(src_.Pick(5));
        for (auto& n : r.names) n = QueueName();
        static constexpr core::MutationType kTypes[] = {
            core::MutationType::kQueuePause, core::MutationType::kQueueResume,
            core::MutationType::kQueueRemove, core::MutationType::kQueueDeclare};
        return core::Mutation::Queue(t, kTypes[src_.Pick(4)], std::move(r));
      }
      case 9: return core::Mutation::Flush(t);
      case 10: return core::Mutation::SetWorkerState(t, Wid(), core::WorkerState(src_.Pick(3)));
      case 11: return core::Mutation::ForgetWorker(t, Wid());
      case 12:  // epochs out of order too: Apply must refuse those
        return core::Mutation::NewEpoch(t, {uint64_t(1 + src_.Pick(6)),
                                            uint64_t(1 + src_.Pick(1000)), Text(8)});
      case 13:
        return core::Mutation::Replication(t, {src_.Pick(2) == 0, uint64_t(src_.Pick(1000))});
      case 14:  // ticks again and out of order too: Apply must refuse those
        return core::Mutation::CronPush(
            t, {1 + src_.Pick(3), int64_t(src_.Pick(6)) * 60 - 60, Spec()});
      default: {
        if (depth > 0) return core::Mutation::Ack(t, Jid());
        core::GlobalOpRecord g;
        g.origin = uint32_t(src_.Pick(4));
        g.id = src_.Pick(4) == 0 ? uint64_t(Int()) : src_.Pick(5);
        g.steps.resize(src_.Pick(4));
        for (auto& step : g.steps) {
          switch (src_.Pick(8)) {
            case 0: step = Text(10); break;  // not a mutation at all
            case 1: {  // a global inside a global
              core::GlobalOpRecord inner;
              inner.origin = 1;
              inner.id = 1;
              step = core::EncodeMutation(core::Mutation::Global(t, inner));
              break;
            }
            default: step = core::EncodeMutation(Plain(depth + 1));
          }
        }
        return core::Mutation::Global(t, std::move(g));
      }
    }
  }

 private:
  Source& src_;
};

// Drives a group of state machines with generated records, timer firings,
// checkpoint round trips, snapshots taken in slices and global-operation
// roll-forwards, checking after every step what must always hold. Aborts
// (with a message) on a violation.
template <typename Source>
void RunApplySequence(Source& src) {
  MutationGen<Source> gen(src);
  const size_t shards = 1 + src.Pick(3);
  std::vector<std::unique_ptr<core::StateMachine>> sms;
  for (size_t i = 0; i < shards; ++i)
    sms.push_back(std::make_unique<core::StateMachine>(int64_t(src.Pick(4)) - 2));
  auto fail = [](const char* what) {
    std::fprintf(stderr, "apply sequence: %s\n", what);
    std::abort();
  };
  auto check = [&](const core::StateMachine& sm) {
    const size_t placed = sm.queued_total() + sm.scheduled_size() + sm.retries_size() +
                          sm.dead_size() + sm.reserved_size();
    if (placed != sm.job_count()) fail("a job is in no place or in two");
    // Queue positions follow FIFO order, below the next one to be given.
    for (const core::Queue* q : sm.SortedQueues()) {
      const core::Job* prev = nullptr;
      for (const core::Job* j = q->Front(); j; prev = j, j = q->Next(j)) {
        if (prev && prev->set_key >= j->set_key) fail("queue positions out of FIFO order");
        if (uint64_t(j->set_key) >= sm.next_queue_pos()) fail("a queue position not given yet");
      }
    }
  };
  // A snapshot in slices of one state machine, and what it must restore to.
  std::unique_ptr<core::SnapshotSession> session;
  std::vector<std::pair<core::SnapshotItemType, std::string>> items;
  uint64_t expected = 0;
  auto restored_hash = [&](const auto& image) {
    core::StateMachine copy(0);
    for (const auto& [t, b] : image)
      if (!copy.RestoreItem(t, b)) fail("a snapshot item did not restore");
    copy.FinishRestore();
    return copy.StateHash();
  };
  for (int steps = 0; steps < 200 && !src.Done(); ++steps) {
    core::StateMachine& sm = *sms[src.Pick(shards)];
    switch (src.Pick(10)) {
      default: {
        const core::Mutation m = gen.Plain();
        const std::string bytes = core::EncodeMutation(m);
        auto decoded = core::DecodeMutation(bytes);
        // A global numbered 0 or whose steps are not plain mutations is
        // refused by the decoder (and by Apply); everything else round-trips.
        bool malformed = false;
        if (const auto* g = std::get_if<core::GlobalOpRecord>(&m.body)) {
          malformed = g->id == 0;
          for (const auto& step : g->steps) {
            auto inner = core::DecodeMutation(step);
            malformed = malformed || !inner || inner->type == core::MutationType::kGlobalOp;
          }
        }
        if (malformed != !decoded)
          fail("the decoder refused a well-formed record or took a malformed one");
        if (decoded && !(*decoded == m)) fail("decode(encode(m)) != m");
        const core::OpStatus status = sm.Apply(m);
        if (malformed != absl::IsInvalidArgument(status))
          fail("Apply's InvalidArgument disagrees with the decoder");
        break;
      }
      case 5: {  // timers, as the shard turns them into records
        std::vector<const core::Job*> due;
        const int64_t now = gen.Time();
        sm.DueJobs(now / 1'000'000, due, 64);
        std::vector<std::string> enqueue, purge;
        std::vector<core::FailRecord> expired;
        for (const core::Job* job : due) {
          switch (job->state) {
            case core::JobState::kScheduled:
            case core::JobState::kRetry: enqueue.emplace_back(job->jid()); break;
            case core::JobState::kDead: purge.emplace_back(job->jid()); break;
            case core::JobState::kReserved:
              expired.push_back(core::DecideFailure(*job, now,
                                                    core::FailCause::kReservationExpired, "E",
                                                    "expired", {}, int(src.Pick(30))));
              break;
            case core::JobState::kQueued: fail("a queued job carried a timer");
          }
        }
        for (auto& r : expired) (void)sm.Apply(core::Mutation::Fail(now, std::move(r)));
        if (!enqueue.empty()) (void)sm.Apply(core::Mutation::EnqueueDue(now, std::move(enqueue)));
        if (!purge.empty()) (void)sm.Apply(core::Mutation::PurgeDead(now, std::move(purge)));
        break;
      }
      case 6: {  // a checkpoint round trip reproduces the state
        auto copy = std::make_unique<core::StateMachine>(0);
        bool ok = true;
        sm.Snapshot([&](core::SnapshotItemType t, std::string_view body) {
          if (ok && !copy->RestoreItem(t, body)) {
            ok = false;
            std::fprintf(stderr, "item type %d did not restore\n", int(t));
          }
        });
        if (!ok) fail("a checkpoint item did not restore");
        copy->FinishRestore();
        if (copy->StateHash() != sm.StateHash()) fail("checkpoint round trip changed the state");
        if (copy->next_queue_pos() != sm.next_queue_pos())
          fail("checkpoint round trip changed the next queue position");
        break;
      }
      case 7: {  // complete global operations as a restart would
        std::vector<const core::StateMachine*> view;
        for (auto& s : sms) view.push_back(s.get());
        core::RollForwardPlan plan = core::PlanRollForward(view, gen.Time());
        for (size_t i = 0; i < shards; ++i)
          for (const core::Mutation& m : plan.per_shard[i]) (void)sms[i]->Apply(m);
        break;
      }
      case 8: {  // freeing what a FLUSH or QUEUE REMOVE removed changes nothing observable
        const uint64_t before = sm.StateHash();
        const size_t jobs = sm.job_count();
        sm.Reclaim(src.Pick(64));
        if (sm.StateHash() != before || sm.job_count() != jobs)
          fail("reclaiming removed jobs changed the state");
        break;
      }
      case 9: {  // a snapshot in slices: begun, or a slice of the open one
        if (!session || session->status() != core::SnapshotSession::Status::kRunning) {
          std::vector<std::pair<core::SnapshotItemType, std::string>> now;
          sm.Snapshot([&](core::SnapshotItemType t, std::string_view b) { now.emplace_back(t, b); });
          expected = restored_hash(now);
          items.clear();
          session = sm.BeginSnapshot(
              [&](core::SnapshotItemType t, std::string_view b) { items.emplace_back(t, b); });
          break;
        }
        if (session->Step(1 + src.Pick(4)) == core::SnapshotSession::Status::kDone &&
            restored_hash(items) != expected)
          fail("a snapshot taken in slices is not the state at its start");
        break;
      }
    }
    for (auto& s : sms) check(*s);
  }
  for (auto& s : sms) {
    (void)s->StateHash();
    std::vector<const core::Job*> due;
    s->DueJobs(INT64_MAX / 1'000'000, due, 1 << 20);
  }
}

}  // namespace werk::testing
