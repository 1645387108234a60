#include "net/replication_handshake.h"

#include <algorithm>

#include <absl/status/status.h>

namespace werk::net {

namespace {

absl::Status Unexpected(const wal::Message& m, std::string_view expected) {
  if (const auto* e = std::get_if<wal::Error>(&m.body))
    return absl::UnavailableError("the peer ended the handshake: " + std::string(e->text));
  return absl::InvalidArgumentError("expected " + std::string(expected) + ", got message type " +
                                    std::to_string(int(m.type())));
}

}  // namespace

StandbyPosition PositionOf(core::Lsn last_lsn, core::Epoch last_epoch, core::Epoch highest_epoch,
                           const core::EpochHistory& history) {
  StandbyPosition p{last_lsn, last_epoch, highest_epoch, std::vector<core::EpochStart>{}, false};
  const std::vector<core::EpochStart>& all = history.entries();
  const size_t skip = all.size() > wal::kHelloEpochsMax ? all.size() - wal::kHelloEpochsMax : 0;
  p.epochs_truncated = skip > 0;
  p.epochs->reserve(all.size() - skip);
  for (size_t i = skip; i < all.size(); ++i)
    p.epochs->push_back({all[i].epoch, all[i].first_lsn, std::string(), all[i].id});
  return p;
}

StandbyHandshake::StandbyHandshake(std::string password, std::string cluster_id, uint32_t shard,
                                   uint32_t shard_count, StandbyPosition position,
                                   core::Epoch epoch)
    : password_(std::move(password)),
      cluster_id_(std::move(cluster_id)),
      shard_(shard),
      shard_count_(shard_count),
      position_(position),
      epoch_(epoch),
      nonce_(MakeReplicationNonce()) {}

void StandbyHandshake::Start(std::string& out) {
  wal::AppendMessage(out, epoch_,
                     wal::Hello{cluster_id_, shard_, shard_count_, nonce_, position_.last_lsn,
                                position_.last_epoch, position_.highest_epoch, position_.epochs,
                                position_.epochs_truncated});
  step_ = Step::kChallenge;
}

absl::Status StandbyHandshake::OnMessage(const wal::Message& m, std::string& out) {
  switch (step_) {
    case Step::kChallenge: {
      const auto* c = std::get_if<wal::Challenge>(&m.body);
      if (!c) return Unexpected(m, "CHALLENGE");
      primary_cluster_ = std::string(c->cluster_id);
      primary_nonce_ = std::string(c->nonce);
      primary_epoch_ = m.sender_epoch;
      primary_shard_count_ = c->shard_count;
      // The proof binds the primary's cluster id: a primary of another
      // cluster refuses us after the proofs (authenticated); we need not
      // guess here.
      const ReplicationTranscript t{nonce_, primary_nonce_, primary_cluster_, shard_};
      wal::AppendMessage(out, epoch_,
                         wal::Proof{ReplicationProof(password_, ReplicationRole::kStandby, t)});
      // A primary older than what this standby knows is told, after the
      // proof: it has been deposed, and by whom.
      if (const core::Epoch known = std::max(position_.highest_epoch, epoch_);
          known > primary_epoch_)
        wal::AppendMessage(out, epoch_, wal::EpochNotice{known, epoch_holder_});
      step_ = Step::kWelcome;
      return absl::OkStatus();
    }
    case Step::kWelcome: {
      const auto* w = std::get_if<wal::Welcome>(&m.body);
      if (!w) {
        if (const auto* e = std::get_if<wal::Error>(&m.body);
            e && e->code == wal::ErrorCode::kAuthentication)
          return absl::UnauthenticatedError("the primary refused this standby's proof: " +
                                            std::string(e->text) +
                                            " (is the password the primary's?)");
        return Unexpected(m, "WELCOME");
      }
      const ReplicationTranscript t{nonce_, primary_nonce_, primary_cluster_, shard_};
      if (!VerifyReplicationProof(password_, ReplicationRole::kPrimary, t, w->proof))
        return absl::UnauthenticatedError(
            "the primary's proof does not verify: it does not know this server's password");
      authenticated_ = true;
      step_ = Step::kDone;
      WelcomeDecision d{w->decision, w->lsn, w->checkpoint_bytes, std::string(w->text)};
      if (d.decision == wal::WelcomeDecision::kRefused)
        return absl::FailedPreconditionError("the primary refused this standby: " + d.text);
      welcome_ = std::move(d);
      return absl::OkStatus();
    }
    case Step::kStart:
    case Step::kDone:
      break;
  }
  return Unexpected(m, "nothing");
}

PrimaryHandshake::PrimaryHandshake(std::string password, std::string cluster_id,
                                   uint32_t shard_count, core::Epoch epoch, Decide decide)
    : password_(std::move(password)),
      cluster_id_(std::move(cluster_id)),
      shard_count_(shard_count),
      epoch_(epoch),
      decide_(std::move(decide)),
      nonce_(MakeReplicationNonce()) {}

absl::Status PrimaryHandshake::OnMessage(const wal::Message& m, std::string& out) {
  switch (step_) {
    case Step::kHello: {
      const auto* h = std::get_if<wal::Hello>(&m.body);
      if (!h) return Unexpected(m, "HELLO");
      shard_ = h->shard;
      standby_cluster_ = std::string(h->cluster_id);
      standby_nonce_ = std::string(h->nonce);
      standby_ = {h->last_lsn, h->last_epoch, h->highest_epoch, h->epochs, h->epochs_truncated};
      standby_.highest_epoch = std::max(standby_.highest_epoch, m.sender_epoch);
      wal::AppendMessage(out, epoch_, wal::Challenge{nonce_, cluster_id_, shard_count_});
      // The standby's count is checked after its proof (a refusal then
      // is authenticated).
      standby_shard_count_ = h->shard_count;
      step_ = Step::kProof;
      return absl::OkStatus();
    }
    case Step::kProof: {
      const auto* p = std::get_if<wal::Proof>(&m.body);
      if (!p) return Unexpected(m, "PROOF");
      const ReplicationTranscript t{standby_nonce_, nonce_, cluster_id_, shard_};
      if (!VerifyReplicationProof(password_, ReplicationRole::kStandby, t, p->proof))
        return absl::UnauthenticatedError(
            "the standby's proof does not verify (wrong password, or not a werk standby)");
      const uint32_t standby_count = standby_shard_count_;
      WelcomeDecision d;
      if (!standby_cluster_.empty() && standby_cluster_ != cluster_id_) {
        d = {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
             "the standby belongs to cluster " + standby_cluster_ + ", this primary to " +
                 cluster_id_ + ": a standby replicates the primary it was created from"};
      } else if (standby_count != shard_count_) {
        d = {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
             "the standby runs " + std::to_string(standby_count) + " shards, this primary " +
                 std::to_string(shard_count_) + ": start it with --shards " +
                 std::to_string(shard_count_)};
      } else if (shard_ >= shard_count_) {
        d = {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
             "no shard " + std::to_string(shard_) + " here (" + std::to_string(shard_count_) +
                 " shards)"};
      } else if (knows_newer_epoch()) {
        step_ = Step::kNotice;  // its EPOCH_NOTICE comes next
        return absl::OkStatus();
      } else {
        return Proven(out);
      }
      Welcome(std::move(d), out);
      return absl::FailedPreconditionError("refused the standby: " + decision_.text);
    }
    case Step::kNotice: {
      const auto* n = std::get_if<wal::EpochNotice>(&m.body);
      if (!n) return Unexpected(m, "EPOCH_NOTICE");
      standby_.highest_epoch = std::max(standby_.highest_epoch, n->epoch);
      epoch_holder_ = std::string(n->address);
      return Proven(out);
    }
    case Step::kProven:
    case Step::kDone:
    case Step::kRefused:
      break;
  }
  return Unexpected(m, "nothing");
}

absl::Status PrimaryHandshake::Proven(std::string& out) {
  if (!decide_) {
    step_ = Step::kProven;
    return absl::OkStatus();
  }
  Welcome(decide_(shard_, standby_), out);
  if (step_ == Step::kRefused)
    return absl::FailedPreconditionError("refused the standby: " + decision_.text);
  return absl::OkStatus();
}

ReplicationTranscript PrimaryHandshake::Transcript() const {
  return ReplicationTranscript{standby_nonce_, nonce_, cluster_id_, shard_};
}

void PrimaryHandshake::Welcome(WelcomeDecision d, std::string& out) {
  wal::AppendMessage(out, epoch_,
                     wal::Welcome{ReplicationProof(password_, ReplicationRole::kPrimary,
                                                   Transcript()),
                                  d.decision, d.lsn, d.checkpoint_bytes, d.text});
  decision_ = std::move(d);
  step_ = decision_.decision == wal::WelcomeDecision::kRefused ? Step::kRefused : Step::kDone;
}

}  // namespace werk::net
