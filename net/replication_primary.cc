#include "net/replication_primary.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

namespace werk::net {

ReplicationPrimary::ReplicationPrimary(uint32_t shard, core::Reactor* reactor, wal::Wal* wal,
                                       wal::DurabilityGate* gate, const core::StateMachine* state,
                                       bool alone, OnLinked on_linked)
    : shard_(shard),
      reactor_(reactor),
      wal_(wal),
      gate_(gate),
      state_(state),
      alone_(alone),
      on_linked_(std::move(on_linked)) {
  // Required mode: nothing is acknowledged to a client before a standby has
  // it. Except on a primary that starts alone (it was just promoted and has
  // no standby): its clients are answered from its own log until a standby
  // links (Attach), or every write would wait for a standby that may never
  // come.
  if (!alone_) gate_->SetMode(wal::DurabilityGate::Mode::kSync);
}

ReplicationPrimary::~ReplicationPrimary() = default;

WelcomeDecision ReplicationPrimary::Decide(const StandbyPosition& at) const {
  const core::Lsn last = wal_->appended_lsn();
  if (at.highest_epoch > wal_->epoch()) {
    return {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
            "the standby knows epoch " + std::to_string(at.highest_epoch.value()) +
                ", newer than this primary's " + std::to_string(wal_->epoch().value())};
  }
  // An epoch this primary never had: the standby's records of it are not
  // ours, from a point this side cannot tell.
  if (at.last_lsn.value() > 0 && at.last_epoch > core::Epoch(1)) {
    bool known = false;
    for (const core::EpochStart& e : state_->epochs().entries()) known |= e.epoch == at.last_epoch;
    if (!known)
      return {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
              "the standby's last record (LSN " + std::to_string(at.last_lsn.value()) +
                  ") is of epoch " + std::to_string(at.last_epoch.value()) +
                  ", which this primary never had: its log is not a prefix of this one"};
  }
  // Where the standby's epoch ended here: beyond that, its log is not ours.
  if (auto fork = state_->epochs().ForkAfter(at.last_epoch); fork && at.last_lsn >= *fork)
    return {wal::WelcomeDecision::kDiverged, *fork, 0, {}};
  // Records this primary does not have (it lost an unsynced tail the
  // standby had received): never acknowledged, so the standby drops them.
  if (at.last_lsn > last) return {wal::WelcomeDecision::kDiverged, last.next(), 0, {}};
  // Can the log still give everything after the standby's last record, from
  // memory or from its segment files (the sender catches up from those)?
  const core::Lsn from = at.last_lsn.next();
  if (!wal_->Follow(from).ok()) {
    const std::vector<wal::Wal::SegmentRef> files = wal_->SegmentsFrom(from);
    if (files.empty() || files.front().first_lsn > from) {
      return {wal::WelcomeDecision::kRefused, core::Lsn(0), 0,
              "the standby stops at LSN " + std::to_string(at.last_lsn.value()) + " of shard " +
                  std::to_string(shard_) + ", and this primary's log " +
                  (files.empty() ? std::string("files no longer hold what follows")
                                 : "files begin at LSN " +
                                       std::to_string(files.front().first_lsn.value())) +
                  " (a checkpoint covers the rest); bootstrapping a standby from a checkpoint "
                  "is not built yet"};
    }
  }
  return {wal::WelcomeDecision::kContinue, at.last_lsn.next(), 0, {}};
}

void ReplicationPrimary::Attach(ProvenStandby link) {
  if (stopping_) return;  // the fd closes with `link`
  if (live_) {
    spdlog::warn("replication: shard {}: a new link from {} replaces the one from {}", shard_,
                 link.peer, live_->peer);
    Retire(absl::UnavailableError("replaced by a newer link from the standby"));
  }
  const StandbyPosition at = link.handshake->standby();
  const WelcomeDecision d = Decide(at);
  std::string out;
  link.handshake->Welcome(d, out);
  if (d.decision != wal::WelcomeDecision::kContinue) {
    spdlog::warn("replication: shard {}: standby {} at LSN {} (epoch {}): {} {}", shard_, link.peer,
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
    return s->sender->OnMessage(m);
  };
  h.on_writable = [this, s] {
    if (s != live_.get()) return;
    if (absl::Status st = s->sender->Pump(); !st.ok()) Retire(st);
  };
  h.on_closed = [this, s](const absl::Status& why) { OnClosed(s, why); };
  s->socket = std::make_unique<ReplicationSocket>(reactor_, link.fd.release(), std::move(h),
                                                  wal_->epoch());
  s->socket->outbox() = std::move(out);
  s->sender = std::make_unique<wal::ReplicationSender>(wal_, gate_, s->socket.get());
  // Where the standby stands is not what it synced (its last records may
  // still be on their way to its disk): the gate moves only with its ACKs,
  // the first of which says what it has synced (wal::ReplicaReceiver).
  spdlog::info("replication: shard {}: standby {} attached, streaming from LSN {}", shard_, s->peer,
               d.lsn.value());
  if (alone_) {
    // Not alone any more: from here on a reply waits for the standby again
    // (what it releases first is what the standby acknowledges as it
    // catches up).
    alone_ = false;
    gate_->SetMode(wal::DurabilityGate::Mode::kSync);
    spdlog::warn("replication: shard {}: standby {} linked: writes wait for its acknowledgement "
                 "again",
                 shard_, s->peer);
    if (on_linked_) on_linked_();
  }
  absl::Status st = s->sender->Start(d.lsn);
  // WELCOME leaves now, even when there is no record to send after it.
  s->socket->Flush();
  s->socket->Start(std::move(link.rest));
  if (!st.ok() && !s->socket->closing()) s->socket->Close(st);
}

void ReplicationPrimary::Retire(absl::Status why) {
  if (!live_) return;
  Session* s = live_.get();
  s->sender.reset();  // hears nothing more, moves the gate no more
  closing_.push_back(std::move(live_));
  if (!s->socket->closing()) s->socket->Close(why);
}

void ReplicationPrimary::OnClosed(Session* s, const absl::Status& why) {
  if (s == live_.get()) {
    spdlog::warn("replication: shard {}: standby {} detached: {}{}", shard_, s->peer,
                 std::string(why.message()),
                 stopping_ ? "" : " (writes wait for a standby: required mode)");
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
  // A stopping primary keeps the link until the standby has acknowledged
  // what its clients wait for (or the gate gave up on it).
  if (stopping_ && live_ && (gate_->unacknowledged() == 0 || gate_->failed()))
    Retire(absl::UnavailableError("the primary is stopping"));
}

void ReplicationPrimary::OnStop() { stopping_ = true; }

PrimaryLinkStats ReplicationPrimary::stats() const {
  PrimaryLinkStats st;
  st.attached = live_ != nullptr;
  if (live_) st.standby = live_->peer;
  st.acked_lsn = gate_->acked_lsn().value();
  if (live_ && live_->sender && live_->sender->next_lsn().value() > 0)
    st.sent_lsn = live_->sender->next_lsn().value() - 1;
  st.sessions = sessions_;
  return st;
}

}  // namespace werk::net
