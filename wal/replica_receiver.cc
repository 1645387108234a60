#include "wal/replica_receiver.h"

#include <string>
#include <variant>

#include "core/replay.h"

namespace werk::wal {

ReplicaReceiver::ReplicaReceiver(Wal* wal, ApplyFn apply, ReplicationLink* link)
    : wal_(wal), apply_(std::move(apply)), link_(link) {}

absl::Status ReplicaReceiver::OnMessage(const Message& m) {
  if (!ended_.ok()) return ended_;
  primary_epoch_ = std::max(primary_epoch_, m.sender_epoch);
  if (const auto* r = std::get_if<Records>(&m.body)) {
    primary_durable_ = std::max(primary_durable_, r->primary_durable_lsn);
    return ended_ = TakeFrames(*r);
  }
  if (const auto* hb = std::get_if<Heartbeat>(&m.body)) {
    primary_durable_ = std::max(primary_durable_, hb->durable_lsn);
    return absl::OkStatus();
  }
  if (const auto* error = std::get_if<Error>(&m.body))
    return ended_ = absl::UnavailableError("the primary closed the stream: " +
                                           std::string(error->text));
  if (std::holds_alternative<EpochNotice>(m.body)) return absl::OkStatus();
  return ended_ = absl::InvalidArgumentError("unexpected message from the primary (type " +
                                             std::to_string(int(m.type())) + ")");
}

absl::Status ReplicaReceiver::TakeFrames(const Records& r) {
  for (std::string_view frame : RecordFrames(r)) {
    FrameHeader h;
    if (!DecodeFrameHeader(frame, &h, r.salt) || h.type != uint16_t(RecordType::kMutation))
      return absl::DataLossError("a record frame does not verify");
    const uint64_t expected = wal_->appended_lsn().value() + 1;
    if (h.lsn != expected)
      return absl::OutOfRangeError("the primary sent LSN " + std::to_string(h.lsn) + " where " +
                                   std::to_string(expected) + " was expected");
    if (core::Epoch(h.epoch) < wal_->epoch())
      return absl::FailedPreconditionError(
          "the primary sent LSN " + std::to_string(h.lsn) + " of epoch " +
          std::to_string(h.epoch) + ", older than this log's " +
          std::to_string(wal_->epoch().value()));
    const std::string_view body = frame.substr(kFrameHeaderBytes, h.body_bytes);
    if (auto st = core::CheckRecordPlace(body, core::Lsn(h.lsn), core::Epoch(h.epoch)); !st.ok())
      return st;
    if (core::Epoch(h.epoch) > wal_->epoch()) wal_->SetEpoch(core::Epoch(h.epoch));
    if (core::OpStatus st = apply_(body); !st.ok())
      return absl::FailedPreconditionError(
          "the record at LSN " + std::to_string(h.lsn) +
          " does not apply to this standby's state (the logs disagree): " + st.ToString());
    if (wal_->appended_lsn().value() != h.lsn)
      return absl::InternalError("applying LSN " + std::to_string(h.lsn) +
                                 " did not log exactly that record");
    ++records_;
  }
  return absl::OkStatus();
}

void ReplicaReceiver::Acknowledge() {
  const core::Lsn durable = wal_->durable_lsn();
  if (durable <= acked_ || !ended_.ok() || wal_->failed()) return;
  acked_ = durable;
  AppendMessage(link_->outbox(), wal_->epoch(), Ack{durable, wal_->appended_lsn()});
  link_->Flush();
}

}  // namespace werk::wal
