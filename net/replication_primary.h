#pragma once
// One shard's side of the primary's replication (docs/replication.md): takes
// the standby's link for this shard once the acceptor has checked its proof,
// decides where the standby goes on from (WELCOME), and streams the log to
// it (wal::ReplicationSender) while the shard serves. The standby's
// acknowledgements move the shard's durability gate, which releases the
// replies waiting for them.
//
// The gate is in sync mode from the start: with no standby attached, writes
// wait for one. When a write has waited for the standby for
// --standby-timeout (wal/standby_watch.h), the standby policy decides:
//   required  the shard refuses writes, and the replies still waiting get an
//             error naming why (Shard::RefuseWrites), until a standby is
//             linked and caught up;
//   degrade   the gate goes local (the shard acknowledges alone), a
//             kReplication record says so from which LSN, and once a
//             standby is linked and caught up the gate waits for it again
//             (another kReplication record).
// Both are logged loudly and shown in INFO.
//
// Heartbeats both ways (net/link_liveness.h) end a link that went silent.
// One standby at a time: a new link replaces the live one only if that one
// has gone quiet (the same standby reconnecting before this side noticed);
// a second standby is turned away with an error it retries on.
// A promoted primary starts alone (docs/replication.md "Promotion"): it had
// no standby when it took over, and its clients must not wait for one. Its
// gate stays local until a standby is linked and caught up, as after a
// degrade timeout.
//
// Fencing (docs/replication.md "Fencing"): a standby that knows a newer
// epoch than this primary's — in its handshake (HELLO, and the EPOCH_NOTICE
// after its proof) or on the link (any message of a newer epoch, or an
// EPOCH_NOTICE) — deposes the server: this shard asks the server to depose
// every shard (Depose below), which fences the gates, so nothing more is
// acknowledged. A deposed primary takes no standby and stops its standby
// watch.
//
// Thread affinity: the shard's thread.

#include <cstdint>
#include <optional>
#include <string_view>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/participant.h"
#include "net/link_liveness.h"
#include "net/replication_acceptor.h"
#include "net/replication_socket.h"
#include "wal/durability_gate.h"
#include "wal/replication_sender.h"
#include "wal/standby_watch.h"
#include "wal/wal.h"

namespace werk::net {

class Shard;

// What a primary does when its standby is gone (docs/replication.md).
struct StandbyPolicyOptions {
  wal::StandbyPolicy policy = wal::StandbyPolicy::kRequired;
  int64_t timeout_ms = 10'000;
};

// What INFO shows of a shard's standby.
struct PrimaryLinkStats {
  bool attached = false;
  std::string standby;  // host:port
  uint64_t acked_lsn = 0;
  uint64_t sent_lsn = 0;
  uint64_t sessions = 0;
  wal::StandbyWatch::State state = wal::StandbyWatch::State::kWaiting;
  wal::StandbyPolicy policy = wal::StandbyPolicy::kRequired;
  int64_t waiting_ms = 0;  // how long the oldest write has waited for the standby
};

// Decide's first question, before anything else about the standby: one
// that knows a newer epoch than `own` deposes this primary. The WELCOME
// refusal it gets then (naming the epoch and `holder`, the server holding
// it), or nullopt.
std::optional<WelcomeDecision> DecideEpoch(core::Epoch own, const StandbyPosition& at,
                                           std::string_view holder);
// The address an EPOCH_NOTICE named, with a wildcard or empty host (a
// server bound to 0.0.0.0 names itself so) replaced by the host the notice
// came from (`peer`, host:port).
std::string HolderAddress(std::string_view holder, std::string_view peer);

class ReplicationPrimary final : public core::Participant {
 public:
  // Deposes the server (every shard): the newer epoch and the replication
  // address of the server holding it (empty if unknown). Called on this
  // shard's thread. Returns whether the deposition is durable (the data
  // directory marked): until it is, a peer is not told it was heard.
  using Depose = std::function<bool(core::Epoch by, std::string holder)>;

  // `alone`: a promoted primary (see above).
  ReplicationPrimary(Shard* shard, wal::Wal* wal, wal::DurabilityGate* gate,
                     StandbyPolicyOptions policy, bool alone = false);
  ~ReplicationPrimary() override;

  void set_depose(Depose depose) { depose_ = std::move(depose); }
  // A standby proved itself for this shard: decide, welcome, stream.
  void Attach(ProvenStandby link);
  // The server is deposed (the server calls it on this shard's thread,
  // after fencing the gate): the standby's session ends, the standby watch
  // stops, and later standbys are refused.
  void Deposed(core::Epoch by);

  PrimaryLinkStats stats() const;

  void OnTurn() override;
  void OnStop() override;
  int64_t WaitBudgetNs() override;
  bool Quiescent() const override { return !live_ && closing_.empty(); }
  bool IoIdle() const override { return !live_ && closing_.empty(); }

 private:
  struct Session {
    std::unique_ptr<ReplicationSocket> socket;
    std::unique_ptr<wal::ReplicationSender> sender;
    std::string peer;
    LinkLiveness liveness;
  };
  // Where the standby at `at` goes on from.
  WelcomeDecision Decide(const StandbyPosition& at) const;
  // Ends the live session: its socket closes (and is freed once closed).
  void Retire(absl::Status why);
  void OnClosed(Session* s, const absl::Status& why);
  // The standby policy's turn: acts on what the watch says.
  void Watch();
  // Why the watch timed out: the oldest record waited since `since_ms`.
  std::string WhyGone(int64_t since_ms) const;
  int64_t mono_ms() const;

  Shard* shard_;
  uint32_t id_;
  wal::Wal* wal_;
  wal::DurabilityGate* gate_;
  wal::StandbyWatch watch_;
  std::unique_ptr<Session> live_;
  std::vector<std::unique_ptr<Session>> closing_;  // until their sockets closed
  uint64_t sessions_ = 0;
  bool stopping_ = false;
  Depose depose_;
  core::Epoch deposed_by_{0};  // 0: not deposed
};

}  // namespace werk::net
