#pragma once
// Mutual authentication of a replication link (docs/replication.md,
// "Authentication"): challenge–response over the server password, which
// never crosses the wire.
//
// The standby sends a fresh nonce in HELLO, the primary one in CHALLENGE;
// each side then proves it knows the password with
//
//   HMAC-SHA256(password, "werk-repl/1" | role | nonce_standby | nonce_primary
//                         | u32 len(cluster_id) | cluster_id | u32 shard)
//
// (integers little-endian; role one byte, 1 = standby, 2 = primary). Both
// nonces bind a proof to one session, so a recorded proof is worthless in
// the next; the role keeps one side's proof from being reflected back as the
// other's; cluster and shard keep a proof for one link from opening another.
// What it does not do: encrypt, or stop a relay that passes every byte on
// (that needs TLS).
//
// Thread-safe: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/replication_protocol.h"

namespace werk::net {

enum class ReplicationRole : uint8_t { kStandby = 1, kPrimary = 2 };

inline constexpr std::string_view kReplicationAuthContext = "werk-repl/1";
// The sizes HELLO, CHALLENGE, PROOF and WELCOME carry.
inline constexpr size_t kReplicationNonceBytes = wal::kNonceBytes;
inline constexpr size_t kReplicationProofBytes = wal::kProofBytes;

// What both sides must agree on for a proof to verify.
struct ReplicationTranscript {
  std::string_view standby_nonce;  // kReplicationNonceBytes
  std::string_view primary_nonce;  // kReplicationNonceBytes
  std::string_view cluster_id;
  uint32_t shard = 0;
};

// kReplicationNonceBytes from the system's CSPRNG.
std::string MakeReplicationNonce();
// A new run's id for its epoch record (core/epoch_history.h): random, so
// two servers that begin runs of one epoch number never share one; not 0.
uint64_t MakeEpochRunId();

// The proof `role` sends (kReplicationProofBytes). The nonces must have
// their size (checked).
std::string ReplicationProof(std::string_view password, ReplicationRole role,
                             const ReplicationTranscript& t);

// Whether `proof` is what a peer in `role` who knows `password` sends for
// `t`, compared in constant time. False too for nonces of the wrong size,
// and for a transcript whose two nonces are equal (a peer echoing ours).
bool VerifyReplicationProof(std::string_view password, ReplicationRole role,
                            const ReplicationTranscript& t, std::string_view proof);

}  // namespace werk::net
