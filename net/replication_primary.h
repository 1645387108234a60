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
// A promoted primary starts alone (docs/replication.md "Promotion"): it had
// no standby when it took over, and its clients must not wait for one. Its
// gate stays in local mode until a standby links; then it moves to sync
// mode and `on_linked` logs that writes are no longer acknowledged alone.
//
// One standby session at a time: a new one (the standby reconnected)
// replaces the old.
//
// Thread affinity: the shard's thread.

#include <cstdint>
#include <functional>
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
  // Called on the shard's thread when a standby links to a primary that was
  // alone, as the gate enters sync mode.
  using OnLinked = std::function<void()>;

  // `alone`: a promoted primary (see above); `on_linked` only then.
  ReplicationPrimary(uint32_t shard, core::Reactor* reactor, wal::Wal* wal,
                     wal::DurabilityGate* gate, const core::StateMachine* state,
                     bool alone = false, OnLinked on_linked = nullptr);
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
  bool alone_ = false;
  OnLinked on_linked_;
};

}  // namespace werk::net
