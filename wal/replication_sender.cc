#include "wal/replication_sender.h"

#include <optional>
#include <string>
#include <variant>

namespace werk::wal {

ReplicationSender::ReplicationSender(Wal* wal, DurabilityGate* gate, ReplicationLink* link)
    : wal_(wal), gate_(gate), link_(link) {}

ReplicationSender::~ReplicationSender() = default;

absl::Status ReplicationSender::Start(core::Lsn from) {
  auto cursor = wal_->Follow(from, {FollowOptions::Reach::kAppended, this});
  if (!cursor.ok()) return cursor.status();
  cursor_ = std::move(*cursor);
  ended_ = absl::OkStatus();
  return Pump();
}

void ReplicationSender::OnReadable(LogCursor&) {
  // Errors are kept in ended_ and reported by the next Pump the link makes.
  (void)Pump();
}

absl::Status ReplicationSender::Pump() {
  if (!ended_.ok()) return ended_;
  if (!cursor_) return absl::FailedPreconditionError("the stream has not started");
  bool sent = false;
  while (link_->unsent_bytes() < kSendWindowBytes) {
    // One salt per message: a batch that starts a new segment goes in a
    // second message.
    uint64_t salt = 0;
    bool first = true;
    std::string& out = link_->outbox();
    const size_t before = out.size();
    std::optional<RecordsEncoder> enc;
    auto taken = cursor_->Read(kRecordsMessageBytes, [&](const FollowedRecord& r) {
      if (first) {
        salt = r.salt;
        first = false;
        enc.emplace(out, wal_->epoch(), wal_->durable_lsn(), salt);
      } else if (r.salt != salt) {
        return false;
      }
      enc->AddFrame(r.frame);
      return true;
    });
    if (enc) enc->Finish();
    if (!taken.ok()) {
      ended_ = taken.status();
      if (sent || out.size() > before) link_->Flush();
      return ended_;
    }
    if (*taken == 0) break;
    ++messages_sent_;
    bytes_sent_ += out.size() - before;
    sent = true;
  }
  if (sent) link_->Flush();
  if (link_->unsent_bytes() >= kSendWindowBytes) {
    // Held back by the window: ask the cursor (taking nothing) whether the
    // log has let go of what it had not read yet.
    auto probe = cursor_->Read(0, [](const FollowedRecord&) { return false; });
    if (!probe.ok()) return ended_ = probe.status();
  }
  return absl::OkStatus();
}

absl::Status ReplicationSender::OnMessage(const Message& m) {
  if (m.sender_epoch > wal_->epoch()) {
    // A standby that knows a newer epoch: someone was promoted. Nothing
    // this primary writes may be acknowledged any more (design I6).
    fenced_ = true;
    if (gate_) gate_->Fence();
    ended_ = absl::FailedPreconditionError("the standby knows epoch " +
                                           std::to_string(m.sender_epoch.value()) +
                                           ", newer than this primary's " +
                                           std::to_string(wal_->epoch().value()));
    return ended_;
  }
  // A stream that ended hears nothing more (a broken standby's later ACKs
  // must not release replies).
  if (!ended_.ok()) return ended_;
  if (const auto* ack = std::get_if<Ack>(&m.body)) {
    // An acknowledgement of what was never sent is a broken standby: it
    // must not release replies.
    const core::Lsn sent = cursor_ ? core::Lsn(cursor_->next_lsn().value() - 1) : core::Lsn(0);
    if (ack->synced_lsn > sent || ack->applied_lsn > sent)
      return ended_ = absl::InvalidArgumentError(
                 "the standby acknowledged LSN " + std::to_string(ack->synced_lsn.value()) +
                 ", beyond the " + std::to_string(sent.value()) + " sent");
    acked_ = std::max(acked_, ack->synced_lsn);
    applied_ = std::max(applied_, ack->applied_lsn);
    if (gate_) gate_->SetAcked(acked_);
    return absl::OkStatus();
  }
  if (std::holds_alternative<Heartbeat>(m.body)) return absl::OkStatus();
  if (const auto* notice = std::get_if<EpochNotice>(&m.body)) {
    if (notice->epoch <= wal_->epoch()) return absl::OkStatus();
    fenced_ = true;
    if (gate_) gate_->Fence();
    return ended_ = absl::FailedPreconditionError(
               "epoch " + std::to_string(notice->epoch.value()) + " is held by " +
               std::string(notice->address) + ": this primary is deposed");
  }
  if (const auto* error = std::get_if<Error>(&m.body))
    return ended_ = absl::UnavailableError("the standby closed the stream: " +
                                           std::string(error->text));
  return ended_ = absl::InvalidArgumentError("unexpected message from the standby (type " +
                                             std::to_string(int(m.type())) + ")");
}

}  // namespace werk::wal
