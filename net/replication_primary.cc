#include "net/replication_primary.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "core/op_status.h"
#include "net/shard.h"

namespace werk::net {

ReplicationPrimary::ReplicationPrimary(Shard* shard, wal::Wal* wal, wal::DurabilityGate* gate,
                                       StandbyPolicyOptions policy, bool alone)
    : shard_(shard),
      id_(shard->id()),
      wal_(wal),
      gate_(gate),
      watch_(policy.policy, policy.timeout_ms,
             alone ? wal::StandbyWatch::State::kAlone : wal::StandbyWatch::State::kWaiting) {
  // Nothing is acknowledged to a client before a standby has it, until the
  // policy says otherwise. Except on a primary that starts alone (it was just
  // promoted and has no standby): its clients are answered from its own log
  // until a standby is linked and caught up (Watch), or every write would
  // wait for a standby that may never come.
  gate_->SetMode(alone ? wal::DurabilityGate::Mode::kLocal : wal::DurabilityGate::Mode::kSync);
}

ReplicationPrimary::~ReplicationPrimary() = default;

int64_t ReplicationPrimary::mono_ms() const { return shard_->runtime().mono_ms(); }

std::optional<WelcomeDecision> DecideEpoch(core::Epoch own, const StandbyPosition& at,
                                           std::string_view holder) {
  if (at.highest_epoch <= own) return std::nullopt;
  return WelcomeDecision{
      wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
      "the standby knows epoch " + std::to_string(at.highest_epoch.value()) +
          ", newer than this primary's " + std::to_string(own.value()) +
          ": this primary is deposed and takes no standby; the primary is " +
          (holder.empty() ? std::string("unknown here") : std::string(holder))};
}

std::string HolderAddress(std::string_view holder, std::string_view peer) {
  const size_t colon = holder.rfind(':');
  if (colon == std::string_view::npos) return std::string(holder);
  const std::string_view host = holder.substr(0, colon);
  if (!host.empty() && host != "0.0.0.0" && host != "::" && host != "[::]")
    return std::string(holder);
  const size_t peer_colon = peer.rfind(':');
  if (peer_colon == std::string_view::npos || peer_colon == 0) return std::string(holder);
  return std::string(peer.substr(0, peer_colon)) + std::string(holder.substr(colon));
}

WelcomeDecision ReplicationPrimary::Decide(const StandbyPosition& at) const {
  const core::Lsn last = wal_->appended_lsn();
  const core::EpochHistory& history = shard_->state().epochs();
  std::optional<core::Lsn> fork;
  if (at.epochs) {
    // Where the two logs part, from the runs each holds: a run of a number
    // both have but another id (a primary restarted while its standby was
    // promoted) parts them as surely as a newer epoch.
    fork = history.ForkOf(*at.epochs, at.epochs_truncated, at.last_lsn);
  } else {
    // A standby that sends no history: by its last record's epoch alone.
    // An epoch this primary never had: the standby's records of it are not
    // ours, from a point this side cannot tell.
    if (at.last_lsn.value() > 0 && at.last_epoch > core::Epoch(1)) {
      bool known = false;
      for (const core::EpochStart& e : history.entries()) known |= e.epoch == at.last_epoch;
      if (!known)
        return {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
                "the standby's last record (LSN " + std::to_string(at.last_lsn.value()) +
                    ") is of epoch " + std::to_string(at.last_epoch.value()) +
                    ", which this primary never had: its log is not a prefix of this one"};
    }
    // Where the standby's epoch ended here: beyond that, its log is not ours.
    if (auto f = history.ForkAfter(at.last_epoch); f && at.last_lsn >= *f) fork = f;
  }
  // Records this primary does not have (it lost an unsynced tail the
  // standby had received): never acknowledged, so the standby drops them.
  if (at.last_lsn > last && (!fork || last.next() < *fork)) fork = last.next();
  if (fork) return {wal::WelcomeDecision::kDiverged, *fork, 0, {}};
  // Can the log still give everything after the standby's last record, from
  // memory or from its segment files (the sender catches up from those)?
  const core::Lsn from = at.last_lsn.next();
  if (!wal_->Follow(from).ok()) {
    const std::vector<wal::Wal::SegmentRef> files = wal_->SegmentsFrom(from);
    if (files.empty() || files.front().first_lsn > from) {
      // A checkpoint covers the rest: the standby starts again from the
      // newest one (docs/replication.md "Bootstrap"), whose log after it is
      // kept (released only through a checkpoint's LSN).
      const wal::Checkpointer* ck = shard_->checkpointer();
      const wal::Checkpointer::Newest newest = ck ? ck->newest() : wal::Checkpointer::Newest{};
      if (!newest.name.empty() && newest.lsn >= at.last_lsn)
        return {wal::WelcomeDecision::kBootstrap, newest.lsn, newest.bytes, {}};
      return {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
              "the standby stops at LSN " + std::to_string(at.last_lsn.value()) + " of shard " +
                  std::to_string(id_) + ", and this primary's log " +
                  (files.empty() ? std::string("files no longer hold what follows")
                                 : "files begin at LSN " +
                                       std::to_string(files.front().first_lsn.value())) +
                  ", with no checkpoint to bootstrap it from"};
    }
  }
  return {wal::WelcomeDecision::kContinue, at.last_lsn.next(), 0, {}};
}

void ReplicationPrimary::Attach(ProvenStandby link) {
  if (stopping_) return;  // the fd closes with `link`
  // First the epochs: a standby that knows a newer one deposes this primary
  // (whatever else is linked), and a deposed primary takes no standby.
  const std::string holder = HolderAddress(link.handshake->epoch_holder(), link.peer);
  std::optional<WelcomeDecision> fenced =
      DecideEpoch(wal_->epoch(), link.handshake->standby(), holder);
  if (fenced) {
    spdlog::error("replication: shard {}: {} (authenticated) knows epoch {}, held by {}: this "
                  "primary is DEPOSED",
                  id_, link.peer, link.handshake->standby().highest_epoch.value(),
                  holder.empty() ? std::string("a server it did not name") : holder);
    // At once on this shard (its gate fenced, its link ended); then the
    // server deposes every shard.
    Deposed(link.handshake->standby().highest_epoch);
  } else if (deposed_by_ > core::Epoch(0)) {
    // Deposed before: no standby is taken (its records would never be
    // acknowledged anyway).
    fenced = WelcomeDecision{wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
                             "this primary is deposed by epoch " +
                                 std::to_string(deposed_by_.value()) + " and takes no standby"};
  }
  if (fenced) {
    std::string out;
    // The authenticated refusal tells a promoted server's notifier it was
    // heard, and it stops telling: only once a restart of this server
    // cannot serve as a primary again. Until then it is told to try again
    // (the marker is written again at each try).
    if (depose_ && !depose_(std::max(link.handshake->standby().highest_epoch, deposed_by_),
                            holder)) {
      wal::AppendMessage(out, wal_->epoch(),
                         wal::Error{wal::ErrorCode::kUnavailable,
                                    "deposed, but the data directory could not be marked yet"});
      (void)!::send(link.fd.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      return;
    }
    link.handshake->Welcome(*fenced, out);
    // Best effort: the peer reads WELCOME (authenticated), then the close.
    (void)!::send(link.fd.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return;
  }
  if (live_) {
    // Heard from within a second: another standby, or this one reconnecting
    // faster than this side saw the old link end. Either way the new link
    // waits; the standby's connector retries.
    if (mono_ms() - live_->liveness.heard_ms() < 1000) {
      const std::string why = "another standby (" + live_->peer +
                              ") is linked and live; a primary serves one standby";
      spdlog::warn("replication: shard {}: turned {} away: {}", id_, link.peer, why);
      std::string out;
      wal::AppendMessage(out, wal_->epoch(), wal::Error{wal::ErrorCode::kUnavailable, why});
      (void)!::send(link.fd.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      return;
    }
    spdlog::warn("replication: shard {}: a new link from {} replaces the quiet one from {}", id_,
                 link.peer, live_->peer);
    Retire(absl::UnavailableError("replaced by a newer link from the standby"));
  }
  const StandbyPosition at = link.handshake->standby();
  const WelcomeDecision d = Decide(at);
  std::string out;
  link.handshake->Welcome(d, out);
  if (d.decision != wal::WelcomeDecision::kContinue &&
      d.decision != wal::WelcomeDecision::kBootstrap) {
    spdlog::warn("replication: shard {}: standby {} at LSN {} (epoch {}): {} {}", id_, link.peer,
                 at.last_lsn.value(), at.last_epoch.value(),
                 d.decision == wal::WelcomeDecision::kDiverged ? "diverged at LSN" : "refused:",
                 d.decision == wal::WelcomeDecision::kDiverged ? std::to_string(d.lsn.value())
                                                               : d.text);
    // Best effort: the standby reads WELCOME, then the close.
    (void)!::send(link.fd.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return;
  }
  ++sessions_;
  live_ = std::make_unique<Session>();
  Session* s = live_.get();
  s->peer = link.peer;
  ReplicationSocket::Handler h;
  h.on_message = [this, s](const wal::Message& m) -> absl::Status {
    if (s != live_.get()) return absl::CancelledError("a retired session");
    s->liveness.Heard(mono_ms());
    absl::Status st = s->sender->OnMessage(m);
    if (s->sender->fenced() && deposed_by_ < s->sender->fenced_by()) {
      // The sender fenced this shard's gate; the server deposes them all.
      const std::string by_holder = HolderAddress(s->sender->fenced_holder(), s->peer);
      spdlog::error("replication: shard {}: the standby {} knows epoch {} (held by {}): this "
                    "primary is DEPOSED",
                    id_, s->peer, s->sender->fenced_by().value(),
                    by_holder.empty() ? std::string("a server it did not name") : by_holder);
      if (depose_) depose_(s->sender->fenced_by(), by_holder);
    }
    return st;
  };
  h.on_writable = [this, s] {
    if (s != live_.get()) return;
    if (absl::Status st = s->sender->Pump(); !st.ok()) Retire(st);
  };
  h.on_closed = [this, s](const absl::Status& why) { OnClosed(s, why); };
  s->socket = std::make_unique<ReplicationSocket>(&shard_->reactor(), link.fd.release(),
                                                  std::move(h), wal_->epoch());
  s->liveness.Start(mono_ms());
  s->socket->outbox() = std::move(out);
  s->sender = std::make_unique<wal::ReplicationSender>(wal_, gate_, s->socket.get());
  // Where the standby stands is not what it synced (its last records may
  // still be on their way to its disk): the gate moves only with its ACKs,
  // the first of which says what it has synced (wal::ReplicaReceiver).
  absl::Status st;
  if (d.decision == wal::WelcomeDecision::kBootstrap) {
    const wal::Checkpointer::Newest newest = shard_->checkpointer()->newest();
    spdlog::warn("replication: shard {}: standby {} at LSN {} is behind this log's oldest file: "
                 "bootstrapping it from the checkpoint {} (LSN {}, {} bytes), then the log",
                 id_, s->peer, at.last_lsn.value(), newest.name, newest.lsn.value(),
                 newest.bytes);
    st = s->sender->StartBootstrap(newest.name, newest.lsn, newest.bytes);
  } else {
    spdlog::info("replication: shard {}: standby {} attached, streaming from LSN {}", id_,
                 s->peer, d.lsn.value());
    st = s->sender->Start(d.lsn);
  }
  // WELCOME leaves now, even when there is no record to send after it.
  s->socket->Flush();
  s->socket->Start(std::move(link.rest));
  if (!st.ok() && !s->socket->closing()) s->socket->Close(st);
}

void ReplicationPrimary::Retire(absl::Status why) {
  if (!live_) return;
  Session* s = live_.get();
  if (!stopping_)
    spdlog::warn("replication: shard {}: gave up the link from the standby {}: {}", id_, s->peer,
                 std::string(why.message()));
  s->sender.reset();  // hears nothing more, moves the gate no more
  closing_.push_back(std::move(live_));
  if (!s->socket->closing()) s->socket->Close(why);
}

void ReplicationPrimary::OnClosed(Session* s, const absl::Status& why) {
  if (s == live_.get()) {
    spdlog::warn("replication: shard {}: standby {} detached: {}{}", id_, s->peer,
                 std::string(why.message()),
                 stopping_ || watch_.state() != wal::StandbyWatch::State::kWaiting
                     ? ""
                     : " (writes wait for a standby, at most the standby timeout)");
    s->sender.reset();
    // Freed on a later turn: the socket is still calling us.
    closing_.push_back(std::move(live_));
    return;
  }
  s->sender.reset();
}

void ReplicationPrimary::OnTurn() {
  // Sessions whose sockets have closed are freed here, outside their calls.
  std::erase_if(closing_, [](const std::unique_ptr<Session>& c) { return c->socket->closed(); });
  // The stream ended between the link's calls (the log let go of what the
  // standby had not read, or failed): the link goes too.
  if (live_ && !live_->sender->status().ok()) Retire(live_->sender->status());
  if (live_ && live_->liveness.Silent(mono_ms()))
    Retire(absl::UnavailableError("the standby sent nothing for " +
                                  std::to_string(LinkLiveness::kSilenceMs / 1000) + " s"));
  if (live_)
    live_->liveness.Beat(mono_ms(), live_->socket.get(), wal_->epoch(), wal_->durable_lsn(),
                         wal_->appended_lsn());
  // A deposed primary waits for no standby: its policy no longer applies.
  if (!stopping_ && deposed_by_ == core::Epoch(0) && !gate_->fenced()) Watch();
  // A stopping primary keeps the link until the standby has acknowledged
  // what its clients wait for (or the gate gave up on it).
  if (stopping_ && live_ && (gate_->unacknowledged() == 0 || gate_->failed()))
    Retire(absl::UnavailableError("the primary is stopping"));
}

void ReplicationPrimary::Deposed(core::Epoch by) {
  if (by <= deposed_by_) return;
  deposed_by_ = by;
  gate_->Fence();  // final: no mode change or acknowledgement moves it again
  Retire(absl::FailedPreconditionError("this primary is deposed by epoch " +
                                       std::to_string(by.value())));
}

void ReplicationPrimary::OnStop() { stopping_ = true; }

int64_t ReplicationPrimary::WaitBudgetNs() {
  int64_t at = watch_.deadline_ms();
  if (live_) at = at < 0 ? live_->liveness.next_ms() : std::min(at, live_->liveness.next_ms());
  if (at < 0) return core::kNoDeadline;
  return std::max<int64_t>(0, (at - mono_ms()) * core::kNanosPerMilli);
}

std::string ReplicationPrimary::WhyGone(int64_t since) const {
  const std::string waited =
      since < 0 ? std::string() : " for " + std::to_string(mono_ms() - since) + " ms";
  if (!live_) return "no standby has been linked" + waited;
  return "the standby " + live_->peer + " has acknowledged nothing new" + waited;
}

void ReplicationPrimary::Watch() {
  using State = wal::StandbyWatch::State;
  const State before = watch_.state();
  const int64_t since = watch_.waiting_since_ms();
  const auto action =
      watch_.Observe(mono_ms(), wal_->durable_lsn(), gate_->acked_lsn(), live_ != nullptr);
  if (action == wal::StandbyWatch::Action::kNone) return;
  const std::string why = WhyGone(since);
  switch (action) {
    case wal::StandbyWatch::Action::kNone:
      return;
    case wal::StandbyWatch::Action::kRefuse:
      spdlog::error(
          "replication: shard {}: {} (the standby timeout is {} ms): REFUSING WRITES (standby "
          "policy required); the replies still waiting get an error, and writes resume once a "
          "standby is linked and caught up",
          id_, why, watch_.timeout_ms());
      gate_->set_writes_refused(true);
      shard_->RefuseWrites(core::NoStandby(why));
      return;
    case wal::StandbyWatch::Action::kGoAlone: {
      // The record first, then the gate: nothing is acknowledged alone
      // before the record saying so is durable, so a rejoin that finds no
      // such record may drop the tail (net/rejoin_decision.h).
      const core::Lsn from = gate_->acked_lsn().next();
      const bool logged = shard_->partition().Commit(core::Mutation::Replication(
          shard_->runtime().now(), core::ReplicationRecord{true, from.value()}));
      gate_->SetMode(wal::DurabilityGate::Mode::kLocal, wal_->appended_lsn());
      spdlog::error(
          "replication: shard {}: {} (the standby timeout is {} ms): CONTINUING ALONE (standby "
          "policy degrade): writes from LSN {} on are acknowledged with no standby, and a "
          "failover now would lose them{}",
          id_, why, watch_.timeout_ms(), from.value(), logged ? "" : " (the record of it failed)");
      return;
    }
    case wal::StandbyWatch::Action::kResume:
      if (before == State::kRefusing) {
        gate_->set_writes_refused(false);
        shard_->AcceptWrites();
        spdlog::warn("replication: shard {}: the standby {} is back and caught up: writes resume",
                     id_, live_ ? live_->peer : std::string("?"));
      } else {
        gate_->SetMode(wal::DurabilityGate::Mode::kSync);
        (void)shard_->partition().Commit(core::Mutation::Replication(
            shard_->runtime().now(), core::ReplicationRecord{false, gate_->acked_lsn().value()}));
        spdlog::warn(
            "replication: shard {}: the standby {} is back and caught up (LSN {}): writes wait "
            "for it again",
            id_, live_ ? live_->peer : std::string("?"), gate_->acked_lsn().value());
      }
      return;
  }
}

PrimaryLinkStats ReplicationPrimary::stats() const {
  PrimaryLinkStats st;
  st.attached = live_ != nullptr;
  if (live_) st.standby = live_->peer;
  st.acked_lsn = gate_->acked_lsn().value();
  if (live_ && live_->sender && live_->sender->next_lsn().value() > 0)
    st.sent_lsn = live_->sender->next_lsn().value() - 1;
  st.sessions = sessions_;
  st.state = watch_.state();
  st.policy = watch_.policy();
  if (const int64_t since = watch_.waiting_since_ms(); since >= 0) st.waiting_ms = mono_ms() - since;
  return st;
}

}  // namespace werk::net
