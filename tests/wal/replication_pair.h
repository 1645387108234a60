#pragma once
// One shard's replication stream in one process, for tests: a primary and a
// standby, each a real Wal on MemStorage, joined by an in-memory link the
// test can hold, and a random workload for the primary.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/replay.h"
#include "tests/wal/log_fixture.h"
#include "wal/durability_gate.h"
#include "wal/replica_receiver.h"
#include "wal/replication_sender.h"

namespace werk::testing {

// One direction of the link: what is flushed lands in the peer's inbox,
// unless the test holds it.
class MemLink final : public wal::ReplicationLink {
 public:
  explicit MemLink(std::string* peer_inbox) : peer_(peer_inbox) {}
  std::string& outbox() override { return out_; }
  void Flush() override {
    if (held_) return;
    peer_->append(out_);
    out_.clear();
  }
  size_t unsent_bytes() const override { return out_.size(); }
  void Hold(bool on) {
    held_ = on;
    if (!on) Flush();
  }

 private:
  std::string* peer_;
  std::string out_;
  bool held_ = false;
};

// Decodes every whole message in `inbox` and hands it to `take`; returns
// the first error `take` or the decoder gave.
template <typename Take>
absl::Status Deliver(std::string& inbox, Take take) {
  size_t at = 0;
  absl::Status st;
  while (st.ok()) {
    wal::DecodeResult r = wal::DecodeMessage(std::string_view(inbox).substr(at));
    if (r.outcome == wal::DecodeResult::Outcome::kNeedMore) break;
    if (r.outcome == wal::DecodeResult::Outcome::kError)
      return absl::DataLossError(std::string(wal::ProtocolErrorName(r.error)));
    st = take(r.message);
    at += r.bytes;
  }
  inbox.erase(0, at);
  return st;
}

class Pair {
 public:
  explicit Pair(LogFixtureOptions o = {.segment_bytes = 4096, .batch_bytes_max = 1024})
      : primary_(&p_storage_, o), standby_(&s_storage_, o) {
    EXPECT_TRUE(primary_.Open().ok());
    EXPECT_TRUE(standby_.Open().ok());
    gate_ = std::make_unique<wal::DurabilityGate>(&primary_.wal(), primary_.clock(),
                                                  10 * core::kNanosPerSecond);
    gate_->SetMode(wal::DurabilityGate::Mode::kSync);
    sender_ = std::make_unique<wal::ReplicationSender>(&primary_.wal(), gate_.get(), &to_standby_);
    receiver_ = std::make_unique<wal::ReplicaReceiver>(
        &standby_.wal(),
        [this](std::string_view body) {
          return core::ApplyReplicatedRecord(standby_.sm(), standby_.wal(), body);
        },
        &to_primary_);
  }

  absl::Status Start() { return StartAt(primary_.wal().appended_lsn().next()); }
  // The standby's log must end just before `from` (a fresh one: 1).
  absl::Status StartAt(core::Lsn from) {
    started_ = true;
    return sender_->Start(from);
  }

  // One loop iteration of each side, the primary first. Returns the first
  // error either side's stream ended with.
  // Before the stream starts, only the primary runs.
  absl::Status Turn() {
    primary_.wal().Commit();
    p_storage_.RunPending(primary_ops_per_turn_);
    primary_.wal().OnDurable(primary_.wal().durable_lsn());  // notifies the sender
    if (checkpoints_) primary_.checkpointer().Poll(primary_.sm());
    if (!started_) return absl::OkStatus();
    if (auto st = sender_->Pump(); !st.ok()) return st;
    if (!standby_paused_) {
      if (auto st = Deliver(standby_inbox_, [&](const wal::Message& m) {
            return receiver_->OnMessage(m);
          });
          !st.ok())
        return st;
      standby_.wal().Commit();
      s_storage_.RunPending();
      receiver_->Acknowledge();
    }
    return Deliver(primary_inbox_, [&](const wal::Message& m) { return sender_->OnMessage(m); });
  }
  absl::Status Settle() {
    for (int i = 0; i < 8; ++i)
      if (auto st = Turn(); !st.ok()) return st;
    return absl::OkStatus();
  }

  LogFixture& primary() { return primary_; }
  LogFixture& standby() { return standby_; }
  MemStorage& primary_storage() { return p_storage_; }
  MemStorage& standby_storage() { return s_storage_; }
  // At most this many of the primary's I/O completions per turn (its
  // writes, and its reads of the files when a standby catches up).
  void set_primary_ops_per_turn(size_t n) { primary_ops_per_turn_ = n; }
  // A checkpoint of the primary, taken over the next turns as a shard takes
  // one (a slice per turn, written once durable).
  void RequestCheckpoint() {
    checkpoints_ = true;
    primary_.checkpointer().RequestNow();
  }
  wal::DurabilityGate& gate() { return *gate_; }
  wal::ReplicationSender& sender() { return *sender_; }
  wal::ReplicaReceiver& receiver() { return *receiver_; }
  std::string& standby_inbox() { return standby_inbox_; }
  MemLink& to_standby() { return to_standby_; }
  void PauseStandby(bool on) { standby_paused_ = on; }

 private:
  MemStorage p_storage_, s_storage_;
  LogFixture primary_, standby_;
  std::string standby_inbox_, primary_inbox_;
  MemLink to_standby_{&standby_inbox_}, to_primary_{&primary_inbox_};
  std::unique_ptr<wal::DurabilityGate> gate_;
  std::unique_ptr<wal::ReplicationSender> sender_;
  std::unique_ptr<wal::ReplicaReceiver> receiver_;
  bool standby_paused_ = false;
  bool started_ = false;
  bool checkpoints_ = false;
  size_t primary_ops_per_turn_ = SIZE_MAX;
};

// A random workload on the primary: pushes, reservations, ACKs, FAILs,
// timers, pauses, and once an epoch change.
inline void Work(Pair& pair, std::mt19937_64& rng, int steps, std::vector<std::string>& jids) {
  LogFixture& p = pair.primary();
  for (int i = 0; i < steps; ++i) {
    p.clock().Advance(int64_t(rng() % 3000) * core::kNanosPerMilli);
    const core::UnixNanos now = p.clock().WallNow();
    const int op = int(rng() % 10);
    if (op < 4 || jids.empty()) {
      jids.push_back("job-" + std::to_string(jids.size() + 100000));
      p.Push(jids.back(), rng() % 2 ? "a" : "b");
    } else {
      const std::string& jid = jids[rng() % jids.size()];
      const core::Job* job = p.sm().FindJob(jid);
      if (job && job->state == core::JobState::kQueued && op < 7) {
        p.Commit(core::Mutation::Reserve(now, jid, "w", now + 5 * core::kNanosPerSecond));
      } else if (job && job->state == core::JobState::kReserved && op < 8) {
        p.Commit(core::Mutation::Ack(now, jid));
      } else if (job && job->state == core::JobState::kReserved) {
        p.Commit(core::Mutation::Fail(
            now, core::DecideFailure(*job, now, core::FailCause::kFail, "E", "m", {}, 3)));
      } else if (op == 9) {
        p.Commit(core::Mutation::Queue(now, core::MutationType::kQueuePause, {{"b"}, false}));
      }
    }
    if (rng() % 7 == 0) {
      std::vector<const core::Job*> due;
      p.sm().DueJobs(now / core::kNanosPerMilli, due, 1000);
      std::vector<std::string> ids;
      std::vector<core::Mutation> expired;
      for (const core::Job* j : due) {
        if (j->state == core::JobState::kReserved) {
          expired.push_back(core::Mutation::Fail(
              now, core::DecideFailure(*j, now, core::FailCause::kReservationExpired, "", "",
                                       {}, 1)));
        } else {
          ids.emplace_back(j->jid());
        }
      }
      for (const core::Mutation& m : expired) p.Commit(m);
      if (!ids.empty()) p.Commit(core::Mutation::EnqueueDue(now, ids));
    }
    if (rng() % 5 == 0) {
      ASSERT_TRUE(pair.Turn().ok());
    }
  }
}

}  // namespace werk::testing
