#include "net/replication_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

#include "core/check.h"

namespace werk::net {
namespace {

void AppendU32(std::string& out, uint32_t v) {
  const char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  out.append(b, 4);
}

// The bytes the HMAC covers. Every variable-length part is length-prefixed
// or of fixed size, so two different transcripts never give the same bytes.
std::string ProofInput(ReplicationRole role, const ReplicationTranscript& t) {
  std::string in;
  in.reserve(kReplicationAuthContext.size() + 1 + 2 * kReplicationNonceBytes + 8 +
             t.cluster_id.size());
  in.append(kReplicationAuthContext);
  in.push_back(char(role));
  in.append(t.standby_nonce);
  in.append(t.primary_nonce);
  AppendU32(in, uint32_t(t.cluster_id.size()));
  in.append(t.cluster_id);
  AppendU32(in, t.shard);
  return in;
}

bool NoncesValid(const ReplicationTranscript& t) {
  return t.standby_nonce.size() == kReplicationNonceBytes &&
         t.primary_nonce.size() == kReplicationNonceBytes;
}

}  // namespace

std::string MakeReplicationNonce() {
  std::string nonce(kReplicationNonceBytes, '\0');
  // A predictable nonce would let a recorded session be replayed: no
  // fallback, a failing CSPRNG stops the process.
  WERK_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), int(nonce.size())) == 1);
  return nonce;
}

uint64_t MakeEpochRunId() {
  uint64_t id = 0;
  while (id == 0)
    WERK_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(&id), int(sizeof id)) == 1);
  return id;
}

std::string ReplicationProof(std::string_view password, ReplicationRole role,
                             const ReplicationTranscript& t) {
  WERK_CHECK(NoncesValid(t));
  const std::string in = ProofInput(role, t);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC() accepts an empty key (no password set): the proof then only
  // shows the peer speaks the protocol; the caller decides whether that is
  // allowed (loopback only, docs/replication.md).
  static const unsigned char kEmpty = 0;
  const void* key = password.empty() ? static_cast<const void*>(&kEmpty) : password.data();
  WERK_CHECK(HMAC(EVP_sha256(), key, int(password.size()),
                  reinterpret_cast<const unsigned char*>(in.data()), in.size(), mac,
                  &len) != nullptr);
  WERK_CHECK(len == kReplicationProofBytes);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

bool VerifyReplicationProof(std::string_view password, ReplicationRole role,
                            const ReplicationTranscript& t, std::string_view proof) {
  if (!NoncesValid(t) || t.standby_nonce == t.primary_nonce) return false;
  if (proof.size() != kReplicationProofBytes) return false;
  const std::string want = ReplicationProof(password, role, t);
  return CRYPTO_memcmp(want.data(), proof.data(), kReplicationProofBytes) == 0;
}

}  // namespace werk::net
