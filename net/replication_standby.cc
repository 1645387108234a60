#include "net/replication_standby.h"

#include <spdlog/spdlog.h>

namespace werk::net {

namespace {

// What a reconnection cannot fix: the logs disagree, or this side is broken.
bool Unrecoverable(const absl::Status& st) {
  return absl::IsFailedPrecondition(st) || absl::IsInternal(st);
}

}  // namespace

ReplicationStandby::ReplicationStandby(uint32_t shard, core::ShardRuntime* runtime, wal::Wal* wal,
                                       core::Partition* partition,
                                       ReplicationConnector* connector, Fatal fatal,
                                       Diverged diverged, core::Epoch min_primary_epoch)
    : shard_(shard),
      runtime_(runtime),
      wal_(wal),
      partition_(partition),
      connector_(connector),
      fatal_(std::move(fatal)),
      diverged_(std::move(diverged)),
      min_primary_epoch_(min_primary_epoch) {}

ReplicationStandby::~ReplicationStandby() = default;

StandbyPosition ReplicationStandby::Position() const {
  // A higher epoch is applied (SetEpoch) before its first record, so the
  // log's epoch is its last record's.
  return PositionOf(wal_->appended_lsn(), wal_->epoch(), std::max(wal_->epoch(), primary_epoch_),
                    partition_->state().epochs());
}

void ReplicationStandby::Begin() {
  connector_->Request(shard_, Position(), wal_->epoch(), /*at_once=*/true);
}

void ReplicationStandby::Attach(ProvenPrimary link) {
  if (stopping_) return;
  const WelcomeDecision& w = link.welcome;
  primary_epoch_ = std::max(primary_epoch_, link.primary_epoch);
  const core::Lsn next = wal_->appended_lsn().next();
  if (w.decision != wal::WelcomeDecision::kRefused && link.primary_epoch < min_primary_epoch_) {
    return Stop(absl::FailedPreconditionError(
        "shard " + std::to_string(shard_) + ": this data directory was promoted to primary at "
        "epoch " + std::to_string(min_primary_epoch_.value() - 1) + ", and the primary is at "
        "epoch " + std::to_string(link.primary_epoch.value()) +
        ": not a primary that took over after this one. Start it without --replica-of, or "
        "follow the primary of the newest epoch"));
  }
  switch (w.decision) {
    case wal::WelcomeDecision::kContinue:
      break;
    case wal::WelcomeDecision::kDiverged:
      spdlog::warn("replication: shard {}: the primary says this log diverged from its own at "
                   "LSN {} (this log ends at LSN {})",
                   shard_, w.lsn.value(), wal_->appended_lsn().value());
      stopping_ = true;
      if (!diverged_)
        return Stop(absl::FailedPreconditionError(
            "shard " + std::to_string(shard_) + ": this standby's log diverged from the "
            "primary's at LSN " + std::to_string(w.lsn.value())));
      diverged_(shard_, w.lsn, partition_->state().epochs().alone_since());
      return;
    case wal::WelcomeDecision::kBootstrap:
      if (bootstrap_.staging_dir.empty())
        return Stop(absl::FailedPreconditionError(
            "shard " + std::to_string(shard_) +
            ": the primary can only bootstrap this standby from a checkpoint, and this "
            "standby cannot take one"));
      return BeginBootstrap(std::move(link));
    case wal::WelcomeDecision::kRefused:
      return Stop(absl::FailedPreconditionError("the primary refused shard " +
                                                std::to_string(shard_) + ": " + w.text));
  }
  if (w.lsn != next) {
    spdlog::warn("replication: shard {}: the primary continues at LSN {}, this log at {}; "
                 "reconnecting",
                 shard_, w.lsn.value(), next.value());
    connector_->Request(shard_, Position(), wal_->epoch(), false);
    return;
  }
  Session* s = StartSession(link, [this](Session* s, const wal::Message& m) {
    absl::Status st = s->receiver->OnMessage(m);
    primary_epoch_ = std::max(primary_epoch_, s->receiver->primary_epoch());
    return st;
  });
  s->receiver = std::make_unique<wal::ReplicaReceiver>(
      wal_, [this](std::string_view body) { return partition_->ApplyReplicated(body); },
      s->socket.get());
  spdlog::info("replication: shard {}: following the primary from LSN {}", shard_, next.value());
  s->socket->Start(std::move(link.rest));
}

ReplicationStandby::Session* ReplicationStandby::StartSession(ProvenPrimary& link,
                                                              OnSessionMessage on_message) {
  if (live_) {
    // Not expected (one request per ended link), but never two sessions.
    live_->receiver.reset();
    live_->checkpoint.reset();
    Session* old = live_.get();
    closing_.push_back(std::move(live_));
    if (!old->socket->closing()) old->socket->Close(absl::UnavailableError("replaced"));
  }
  ++sessions_;
  live_ = std::make_unique<Session>();
  Session* s = live_.get();
  ReplicationSocket::Handler h;
  h.on_message = [this, s, on_message](const wal::Message& m) -> absl::Status {
    if (s != live_.get()) return absl::CancelledError("a retired session");
    s->liveness.Heard(runtime_->mono_ms());
    return on_message(s, m);
  };
  h.on_writable = [] {};
  h.on_closed = [this, s](const absl::Status& why) { OnClosed(s, why); };
  s->socket = std::make_unique<ReplicationSocket>(&runtime_->reactor(), link.fd.release(),
                                                  std::move(h), wal_->epoch());
  s->liveness.Start(runtime_->mono_ms());
  return s;
}

void ReplicationStandby::BeginBootstrap(ProvenPrimary link) {
  const core::Lsn lsn = link.welcome.lsn;
  const uint64_t bytes = link.welcome.checkpoint_bytes;
  spdlog::warn("replication: shard {}: this log ends at LSN {}, before the primary's oldest "
               "file: bootstrapping from its checkpoint at LSN {} ({} bytes) into {}",
               shard_, wal_->appended_lsn().value(), lsn.value(), bytes, bootstrap_.staging_dir);
  auto receiver = wal::CheckpointReceiver::Open({bootstrap_.staging_dir, shard_, lsn, bytes});
  if (!receiver.ok()) return Stop(receiver.status());
  if (!bootstrapping_ && bootstrap_.begin) bootstrap_.begin(shard_);
  bootstrapping_ = true;
  Session* s = StartSession(link, [this](Session* s, const wal::Message& m) {
    if (!s->checkpoint) return absl::Status(absl::CancelledError("the bootstrap ended"));
    return OnCheckpointMessage(s, m);
  });
  s->checkpoint = std::move(*receiver);
  s->checkpoint_lsn = lsn;
  s->socket->Start(std::move(link.rest));
}

absl::Status ReplicationStandby::OnCheckpointMessage(Session* s, const wal::Message& m) {
  primary_epoch_ = std::max(primary_epoch_, m.sender_epoch);
  if (const auto* chunk = std::get_if<wal::CheckpointChunk>(&m.body)) {
    if (absl::Status st = s->checkpoint->Take(*chunk); !st.ok()) {
      spdlog::error("replication: shard {}: {}; nothing is installed", shard_,
                    std::string(st.message()));
      return st;
    }
    if (!s->checkpoint->complete()) return absl::OkStatus();
    spdlog::warn("replication: shard {}: the checkpoint at LSN {} is staged and verified ({} "
                 "bytes); it is installed at the next start",
                 shard_, s->checkpoint_lsn.value(), s->checkpoint->bytes_received());
    // This run follows nothing more: the state it holds is not the
    // checkpoint's.
    stopping_ = true;
    bootstrapping_ = false;
    s->checkpoint.reset();
    if (!s->socket->closing())
      s->socket->Close(absl::CancelledError("bootstrapped: the standby restarts"));
    if (bootstrap_.end) bootstrap_.end(shard_, s->checkpoint_lsn);
    return absl::OkStatus();
  }
  if (std::holds_alternative<wal::Heartbeat>(m.body) ||
      std::holds_alternative<wal::EpochNotice>(m.body))
    return absl::OkStatus();
  if (const auto* error = std::get_if<wal::Error>(&m.body))
    return absl::UnavailableError("the primary closed the stream: " + std::string(error->text));
  return absl::InvalidArgumentError("shard " + std::to_string(shard_) +
                                    ": unexpected message from the primary during a bootstrap "
                                    "(type " + std::to_string(int(m.type())) + ")");
}

void ReplicationStandby::OnClosed(Session* s, const absl::Status& why) {
  if (s->checkpoint) {
    // A bootstrap the link cut short: the staging file is not used; the
    // next link starts one again.
    s->checkpoint.reset();
    if (bootstrapping_) {
      bootstrapping_ = false;
      if (bootstrap_.end) bootstrap_.end(shard_, std::nullopt);
    }
  }
  if (s->receiver) {
    records_ += s->receiver->records_received();
    primary_durable_ = std::max(primary_durable_, s->receiver->primary_durable_lsn());
  }
  s->receiver.reset();
  if (s != live_.get()) return;
  closing_.push_back(std::move(live_));
  if (stopping_) return;
  if (Unrecoverable(why)) return Stop(why);
  spdlog::warn("replication: shard {}: the link to the primary ended: {}; reconnecting", shard_,
               std::string(why.message()));
  connector_->Request(shard_, Position(), wal_->epoch(), false);
}

void ReplicationStandby::Stop(const absl::Status& why) {
  spdlog::critical("replication: {}", std::string(why.message()));
  stopping_ = true;
  fatal_(why);
}

void ReplicationStandby::OnTurn() {
  std::erase_if(closing_, [](const std::unique_ptr<Session>& c) { return c->socket->closed(); });
  if (!live_ || live_->socket->closing()) return;
  const int64_t now = runtime_->mono_ms();
  if (live_->liveness.Silent(now)) {
    // OnClosed asks for a new link once the socket has let go.
    live_->socket->Close(absl::UnavailableError(
        "the primary sent nothing for " + std::to_string(LinkLiveness::kSilenceMs / 1000) + " s"));
    return;
  }
  live_->liveness.Beat(now, live_->socket.get(), wal_->epoch(), wal_->durable_lsn(),
                       wal_->appended_lsn());
}

int64_t ReplicationStandby::WaitBudgetNs() {
  if (!live_ || live_->socket->closing()) return core::kNoDeadline;
  return std::max<int64_t>(0, (live_->liveness.next_ms() - runtime_->mono_ms()) *
                                  core::kNanosPerMilli);
}

void ReplicationStandby::OnDurable(core::Lsn) {
  if (live_ && live_->receiver) live_->receiver->Acknowledge();
}

void ReplicationStandby::OnStop() {
  stopping_ = true;
  if (live_) {
    live_->receiver.reset();
    live_->checkpoint.reset();
    Session* s = live_.get();
    closing_.push_back(std::move(live_));
    if (!s->socket->closing()) s->socket->Close(absl::UnavailableError("the standby is stopping"));
  }
}

core::Epoch ReplicationStandby::StopForPromotion() {
  if (!stopping_)
    spdlog::warn("replication: shard {}: promotion: the link to the primary ends at LSN {}", shard_,
                 wal_->appended_lsn().value());
  OnStop();
  return std::max(wal_->epoch(), primary_epoch_);
}

StandbyLinkStats ReplicationStandby::stats() const {
  StandbyLinkStats st;
  // A bootstrap's session is not following the log yet.
  st.linked = live_ != nullptr && !live_->checkpoint;
  st.applied_lsn = wal_->appended_lsn().value();
  st.acked_lsn = wal_->durable_lsn().value();
  st.records = records_;
  st.primary_durable_lsn = primary_durable_.value();
  if (live_ && live_->receiver) {
    st.records += live_->receiver->records_received();
    st.primary_durable_lsn =
        std::max(st.primary_durable_lsn, live_->receiver->primary_durable_lsn().value());
  }
  st.sessions = sessions_;
  return st;
}

}  // namespace werk::net
