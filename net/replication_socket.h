#pragma once
// One shard's replication link over a connected TCP socket, on the shard's
// io_uring (docs/replication.md "Threading"): one recv and one send in
// flight at most, messages decoded as they arrive (wal/replication_protocol.h)
// and handed to the owner — the shard's ReplicationSender or ReplicaReceiver.
//
// Anything undecodable, and any error the owner returns for a message, ends
// the link: an ERROR message naming why goes out first (best effort), then
// the socket is shut down; the owner hears OnClosed once no request of the
// link is left in the ring, with the reason. The link never reads more than
// one message's worth ahead: a peer cannot make it hold more than
// wal::kMessageBytesMax plus one recv.
//
// Thread affinity: the shard's thread (the reactor's).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <absl/status/status.h>

#include "core/reactor.h"
#include "core/types.h"
#include "wal/replication_link.h"
#include "wal/replication_protocol.h"

namespace werk::net {

class ReplicationSocket final : public wal::ReplicationLink {
 public:
  struct Handler {
    // A message arrived. A non-OK status ends the link with that reason.
    std::function<absl::Status(const wal::Message&)> on_message;
    // The send window opened (everything handed to the kernel).
    std::function<void()> on_writable;
    // The link ended (the reason: the peer closed, an error, Close()); the
    // fd is closed. The object may be destroyed from here.
    std::function<void(const absl::Status&)> on_closed;
  };

  // Takes `fd` (connected, blocking or not). `epoch` is what ERROR messages
  // carry; the owner keeps it current with set_epoch.
  ReplicationSocket(core::Reactor* reactor, int fd, Handler handler, core::Epoch epoch);
  ~ReplicationSocket() override;
  ReplicationSocket(const ReplicationSocket&) = delete;
  ReplicationSocket& operator=(const ReplicationSocket&) = delete;

  // Starts receiving; messages already in `buffered` (read by a blocking
  // handshake before the link took over) are handled first.
  void Start(std::string buffered = {});

  std::string& outbox() override { return out_; }
  void Flush() override;
  size_t unsent_bytes() const override { return out_.size() + (sending_.size() - sent_); }

  // Ends the link: sends ERROR with `why` (unless OK), then shuts down.
  void Close(const absl::Status& why);
  bool closing() const { return closing_; }
  bool closed() const { return closed_; }
  void set_epoch(core::Epoch e) { epoch_ = e; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  struct Op final : core::IoCompletion {
    ReplicationSocket* self = nullptr;
    bool recv = false;
    void Complete(int32_t res, uint32_t flags) override;
  };
  void PostRecv();
  void OnRecv(int32_t res);
  void OnSend(int32_t res);
  void HandleInput();
  void MaybeFinishClose();

  core::Reactor* reactor_;
  int fd_;
  Handler handler_;
  core::Epoch epoch_;
  Op recv_op_, send_op_;
  bool recv_inflight_ = false, send_inflight_ = false;
  std::string in_;          // received, not yet decoded
  size_t in_used_ = 0;      // bytes of in_ holding data
  size_t need_ = 4;         // what the decoder wants before it can say more
  std::string out_;         // queued messages
  std::string sending_;     // what the send in flight is sending
  size_t sent_ = 0;
  bool closing_ = false, closed_ = false, handling_ = false;
  absl::Status reason_;
  uint64_t bytes_received_ = 0;
};

}  // namespace werk::net
