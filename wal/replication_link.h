#pragma once
// One end of a shard's replication link as the sender (primary) and the
// receiver (standby) see it: an outbox of whole encoded messages
// (wal/replication_protocol.h) and a way to hand them on. The transport —
// a socket on the shard's reactor (net/), or an in-memory pair in tests —
// delivers what the peer sends by calling the sender's or the receiver's
// OnMessage, and calls their Pump when its send window opens again.
//
// Thread affinity: the shard's thread.

#include <cstddef>
#include <string>

namespace werk::wal {

class ReplicationLink {
 public:
  virtual ~ReplicationLink() = default;
  // Append whole messages only; Flush hands them to the transport.
  virtual std::string& outbox() = 0;
  virtual void Flush() = 0;
  // Bytes appended and not yet accepted by the peer's side of the
  // transport (what a sender's window counts).
  virtual size_t unsent_bytes() const = 0;
};

}  // namespace werk::wal
