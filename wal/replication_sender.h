#pragma once
// The primary's side of one shard's replication stream (docs/replication.md):
// follows the shard's log with a kAppended cursor and sends each record's
// frame, byte for byte, as soon as it is appended — so the standby writes
// and syncs it while the primary syncs its own — and turns the standby's
// acknowledgements into the durability gate's acked LSN, which releases the
// replies that wait for them.
//
// Catching up from files: a standby that starts further behind than the
// log keeps in memory is sent the records from its start to the log's
// durable LSN D as read back from the segment files (wal/log_file_source.h),
// then the live cursor's, which was opened at D + 1 first (always allowed),
// so the log keeps what it appends meanwhile. If that cursor falls behind
// before the files are sent, the files phase starts over from the last LSN
// shipped with a new cursor at the new durable LSN + 1 (restarts() counts
// it). If the segments it needs are gone, Start or Pump says kOutOfRange:
// the standby needs a checkpoint bootstrap.
//
// Bootstrap: a standby further behind than the oldest segment is sent the
// newest checkpoint first (StartBootstrap: CHECKPOINT_CHUNK messages read
// from the file a chunk at a time, wal/checkpoint_chunk_source.h), with the
// segments from the checkpoint's LSN + 1 on pinned meanwhile, then the log
// from there as above.
//
// Flow control: while more than kSendWindowBytes sit unsent in the link,
// the sender reads nothing more, from the log or the files; the log keeps
// what the cursor has not read (up to its bound: once live, a standby
// slower than that falls behind, and the sender says so with kOutOfRange
// from Pump).
//
// Thread affinity: the shard's thread.

#include <cstddef>
#include <memory>
#include <string>

#include <absl/status/status.h>

#include "core/types.h"
#include "wal/checkpoint_chunk_source.h"
#include "wal/durability_gate.h"
#include "wal/log_file_source.h"
#include "wal/log_follower.h"
#include "wal/replication_link.h"
#include "wal/replication_protocol.h"
#include "wal/wal.h"

namespace werk::wal {

inline constexpr size_t kSendWindowBytes = 8u << 20;
// A bootstrap's checkpoint goes out in chunks of this size, one per loop
// turn: each is read, copied into a message and handed to the socket on
// the shard's thread. 1 MiB chunks stalled the primary's loop for up to
// 15 ms per turn on a 2-core VM, 128 KiB ones for 4–11 ms, and the whole
// bootstrap of 1M jobs took 2.6 s instead of 5 (docs/benchmarks.md).
inline constexpr size_t kBootstrapChunkBytes = 128u << 10;
// At most this much of frames per RECORDS message.
inline constexpr size_t kRecordsMessageBytes = 1u << 20;

class ReplicationSender final : public LogListener {
 public:
  // `gate` may be null (nothing waits for the standby: tests, or a
  // standby only caught up).
  ReplicationSender(Wal* wal, DurabilityGate* gate, ReplicationLink* link);
  ~ReplicationSender() override;

  // Streams the log from `from` on: from the segment files first if the log
  // no longer keeps records that old in memory. kOutOfRange if the files
  // are gone too (the standby needs a checkpoint bootstrap).
  absl::Status Start(core::Lsn from);
  // Sends the checkpoint file `name` (of `bytes` bytes, the state as of
  // `lsn`) in chunks, then the log from lsn + 1 as Start does.
  absl::Status StartBootstrap(const std::string& name, core::Lsn lsn, uint64_t bytes);
  // Sends what the window allows. kOutOfRange: the standby fell behind
  // what the log keeps, or the files it needed are gone; kFailedPrecondition:
  // the log failed (every durable record was sent); a read of the files
  // that failed, or frames there that do not verify, give the storage's
  // error or kDataLoss. Any error ends the stream.
  absl::Status Pump();
  // A message from the standby. An error ends the stream (the link sends
  // ERROR and closes).
  absl::Status OnMessage(const Message& m);

  // The standby's acknowledged (synced) and applied LSNs, as last heard.
  core::Lsn acked_lsn() const { return acked_; }
  core::Lsn applied_lsn() const { return applied_; }
  // The next LSN to send.
  core::Lsn next_lsn() const { return core::Lsn(next_); }
  // Sending records read back from the segment files.
  bool catching_up() const { return source_ != nullptr || chunks_ != nullptr; }
  // Sending the checkpoint of a bootstrap.
  bool bootstrapping() const { return chunks_ != nullptr; }
  uint64_t checkpoint_bytes_sent() const { return checkpoint_bytes_sent_; }
  // Files phases begun, and how many of them were restarts (the live cursor
  // fell behind before the files were sent).
  uint64_t files_phases() const { return files_phases_; }
  uint64_t restarts() const { return restarts_; }
  uint64_t file_bytes_read() const { return file_bytes_read_; }
  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  // A higher epoch was heard of: nothing more is acknowledged (the gate is
  // fenced); the caller deposes the shard.
  bool fenced() const { return fenced_; }
  // Once fenced: the newer epoch, and the server holding it as an
  // EPOCH_NOTICE named it (empty if the epoch came on another message).
  core::Epoch fenced_by() const { return fenced_by_; }
  const std::string& fenced_holder() const { return fenced_holder_; }
  // Why the stream ended (OK while it runs): the owner closes the link.
  const absl::Status& status() const { return ended_; }

  void OnReadable(LogCursor&) override;

 private:
  void OnFileReadable();
  // Opens the stream at `from` (the live cursor, or the files first).
  absl::Status OpenStream(core::Lsn from);
  // The checkpoint's chunks while the window allows; then the stream.
  absl::Status PumpChunks();
  // Opens the live cursor at the durable LSN + 1, then reads from..durable
  // back from the files.
  absl::Status StartFiles(core::Lsn from);
  // One RECORDS message from the files or the cursor: how many records.
  template <typename Source>
  absl::StatusOr<size_t> SendMessage(Source& source);
  // The files are sent: on with the live cursor.
  void EndFiles();

  Wal* wal_;
  DurabilityGate* gate_;
  ReplicationLink* link_;
  std::unique_ptr<LogCursor> cursor_;
  // A cursor replaced while the log was telling its listeners (which must
  // not destroy one): destroyed at the next Pump.
  std::unique_ptr<LogCursor> retired_;
  bool in_readable_ = false;
  std::unique_ptr<LogFileSource> source_;  // the files phase, while it lasts
  // A bootstrap's checkpoint, while it is sent, and the pin that keeps the
  // log after it.
  std::unique_ptr<CheckpointChunkSource> chunks_;
  SegmentPin bootstrap_pin_;
  uint64_t checkpoint_bytes_sent_ = 0;
  uint64_t next_ = 0;
  uint64_t files_phases_ = 0;
  uint64_t restarts_ = 0;
  uint64_t file_bytes_read_ = 0;
  core::Lsn acked_{0};
  core::Lsn applied_{0};
  bool fenced_ = false;
  core::Epoch fenced_by_{0};
  std::string fenced_holder_;
  absl::Status ended_;  // why the stream ended (OK while it runs)
  uint64_t messages_sent_ = 0;
  uint64_t bytes_sent_ = 0;
};

}  // namespace werk::wal
