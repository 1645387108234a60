#pragma once
// The replication link's handshake, both roles, as pure state machines (no
// I/O, no clock): the link's owner feeds each message in and sends what
// comes out (docs/replication.md "The handshake").
//
//   standby                          primary
//   HELLO (nonce S, where its log ends) →
//                                    ← CHALLENGE (nonce P, cluster, shard count)
//   PROOF (standby's HMAC)          →
//   [EPOCH_NOTICE (epoch, holder)]  →  only if CHALLENGE's epoch is older
//                                      than the standby knows of
//                                    ← WELCOME (primary's HMAC, the decision)
//                                      or ERROR (authentication) and close
//
// A standby that knows a newer epoch than the primary's (it follows a
// promoted server, or it is one telling its old primary: net/epoch_notifier.h)
// says so after its proof, so the notice is from a peer that proved itself,
// with the address of the server holding that epoch. The primary's shard
// then deposes the server and refuses the standby in WELCOME
// (docs/replication.md "Fencing").
//
// The primary refuses — in a WELCOME, so the refusal is authenticated — a
// standby of another cluster or another shard count. The standby verifies
// WELCOME's proof before it believes anything in it: a fake primary cannot
// feed it records. What to decide (continue, bootstrap, diverged) is the
// shard's: the primary's machine asks a callback once the standby proved
// itself.
//
// Thread affinity: none (each machine belongs to one link).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <absl/status/statusor.h>

#include "core/epoch_history.h"
#include "core/types.h"
#include "net/replication_auth.h"
#include "wal/replication_protocol.h"

namespace werk::net {

// Where a standby's log of one shard ends (HELLO's fields).
struct StandbyPosition {
  core::Lsn last_lsn{0};
  core::Epoch last_epoch{0};
  core::Epoch highest_epoch{1};
  // The standby's epoch history (wal::Hello::epochs); nullopt from a
  // standby that sent none.
  std::optional<std::vector<core::EpochStart>> epochs;
  bool epochs_truncated = false;
};

// A shard's position as its HELLO tells it: its history's newest entries
// (all of them unless there are more than HELLO carries).
StandbyPosition PositionOf(core::Lsn last_lsn, core::Epoch last_epoch, core::Epoch highest_epoch,
                           const core::EpochHistory& history);

// A decision the primary's shard makes for a standby that proved itself.
struct WelcomeDecision {
  wal::WelcomeDecision decision = wal::WelcomeDecision::kContinue;
  core::Lsn lsn{0};
  uint64_t checkpoint_bytes = 0;
  std::string text;  // kRefused
};

class StandbyHandshake {
 public:
  // `cluster_id` empty: a fresh standby, which adopts the primary's.
  StandbyHandshake(std::string password, std::string cluster_id, uint32_t shard,
                   uint32_t shard_count, StandbyPosition position, core::Epoch epoch);

  // The address EPOCH_NOTICE names as the holder of the newest epoch this
  // standby knows, if the primary turns out to be older (see above).
  void set_epoch_holder(std::string address) { epoch_holder_ = std::move(address); }
  // The first message (HELLO), appended to `out`.
  void Start(std::string& out);
  // The next message from the primary. Appends the answer (PROOF) to `out`
  // if any. An error ends the link: unauthenticated (a bad proof), refused
  // (the primary's authenticated REFUSED), or a protocol error.
  absl::Status OnMessage(const wal::Message& m, std::string& out);
  // Once done: the primary's authenticated decision.
  bool done() const { return welcome_.has_value(); }
  const WelcomeDecision& welcome() const { return *welcome_; }
  // The primary's cluster id (a fresh standby adopts it) and epoch.
  const std::string& primary_cluster_id() const { return primary_cluster_; }
  core::Epoch primary_epoch() const { return primary_epoch_; }
  // The primary's shard count, as CHALLENGE said (not authenticated: a
  // wrong one only gets the standby refused later).
  uint32_t primary_shard_count() const { return primary_shard_count_; }
  // WELCOME's proof verified, whatever it decided (a probe's refusal is
  // authenticated too: the cluster id is the primary's).
  bool authenticated() const { return authenticated_; }

 private:
  enum class Step : uint8_t { kStart, kChallenge, kWelcome, kDone };
  std::string password_, cluster_id_, primary_cluster_, epoch_holder_;
  uint32_t shard_, shard_count_;
  StandbyPosition position_;
  core::Epoch epoch_, primary_epoch_{0};
  uint32_t primary_shard_count_ = 0;
  bool authenticated_ = false;
  std::string nonce_, primary_nonce_;
  Step step_ = Step::kStart;
  std::optional<WelcomeDecision> welcome_;
};

class PrimaryHandshake {
 public:
  // Decides for a standby that proved itself; called once.
  using Decide = std::function<WelcomeDecision(uint32_t shard, const StandbyPosition&)>;

  // Without `decide`, the machine stops once the standby proved itself
  // (proven()): the decision is made elsewhere (on the standby's shard's
  // thread) and sent with Welcome().
  PrimaryHandshake(std::string password, std::string cluster_id, uint32_t shard_count,
                   core::Epoch epoch, Decide decide = nullptr);

  // The next message from the standby; appends the answer to `out`. An
  // error ends the link (an ERROR for the peer is the caller's to send; for
  // a bad proof it is kAuthentication). A refusal of another cluster or
  // shard count, or a probe, appends WELCOME REFUSED and returns
  // kFailedPrecondition.
  absl::Status OnMessage(const wal::Message& m, std::string& out);
  // The standby proved itself (and sent its EPOCH_NOTICE, if it knows a
  // newer epoch), and no decision was made yet.
  bool proven() const { return step_ == Step::kProven; }
  // The standby knows a newer epoch than this primary's: someone was
  // promoted (standby().highest_epoch), held by the server its
  // EPOCH_NOTICE named (empty if it named none).
  bool knows_newer_epoch() const { return standby_.highest_epoch > epoch_; }
  const std::string& epoch_holder() const { return epoch_holder_; }
  // Appends WELCOME with `d` (after proven()).
  void Welcome(WelcomeDecision d, std::string& out);
  // Done: WELCOME was sent with a decision other than REFUSED.
  bool done() const { return step_ == Step::kDone; }
  // A fresh standby (no cluster id yet): it may be probing for the
  // cluster and shard count (docs/replication.md "A fresh standby").
  bool fresh() const { return standby_cluster_.empty(); }
  uint32_t shard() const { return shard_; }
  const StandbyPosition& standby() const { return standby_; }
  const WelcomeDecision& decision() const { return decision_; }

 private:
  enum class Step : uint8_t { kHello, kProof, kNotice, kProven, kDone, kRefused };
  // The standby is proven (and its notice heard): decide, or stop here.
  absl::Status Proven(std::string& out);
  std::string password_, cluster_id_, epoch_holder_;
  ReplicationTranscript Transcript() const;
  uint32_t shard_count_;
  core::Epoch epoch_;
  Decide decide_;
  Step step_ = Step::kHello;
  uint32_t shard_ = 0;
  uint32_t standby_shard_count_ = 0;
  std::string standby_cluster_;
  std::string nonce_, standby_nonce_;
  StandbyPosition standby_;
  WelcomeDecision decision_;
};

}  // namespace werk::net
