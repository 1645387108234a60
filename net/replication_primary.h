#pragma once
// One shard's side of the primary's replication (docs/replication.md): takes
// the standby's link for this shard once the acceptor has checked its proof,
// decides where the standby goes on from (WELCOME), and streams the log to
// it (wal::ReplicationSender) while the shard serves. The standby's
// acknowledgements move the shard's durability gate, which releases the
// replies waiting for them.
//
// Required mode (the only one built so far): the gate is in sync mode from
// the start, so with no standby attached writes wait for one; the answer
// after --standby-timeout comes with the standby policy.
//
// One standby session at a time: a new one (the standby reconnected)
// replaces the old.
//
// Thread affinity: the shard's thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/participant.h"
#include "core/reactor.h"
#include "core/state_machine.h"
#include "net/replication_acceptor.h"
#include "net/replication_socket.h"
#include "wal/durability_gate.h"
#include "wal/replication_sender.h"
#include "wal/wal.h"

namespace werk::net {

// What INFO shows of a shard's standby.
struct PrimaryLinkStats {
  bool attached = false;
  std::string standby;  // host:port
  uint64_t acked_lsn = 0;
  uint64_t sent_lsn = 0;
  uint64_t sessions = 0;
};

class ReplicationPrimary final : public core::Participant {
 public:
  ReplicationPrimary(uint32_t shard, core::Reactor* reactor, wal::Wal* wal,
                     wal::DurabilityGate* gate, const core::StateMachine* state);
  ~ReplicationPrimary() override;

  // A standby proved itself for this shard: decide, welcome, stream.
  void Attach(ProvenStandby link);

  PrimaryLinkStats stats() const;

  void OnTurn() override;
  void OnStop() override;
  bool Quiescent() const override { return !live_ && closing_.empty(); }
  bool IoIdle() const override { return !live_ && closing_.empty(); }

 private:
  struct Session {
    std::unique_ptr<ReplicationSocket> socket;
    std::unique_ptr<wal::ReplicationSender> sender;
    std::string peer;
  };
  // Where the standby at `at` goes on from.
  WelcomeDecision Decide(const StandbyPosition& at) const;
  // Ends the live session: its socket closes (and is freed once closed).
  void Retire(absl::Status why);
  void OnClosed(Session* s, const absl::Status& why);

  uint32_t shard_;
  core::Reactor* reactor_;
  wal::Wal* wal_;
  wal::DurabilityGate* gate_;
  const core::StateMachine* state_;
  std::unique_ptr<Session> live_;
  std::vector<std::unique_ptr<Session>> closing_;  // until their sockets closed
  uint64_t sessions_ = 0;
  bool stopping_ = false;
};

}  // namespace werk::net
