#pragma once
// Whether a replication link is alive (docs/replication.md "Heartbeats"):
// each side sends HEARTBEAT every kBeatMs, whatever else it sends, and ends
// a link it has heard nothing on for kSilenceMs. A link whose peer vanished
// without a FIN or a reset (a machine down, a cable cut, a blackholing
// firewall) is closed that way; the standby then reconnects, and the
// primary's standby policy decides what its writes do meanwhile.
//
// Thread affinity: the shard's thread.

#include <cstdint>

#include "core/types.h"
#include "net/replication_socket.h"
#include "wal/replication_protocol.h"

namespace werk::net {

class LinkLiveness {
 public:
  static constexpr int64_t kBeatMs = 100;
  static constexpr int64_t kSilenceMs = 3000;

  void Start(int64_t now_ms) { heard_ms_ = sent_ms_ = now_ms; }
  // A message came from the peer.
  void Heard(int64_t now_ms) { heard_ms_ = now_ms; }
  int64_t heard_ms() const { return heard_ms_; }
  // Nothing heard for kSilenceMs: the link is to be closed.
  bool Silent(int64_t now_ms) const { return now_ms - heard_ms_ >= kSilenceMs; }
  // Sends a HEARTBEAT if one is due.
  void Beat(int64_t now_ms, ReplicationSocket* socket, core::Epoch epoch, core::Lsn durable,
            core::Lsn appended) {
    if (now_ms - sent_ms_ < kBeatMs || socket->closing()) return;
    sent_ms_ = now_ms;
    wal::AppendMessage(socket->outbox(), epoch,
                       wal::Heartbeat{now_ms * core::kNanosPerMilli, durable, appended});
    socket->Flush();
  }
  // When the next heartbeat or the silence limit is due.
  int64_t next_ms() const {
    const int64_t beat = sent_ms_ + kBeatMs, silence = heard_ms_ + kSilenceMs;
    return beat < silence ? beat : silence;
  }

 private:
  int64_t heard_ms_ = 0;
  int64_t sent_ms_ = 0;
};

}  // namespace werk::net
