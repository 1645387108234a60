// One shard's replication stream in one process: a primary and a standby,
// each a real Wal on MemStorage, joined by an in-memory link the test can
// hold. The standby ends in the primary's state, its own log recovers to
// it, the primary's gate releases only what the standby acknowledged, and
// a stream that breaks its rules (a gap, a repeat, an older epoch, an
// acknowledgement of what was never sent, a newer epoch) ends it.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/replay.h"
#include "tests/wal/log_fixture.h"
#include "wal/durability_gate.h"
#include "wal/replica_receiver.h"
#include "wal/replication_sender.h"

namespace werk::testing {
namespace {

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

  absl::Status Start() { return sender_->Start(core::Lsn(primary_.wal().appended_lsn().value() + 1)); }

  // One loop iteration of each side, the primary first. Returns the first
  // error either side's stream ended with.
  absl::Status Turn() {
    primary_.wal().Commit();
    p_storage_.RunPending();
    primary_.wal().OnDurable(primary_.wal().durable_lsn());  // notifies the sender
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
  MemStorage& standby_storage() { return s_storage_; }
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
};

// A random workload on the primary: pushes, reservations, ACKs, FAILs,
// timers, pauses, and once an epoch change.
void Work(Pair& pair, std::mt19937_64& rng, int steps, std::vector<std::string>& jids) {
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

TEST(Replication, TheStandbyEndsInThePrimarysStateAndItsOwnLogRecoversIt) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    Pair pair;
    std::mt19937_64 rng(seed);
    ASSERT_TRUE(pair.Start().ok());
    std::vector<std::string> jids;
    Work(pair, rng, 300, jids);
    // A promotion elsewhere, as the log shows it: the epoch moves, then its
    // record is the first of the new epoch.
    pair.primary().wal().SetEpoch(core::Epoch(2));
    const uint64_t first = pair.primary().wal().appended_lsn().value() + 1;
    pair.primary().Commit(core::Mutation::NewEpoch(pair.primary().clock().WallNow(),
                                                   {2, first, "127.0.0.1:1"}));
    Work(pair, rng, 300, jids);
    ASSERT_TRUE(pair.Settle().ok());

    const core::Lsn last = pair.primary().wal().appended_lsn();
    EXPECT_EQ(pair.standby().wal().appended_lsn(), last);
    EXPECT_EQ(pair.receiver().acked_lsn(), last);
    EXPECT_EQ(pair.gate().durable_lsn(), last);
    EXPECT_EQ(pair.standby().wal().epoch(), core::Epoch(2));
    EXPECT_EQ(pair.standby().sm().StateHash(), pair.primary().sm().StateHash());
    // The standby's own log, recovered, is the same state again.
    const uint64_t hash = pair.standby().sm().StateHash();
    ASSERT_TRUE(pair.standby().Open().ok());
    EXPECT_EQ(pair.standby().divergent(), 0u);
    EXPECT_EQ(pair.standby().result().epoch, core::Epoch(2));
    EXPECT_EQ(pair.standby().sm().StateHash(), hash);
  }
}

TEST(Replication, TheGateReleasesOnlyWhatTheStandbyAcknowledged) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Settle().ok());
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));

  pair.PauseStandby(true);  // it receives nothing and acknowledges nothing
  for (int i = 2; i <= 5; ++i) pair.primary().Push("job-" + std::to_string(i));
  ASSERT_TRUE(pair.Settle().ok());
  EXPECT_EQ(pair.primary().wal().durable_lsn(), core::Lsn(5));  // durable here
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));            // not released
  pair.PauseStandby(false);
  ASSERT_TRUE(pair.Settle().ok());
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(5));
  EXPECT_EQ(pair.sender().applied_lsn(), core::Lsn(5));
}

TEST(Replication, RecordsAreSentBeforeThePrimarysSyncCompletes) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  pair.primary().wal().Commit();  // the write is submitted, not completed
  pair.primary().wal().OnDurable(pair.primary().wal().durable_lsn());
  ASSERT_TRUE(pair.sender().Pump().ok());
  EXPECT_EQ(pair.primary().wal().durable_lsn(), core::Lsn(0));
  EXPECT_FALSE(pair.standby_inbox().empty());  // already on its way
}

TEST(Replication, ARepeatedOrMissingRecordEndsTheStreamAndAppliesNothingOfIt) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.PauseStandby(true);
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Turn().ok());
  const std::string first = pair.standby_inbox();  // the RECORDS message for LSN 1
  pair.PauseStandby(false);
  ASSERT_TRUE(pair.Settle().ok());
  const uint64_t hash = pair.standby().sm().StateHash();
  // The same message again: LSN 1 where 2 is expected.
  pair.standby_inbox() = first;
  absl::Status st = Deliver(pair.standby_inbox(),
                            [&](const wal::Message& m) { return pair.receiver().OnMessage(m); });
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
  EXPECT_NE(st.message().find("LSN 1 where 2"), std::string_view::npos) << st;
  EXPECT_EQ(pair.standby().sm().StateHash(), hash);
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(1));
}

TEST(Replication, AMissingRecordEndsTheStream) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.PauseStandby(true);
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Turn().ok());
  pair.standby_inbox().clear();  // LSN 1 lost on the way
  pair.primary().Push("job-2");
  pair.PauseStandby(false);
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
  EXPECT_NE(st.message().find("LSN 2 where 1"), std::string_view::npos) << st;
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(0));
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(0));
}

TEST(Replication, AnEpochRecordNamingAnotherPlaceIsRefused) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().wal().SetEpoch(core::Epoch(2));
  pair.primary().Commit(core::Mutation::NewEpoch(0, {2, 9, "x"}));  // at LSN 1
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_EQ(pair.standby().wal().appended_lsn(), core::Lsn(0));
  EXPECT_EQ(pair.standby().wal().epoch(), core::Epoch(1));
}

TEST(Replication, AStandbyAlreadyInANewerEpochRefusesAnOlderRecord) {
  Pair pair;
  pair.standby().wal().SetEpoch(core::Epoch(3));
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  const absl::Status st = pair.Settle();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_EQ(pair.standby().sm().FindJob("job-1"), nullptr);
}

TEST(Replication, AnAcknowledgementOfWhatWasNeverSentIsRefused) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Settle().ok());
  wal::Message m{core::Epoch(1), wal::Ack{core::Lsn(9), core::Lsn(9)}};
  EXPECT_TRUE(absl::IsInvalidArgument(pair.sender().OnMessage(m)));
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));
  // The stream ended: a later, plausible ACK from the same standby moves
  // nothing either.
  pair.PauseStandby(true);
  pair.primary().Push("job-2");
  (void)pair.Settle();
  wal::Message later{core::Epoch(1), wal::Ack{core::Lsn(2), core::Lsn(2)}};
  EXPECT_FALSE(pair.sender().OnMessage(later).ok());
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));
}

TEST(Replication, ANewerEpochFromTheStandbyFencesThePrimary) {
  Pair pair;
  ASSERT_TRUE(pair.Start().ok());
  pair.primary().Push("job-1");
  ASSERT_TRUE(pair.Settle().ok());
  pair.PauseStandby(true);
  pair.primary().Push("job-2");
  ASSERT_TRUE(pair.Settle().ok());
  wal::Message notice{core::Epoch(2), wal::EpochNotice{core::Epoch(2), "127.0.0.1:2"}};
  EXPECT_FALSE(pair.sender().OnMessage(notice).ok());
  EXPECT_TRUE(pair.sender().fenced());
  EXPECT_TRUE(pair.gate().fenced());
  // Even an acknowledgement arriving later releases nothing more.
  pair.gate().SetAcked(core::Lsn(2));
  EXPECT_EQ(pair.gate().durable_lsn(), core::Lsn(1));
}

TEST(Replication, AStandbyTooFarBehindIsToldSo) {
  Pair pair({.segment_bytes = 64 << 20, .batch_bytes_max = 64 << 10,
             .follower_retained_bytes_max = 256 << 10});
  ASSERT_TRUE(pair.Start().ok());
  pair.to_standby().Hold(true);  // nothing leaves: the send window fills
  core::JobSpec spec;
  spec.jobtype = "T";
  spec.queue = "default";
  spec.args_json = "[\"" + std::string(16 << 10, 'x') + "\"]";
  spec.created_at = "2026-11-22T00:00:00Z";
  absl::Status st;
  for (int i = 0; i < 1000 && st.ok(); ++i) {
    spec.jid = "job-" + std::to_string(100000 + i);
    pair.primary().Commit(core::Mutation::Push(pair.primary().clock().WallNow(), spec));
    st = pair.Turn();
  }
  // The window stopped the sender at 8 MiB; the log kept what it had not
  // read up to its bound, then let go: the standby must catch up otherwise.
  EXPECT_GE(pair.to_standby().unsent_bytes(), wal::kSendWindowBytes);
  EXPECT_TRUE(absl::IsOutOfRange(st)) << st;
}

}  // namespace
}  // namespace werk::testing
