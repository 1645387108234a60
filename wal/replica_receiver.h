#pragma once
// The standby's side of one shard's replication stream
// (docs/replication.md): takes the primary's record frames in order,
// applies each to the standby's state and appends it to the standby's own
// log (same LSN, same epoch; its own segments and salts), and acknowledges
// the LSN its log has synced — the primary releases a reply only once that
// acknowledgement covers the reply's record.
//
// Each frame is checked before anything of it is used: its hashes under the
// message's salt (the decoder did), its LSN — exactly the next one of the
// standby's log —, its epoch — never below the log's; a higher one moves
// the log's epoch first. A frame that fails, or a record the state refuses
// (the logs disagree), ends the stream with a status naming the LSN; none
// of that frame is applied or logged.
//
// Thread affinity: the shard's thread. Joins the loop as a participant: it
// acknowledges in OnDurable, after the loop's commit.

#include <cstdint>
#include <functional>
#include <string_view>

#include <absl/status/status.h>

#include "core/op_status.h"
#include "core/participant.h"
#include "core/types.h"
#include "wal/replication_link.h"
#include "wal/replication_protocol.h"
#include "wal/wal.h"

namespace werk::wal {

class ReplicaReceiver final : public core::Participant {
 public:
  // Applies one record's body to the standby's state and appends it to the
  // standby's log (core::Partition::ApplyReplicated); a status other than
  // OK means the state refused it, and nothing was appended.
  using ApplyFn = std::function<core::OpStatus(std::string_view body)>;

  ReplicaReceiver(Wal* wal, ApplyFn apply, ReplicationLink* link);

  // A message from the primary. An error ends the stream (the link sends
  // ERROR and closes); what was applied before stays.
  absl::Status OnMessage(const Message& m);

  // Acknowledges what the log made durable since the last acknowledgement.
  void OnDurable(core::Lsn) override { Acknowledge(); }
  void Acknowledge();

  core::Lsn applied_lsn() const { return wal_->appended_lsn(); }
  core::Lsn acked_lsn() const { return acked_; }
  // The primary's durable LSN as last heard (in RECORDS or HEARTBEAT):
  // records beyond it may still be lost by a primary that crashes.
  core::Lsn primary_durable_lsn() const { return primary_durable_; }
  uint64_t records_received() const { return records_; }
  // The highest epoch heard of: above the log's means a promotion this
  // standby has not seen in records yet.
  core::Epoch primary_epoch() const { return primary_epoch_; }

 private:
  absl::Status TakeFrames(const Records& r);

  Wal* wal_;
  ApplyFn apply_;
  ReplicationLink* link_;
  // The first acknowledgement of a session says what the log has synced,
  // even if nothing arrived: the primary's gate moves only with ACKs.
  core::Lsn acked_{0};
  core::Lsn primary_durable_{0};
  core::Epoch primary_epoch_{0};
  uint64_t records_ = 0;
  absl::Status ended_;
};

}  // namespace werk::wal
