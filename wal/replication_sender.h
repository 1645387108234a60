#pragma once
// The primary's side of one shard's replication stream (docs/replication.md):
// follows the shard's log with a kAppended cursor and sends each record's
// frame, byte for byte, as soon as it is appended — so the standby writes
// and syncs it while the primary syncs its own — and turns the standby's
// acknowledgements into the durability gate's acked LSN, which releases the
// replies that wait for them.
//
// Flow control: while more than kSendWindowBytes sit unsent in the link,
// the sender reads nothing more; the log keeps what the cursor has not read
// (up to its bound: a standby slower than that falls behind, and the sender
// says so with kOutOfRange from Pump).
//
// Thread affinity: the shard's thread.

#include <cstddef>
#include <memory>

#include <absl/status/status.h>

#include "core/types.h"
#include "wal/durability_gate.h"
#include "wal/log_follower.h"
#include "wal/replication_link.h"
#include "wal/replication_protocol.h"
#include "wal/wal.h"

namespace werk::wal {

inline constexpr size_t kSendWindowBytes = 8u << 20;
// At most this much of frames per RECORDS message.
inline constexpr size_t kRecordsMessageBytes = 1u << 20;

class ReplicationSender final : public LogListener {
 public:
  // `gate` may be null (nothing waits for the standby: tests, or a
  // standby only caught up).
  ReplicationSender(Wal* wal, DurabilityGate* gate, ReplicationLink* link);
  ~ReplicationSender() override;

  // Streams the log from `from` on. kOutOfRange if the log no longer keeps
  // records that old in memory (the standby must catch up from files).
  absl::Status Start(core::Lsn from);
  // Sends what the window allows. kOutOfRange: the standby fell behind
  // what the log keeps; kFailedPrecondition: the log failed (every durable
  // record was sent). Either ends the stream.
  absl::Status Pump();
  // A message from the standby. An error ends the stream (the link sends
  // ERROR and closes).
  absl::Status OnMessage(const Message& m);

  // The standby's acknowledged (synced) and applied LSNs, as last heard.
  core::Lsn acked_lsn() const { return acked_; }
  core::Lsn applied_lsn() const { return applied_; }
  // The next LSN to send.
  core::Lsn next_lsn() const { return cursor_ ? cursor_->next_lsn() : core::Lsn(0); }
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  // A higher epoch was heard of: nothing more is acknowledged (the gate is
  // fenced); the caller deposes the shard.
  bool fenced() const { return fenced_; }
  // Why the stream ended (OK while it runs): the owner closes the link.
  const absl::Status& status() const { return ended_; }

  void OnReadable(LogCursor&) override;

 private:
  Wal* wal_;
  DurabilityGate* gate_;
  ReplicationLink* link_;
  std::unique_ptr<LogCursor> cursor_;
  core::Lsn acked_{0};
  core::Lsn applied_{0};
  bool fenced_ = false;
  absl::Status ended_;  // why the stream ended (OK while it runs)
  uint64_t messages_sent_ = 0;
  uint64_t bytes_sent_ = 0;
};

}  // namespace werk::wal
