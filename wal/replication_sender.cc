#include "wal/replication_sender.h"

#include <algorithm>
#include <optional>
#include <string>
#include <variant>

#include "core/check.h"

namespace werk::wal {

ReplicationSender::ReplicationSender(Wal* wal, DurabilityGate* gate, ReplicationLink* link)
    : wal_(wal), gate_(gate), link_(link) {}

ReplicationSender::~ReplicationSender() = default;

absl::Status ReplicationSender::Start(core::Lsn from) {
  retired_.reset();
  source_.reset();
  cursor_.reset();
  chunks_.reset();
  ended_ = absl::OkStatus();
  if (auto st = OpenStream(from); !st.ok()) return ended_ = st;
  return Pump();
}

absl::Status ReplicationSender::OpenStream(core::Lsn from) {
  next_ = from.value();
  auto cursor = wal_->Follow(from, {FollowOptions::Reach::kAppended, this});
  if (cursor.ok()) {
    if (in_readable_) retired_ = std::move(cursor_);
    cursor_ = std::move(*cursor);
    return absl::OkStatus();
  }
  if (!absl::IsOutOfRange(cursor.status())) return cursor.status();
  // Older than the log keeps in memory: from the files.
  return StartFiles(from);
}

absl::Status ReplicationSender::StartBootstrap(const std::string& name, core::Lsn lsn,
                                               uint64_t bytes) {
  retired_.reset();
  source_.reset();
  cursor_.reset();
  ended_ = absl::OkStatus();
  // The log after the checkpoint stays until the stream reads it (a newer
  // checkpoint would release it meanwhile).
  bootstrap_pin_ = wal_->Pin(lsn.next());
  next_ = lsn.next().value();
  chunks_ = std::make_unique<CheckpointChunkSource>(wal_->storage(), name, bytes,
                                                    [this] { OnFileReadable(); },
                                                    kBootstrapChunkBytes);
  return Pump();
}

absl::Status ReplicationSender::PumpChunks() {
  std::string& out = link_->outbox();
  const size_t before = out.size();
  absl::Status st;
  // One chunk per turn at most is read (the source holds one): the loop
  // copies at most a chunk per call into the link.
  while (chunks_ && link_->unsent_bytes() < kSendWindowBytes) {
    absl::StatusOr<bool> sent = chunks_->Take([&](const CheckpointChunkSource::Chunk& c) {
      AppendMessage(out, wal_->epoch(), CheckpointChunk{c.offset, c.data, c.last});
      ++messages_sent_;
      checkpoint_bytes_sent_ += c.data.size();
    });
    if (!sent.ok()) {
      st = sent.status();
      break;
    }
    if (!*sent) break;  // a read is in flight
    if (chunks_->done()) {
      chunks_.reset();
      // On with the log after the checkpoint; the stream's own pin (or its
      // cursor) holds it from now on.
      st = OpenStream(core::Lsn(next_));
      bootstrap_pin_.Release();
      break;
    }
  }
  bytes_sent_ += out.size() - before;
  if (out.size() > before) link_->Flush();
  if (!st.ok()) {
    chunks_.reset();
    bootstrap_pin_.Release();
    return ended_ = st;
  }
  return absl::OkStatus();
}

absl::Status ReplicationSender::StartFiles(core::Lsn from) {
  // The live cursor first: at the durable LSN + 1 it is always allowed, and
  // from then on the log keeps what it appends (up to its bound) while the
  // files are read.
  const core::Lsn durable = wal_->durable_lsn();
  auto cursor = wal_->Follow(durable.next(), {FollowOptions::Reach::kAppended, this});
  if (!cursor.ok()) return cursor.status();
  std::unique_ptr<LogFileSource> source;
  if (from <= durable) {
    LogFileSource::Options o;
    o.on_readable = [this] { OnFileReadable(); };
    auto opened = LogFileSource::Open(wal_, from, durable, std::move(o));
    if (!opened.ok()) return opened.status();
    source = std::move(*opened);
    ++files_phases_;
  }
  EndFiles();
  // The log must not see a cursor destroyed while it tells listeners.
  if (in_readable_) retired_ = std::move(cursor_);
  cursor_ = std::move(*cursor);
  source_ = std::move(source);
  return absl::OkStatus();
}

void ReplicationSender::EndFiles() {
  if (!source_) return;
  file_bytes_read_ += source_->bytes_read();
  source_.reset();  // its pin goes: the segments may be released
}

void ReplicationSender::OnReadable(LogCursor&) {
  // Errors are kept in ended_ and reported by the next Pump the link makes.
  in_readable_ = true;
  (void)Pump();
  in_readable_ = false;
}

void ReplicationSender::OnFileReadable() { (void)Pump(); }

template <typename Source>
absl::StatusOr<size_t> ReplicationSender::SendMessage(Source& source) {
  // One salt per message: a batch that starts a new segment goes in a
  // second message.
  uint64_t salt = 0;
  bool first = true;
  std::string& out = link_->outbox();
  const size_t before = out.size();
  std::optional<RecordsEncoder> enc;
  auto taken = source.Read(kRecordsMessageBytes, [&](const FollowedRecord& r) {
    if (first) {
      salt = r.salt;
      first = false;
      enc.emplace(out, wal_->epoch(), wal_->durable_lsn(), salt);
    } else if (r.salt != salt) {
      return false;
    }
    WERK_DCHECK(r.lsn.value() == next_);
    enc->AddFrame(r.frame);
    next_ = r.lsn.value() + 1;
    return true;
  });
  if (enc) {
    enc->Finish();
    ++messages_sent_;
    bytes_sent_ += out.size() - before;
  }
  return taken;
}

absl::Status ReplicationSender::Pump() {
  if (!in_readable_) retired_.reset();
  if (!ended_.ok()) return ended_;
  if (chunks_) {
    if (auto st = PumpChunks(); !st.ok()) return st;
    if (chunks_) return absl::OkStatus();
  }
  if (!cursor_) return absl::FailedPreconditionError("the stream has not started");
  const size_t before = link_->outbox().size();
  absl::Status st;
  while (link_->unsent_bytes() < kSendWindowBytes) {
    absl::StatusOr<size_t> taken = source_ ? SendMessage(*source_) : SendMessage(*cursor_);
    if (!taken.ok()) {
      st = taken.status();
      break;
    }
    if (*taken > 0) continue;
    if (source_ && source_->done()) {
      EndFiles();  // on with the live cursor, which starts where they end
      continue;
    }
    break;  // nothing readable now (a file read in flight, or nothing new)
  }
  if (link_->outbox().size() > before) link_->Flush();
  if (!st.ok()) {
    EndFiles();
    return ended_ = st;
  }
  if (source_ || link_->unsent_bytes() >= kSendWindowBytes) {
    // The cursor is not being read (the files come first, or the window is
    // full): ask it, taking nothing, whether the log let go of what it had
    // not read yet.
    auto probe = cursor_->Read(0, [](const FollowedRecord&) { return false; });
    if (!probe.ok()) {
      if (!source_ || !absl::IsOutOfRange(probe.status())) {
        EndFiles();
        return ended_ = probe.status();
      }
      // The log appended more than it keeps while the files were read: read
      // them again from the last LSN shipped, up to the new durable LSN.
      ++restarts_;
      if (auto restart = StartFiles(core::Lsn(next_)); !restart.ok()) {
        EndFiles();  // its pin must not outlive the stream
        return ended_ = restart;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ReplicationSender::OnMessage(const Message& m) {
  if (m.sender_epoch > wal_->epoch()) {
    // A standby that knows a newer epoch: someone was promoted. Nothing
    // this primary writes may be acknowledged any more (design I6).
    fenced_ = true;
    fenced_by_ = m.sender_epoch;
    if (const auto* notice = std::get_if<EpochNotice>(&m.body)) {
      fenced_by_ = std::max(fenced_by_, notice->epoch);
      fenced_holder_ = std::string(notice->address);
    }
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
    const core::Lsn sent(next_ > 0 ? next_ - 1 : 0);
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
    fenced_by_ = notice->epoch;
    fenced_holder_ = std::string(notice->address);
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
