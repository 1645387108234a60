#pragma once
// The pieces of the replicated crash simulation
// (tests/wal/replication_crash_sim_test.cc): a node (a shard's storage stack
// on MemStorage, with a copy of every record its log holds), one link
// session between two nodes (the real ReplicationSender and ReplicaReceiver
// over the in-memory link of replication_pair.h), and what the primary's
// shard decides at a standby's handshake.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/replay.h"
#include "tests/wal/replication_pair.h"
#include "wal/log_reader.h"

namespace werk::testing {

// One server's shard: its disk, its storage stack, and every record its log
// holds ([i] has LSN i + 1), as appended here or received from a primary.
struct SimNode {
  SimNode(uint64_t seed, LogFixtureOptions o) : storage(seed), log(&storage, o) {}
  MemStorage storage;
  LogFixture log;
  std::vector<std::string> records;
  // The highest epoch this node heard a primary of (a standby's HELLO).
  core::Epoch heard_epoch{0};
  // The highest LSN it acknowledged to a primary (it promised it is synced).
  uint64_t acked = 0;
  bool up = false;  // its storage stack is open (not powered off)

  // Apply, append, and keep the record: its LSN (0: refused).
  uint64_t Commit(const core::Mutation& m) {
    const uint64_t lsn = log.Commit(m);
    if (lsn == 0) return 0;
    records.push_back(core::EncodeMutation(m));
    EXPECT_EQ(records.size(), lsn);
    return lsn;
  }
};

// The epoch record a promotion, or a primary's start, logs (as
// Partition::CommitEpoch does): the one place the simulation builds one.
inline core::Mutation EpochMutation(core::UnixNanos t, core::Epoch epoch, core::Lsn first,
                                    const std::string& node, uint64_t run_id) {
  return core::Mutation::NewEpoch(t,
                                  core::EpochRecord{epoch.value(), first.value(), node, run_id});
}

// What the primary's shard answers a standby's HELLO with (the logic of
// net::ReplicationPrimary::Decide, which needs a whole net::Shard; kept
// in step with it by hand).
struct SimDecision {
  wal::WelcomeDecision decision;
  core::Lsn lsn{0};
};

inline SimDecision SimDecide(SimNode& primary, core::Lsn last_lsn,
                             const core::EpochHistory& standby_epochs) {
  const core::EpochHistory& epochs = primary.log.sm().epochs();
  const core::Lsn last = primary.log.wal().appended_lsn();
  std::optional<core::Lsn> fork = epochs.ForkOf(standby_epochs.entries(), false, last_lsn);
  if (last_lsn > last && (!fork || last.next() < *fork)) fork = last.next();
  if (fork) return {wal::WelcomeDecision::kDiverged, *fork};
  const core::Lsn from = last_lsn.next();
  if (!primary.log.wal().Follow(from).ok()) {
    const auto files = primary.log.wal().SegmentsFrom(from);
    if (files.empty() || files.front().first_lsn > from) return {wal::WelcomeDecision::kRefused};
  }
  return {wal::WelcomeDecision::kContinue, from};
}

// A replay of a node's records from LSN 1.
inline std::unique_ptr<core::StateMachine> Replay(const std::vector<std::string>& records) {
  auto sm = std::make_unique<core::StateMachine>(0);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto m = core::DecodeMutation(records[i]);
    EXPECT_TRUE(m && sm->Apply(*m).ok()) << "LSN " << i + 1 << " does not replay";
  }
  return sm;
}
inline void ExpectReplays(SimNode& n, const char* what) {
  const auto shadow = Replay(n.records);
  ASSERT_EQ(n.log.sm().StateHash(), shadow->StateHash())
      << what << " state is not a replay of its log (" << n.records.size() << " records)";
  std::vector<const core::Job*> due;
  shadow->DueJobs(INT64_MAX / core::kNanosPerMilli / 2, due, 1'000'000);
  size_t reserved_due = 0;
  for (const core::Job* j : due) reserved_due += j->state == core::JobState::kReserved;
  ASSERT_EQ(reserved_due, n.log.sm().reserved_size()) << "I3: a reservation has no timer";
}

// WERK_SIM_DEBUG: the node's files and what the log lists of them.
inline void DumpFiles(SimNode& n) {
  if (!std::getenv("WERK_SIM_DEBUG")) return;
  for (const auto& name : n.storage.List()) {
    const std::string d = *n.storage.ReadAll(name);
    wal::SegmentHeader h;
    if (wal::DecodeSegmentHeader(d, &h) != wal::HeaderStatus::kOk) {
      std::printf("  %s: %zu bytes\n", name.c_str(), d.size());
      continue;
    }
    wal::LogReader r(d, {.expected_lsn = core::Lsn(h.first_lsn), .salt = h.salt,
                         .newest = true, .write_markers = true});
    wal::Frame f;
    uint64_t last = 0;
    wal::ReadOutcome o;
    while ((o = r.Next(&f)) == wal::ReadOutcome::kRecord) last = f.header.lsn;
    std::printf("  %s: id %llu LSNs %llu..%llu (outcome %d at byte %llu), %zu bytes\n",
                name.c_str(), (unsigned long long)h.segment_id, (unsigned long long)h.first_lsn,
                (unsigned long long)last, int(o), (unsigned long long)r.offset(), d.size());
  }
  for (const auto& ref : n.log.wal().SegmentsFrom(core::Lsn(1)))
    std::printf("  listed: %s id %llu from LSN %llu\n", ref.name.c_str(),
                (unsigned long long)ref.id, (unsigned long long)ref.first_lsn.value());
}

// One link session: the primary's sender, the standby's receiver, and the
// bytes between them. Destroying it is the link cut: what was on its way
// is gone.
class SimSession {
 public:
  SimSession(SimNode* primary, wal::DurabilityGate* gate, SimNode* standby)
      : primary_(primary), standby_(standby) {
    sender_ = std::make_unique<wal::ReplicationSender>(&primary->log.wal(), gate, &to_standby_);
    receiver_ = std::make_unique<wal::ReplicaReceiver>(
        &standby->log.wal(),
        [standby](std::string_view body) {
          const core::OpStatus st =
              core::ApplyReplicatedRecord(standby->log.sm(), standby->log.wal(), body);
          if (st.ok()) standby->records.emplace_back(body);
          return st;
        },
        &to_primary_);
  }
  ~SimSession() {
    standby_->heard_epoch = std::max(standby_->heard_epoch, receiver_->primary_epoch());
    standby_->acked = std::max(standby_->acked, receiver_->acked_lsn().value());
  }

  absl::Status Start(core::Lsn from) { return sender_->Start(from); }
  // The primary's half of a loop iteration (after its log's work).
  absl::Status PrimaryTurn() {
    if (auto st = sender_->Pump(); !st.ok()) return st;
    return Deliver(primary_inbox_, [&](const wal::Message& m) { return sender_->OnMessage(m); });
  }
  // The standby's: take what arrived (its log's work comes after).
  absl::Status StandbyReceive() {
    return Deliver(standby_inbox_, [&](const wal::Message& m) { return receiver_->OnMessage(m); });
  }
  void StandbyAcknowledge() { receiver_->Acknowledge(); }

  wal::ReplicationSender& sender() { return *sender_; }
  wal::ReplicaReceiver& receiver() { return *receiver_; }
  SimNode* primary() const { return primary_; }
  SimNode* standby() const { return standby_; }

 private:
  SimNode* primary_;
  SimNode* standby_;
  std::string standby_inbox_, primary_inbox_;
  MemLink to_standby_{&standby_inbox_}, to_primary_{&primary_inbox_};
  std::unique_ptr<wal::ReplicationSender> sender_;
  std::unique_ptr<wal::ReplicaReceiver> receiver_;
};

}  // namespace werk::testing
