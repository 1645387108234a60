#pragma once
// The clients of the replicated crash simulation
// (tests/wal/replication_crash_sim_test.cc): the workload they send to a
// serving node, the replies that node holds until its gate releases them,
// and what they were told once it did.

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/wal/replication_sim.h"

namespace werk::testing {

enum class Kind { kPush, kReserve, kAck, kFail };
struct Reply {
  uint64_t lsn;
  Kind kind;
  std::string jid, body;
};

// A node serving clients: its gate and the replies it holds.
struct Serving {
  SimNode* node = nullptr;
  std::unique_ptr<wal::DurabilityGate> gate;
  std::vector<Reply> held;
  uint64_t alone_released = 0;  // the highest LSN released while alone
};

class SimClients {
 public:
  explicit SimClients(std::mt19937_64& rng) : rng_(rng) {}

  // One client command or timer turn on a serving node; `advance` moves
  // every node's clock (null: this node's timers fire at its current time).
  void Work(Serving& s, const std::function<void(int64_t)>& advance) {
    SimNode& n = *s.node;
    core::StateMachine& sm = n.log.sm();
    const core::UnixNanos now = n.log.clock().WallNow();
    const int op = int(rng_() % 100);
    auto client = [&](Kind kind, const std::string& jid, const core::Mutation& m) {
      if (const uint64_t lsn = n.Commit(m))
        s.held.push_back({lsn, kind, jid, core::EncodeMutation(m)});
    };
    auto pick = [&](core::JobState state) -> const core::Job* {
      std::vector<const core::Job*> c;
      for (const auto& [jid, body] : live) {
        const core::Job* j = sm.FindJob(jid);
        if (j && j->state == state) c.push_back(j);
        if (c.size() > 40) break;
      }
      return c.empty() ? nullptr : c[rng_() % c.size()];
    };
    if (op < 35) {
      core::JobSpec j;
      j.jid = "job-" + std::to_string(1'000'000 + next_job++);
      j.jobtype = "T";
      j.queue = std::string("q") + char('a' + rng_() % 3);
      j.args_json = "[" + std::to_string(rng_() % 1000) + "]";
      j.created_at = "2026-11-22T00:00:00Z";
      j.retry = int64_t(rng_() % 5) - 1;
      if (Coin(10)) j.at_ns = now + int64_t(rng_() % 30'000) * kMs;
      live[j.jid] = 1;
      client(Kind::kPush, j.jid, core::Mutation::Push(now, j));
    } else if (op < 52) {
      if (const core::Job* j = pick(core::JobState::kQueued))
        client(Kind::kReserve, std::string(j->jid()),
               core::Mutation::Reserve(now, std::string(j->jid()), "w",
                                       now + int64_t(60'000 + rng_() % 60'000) * kMs));
    } else if (op < 67) {
      // A worker ACKs a job it was told it holds, or one it was fetched.
      std::string jid;
      if (!holds.empty() && Coin(50)) {
        auto it = holds.begin();
        std::advance(it, long(rng_() % holds.size()));
        jid = it->first;
      } else if (const core::Job* j = pick(core::JobState::kReserved)) {
        jid = j->jid();
      }
      const core::Job* j = jid.empty() ? nullptr : sm.FindJob(jid);
      if (j && j->state == core::JobState::kReserved)
        client(Kind::kAck, jid, core::Mutation::Ack(now, jid));
    } else if (op < 77) {
      if (const core::Job* j = pick(core::JobState::kReserved))
        client(Kind::kFail, std::string(j->jid()),
               core::Mutation::Fail(now, core::DecideFailure(*j, now, core::FailCause::kFail, "E",
                                                             "m", {}, int(rng_() % 30))));
    } else if (op < 80) {
      core::MutateSetRecord r;
      r.cmd = core::MutateCmd(1 + rng_() % 4);
      r.target = core::SetTarget(1 + rng_() % 3);
      if (Coin(60) && !live.empty()) r.filter = core::MutateFilter{{live.begin()->first}, "", ""};
      n.Commit(core::Mutation::MutateSet(now, r));
    } else if (op < 83) {
      n.Commit(core::Mutation::Queue(
          now, Coin(50) ? core::MutationType::kQueuePause : core::MutationType::kQueueResume,
          {{std::string("q") + char('a' + rng_() % 3)}, false}));
    } else if (op < 84 && Coin(10)) {
      n.Commit(core::Mutation::Flush(now));
    } else {
      if (advance) advance(int64_t(rng_() % 20'000) * kMs);
      FireTimers(n);
    }
  }

  // What a primary's shard does with expired timers.
  void FireTimers(SimNode& n) {
    const core::UnixNanos now = n.log.clock().WallNow();
    std::vector<const core::Job*> due;
    n.log.sm().DueJobs(now / kMs, due, 100000);
    std::vector<std::string> enqueue, purge;
    std::vector<core::FailRecord> expired;
    for (const core::Job* j : due) {
      if (j->state == core::JobState::kScheduled || j->state == core::JobState::kRetry)
        enqueue.emplace_back(j->jid());
      else if (j->state == core::JobState::kDead)
        purge.emplace_back(j->jid());
      else if (j->state == core::JobState::kReserved)
        expired.push_back(core::DecideFailure(*j, now, core::FailCause::kReservationExpired,
                                              "ReservationExpired", "x", {}, int(rng_() % 30)));
    }
    for (auto& f : expired) n.Commit(core::Mutation::Fail(now, f));
    if (!enqueue.empty()) n.Commit(core::Mutation::EnqueueDue(now, enqueue));
    if (!purge.empty()) n.Commit(core::Mutation::PurgeDead(now, purge));
  }

  // What the gate lets the clients hear.
  void Release(Serving& s) {
    const uint64_t d = s.gate->durable_lsn().value();
    if (s.gate->mode() == wal::DurabilityGate::Mode::kLocal && !s.gate->fenced())
      s.alone_released = std::max(s.alone_released, d);
    std::erase_if(s.held, [&](const Reply& r) {
      if (r.lsn > d) return false;
      switch (r.kind) {
        case Kind::kPush: acked_push[r.jid] = r.body; break;
        case Kind::kReserve: holds[r.jid] = r.body; break;
        case Kind::kAck: acked_ack[r.jid] = r.body; holds.erase(r.jid); break;
        case Kind::kFail: holds.erase(r.jid); break;
      }
      return true;
    });
  }

  // What clients were told: pushes and ACKs acknowledged (jid -> the
  // record), reservations held by workers (jid -> the reserve record).
  std::map<std::string, std::string> acked_push, acked_ack, holds;

 private:
  static constexpr int64_t kMs = core::kNanosPerMilli;
  bool Coin(int percent) { return int(rng_() % 100) < percent; }

  std::mt19937_64& rng_;
  std::map<std::string, int> live;  // jids pushed, for the workload's picks
  uint64_t next_job = 0;
};

}  // namespace werk::testing
