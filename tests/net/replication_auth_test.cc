// Mutual authentication of a replication link (net/replication_auth.h):
// each side's proof verifies on the other side, and a proof made for any
// other password, role, cluster, shard or session does not.

#include "net/replication_auth.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace werk::net {
namespace {

using Role = ReplicationRole;

struct Session {
  std::string standby_nonce = MakeReplicationNonce();
  std::string primary_nonce = MakeReplicationNonce();
  std::string cluster = "3f9c2a0e5b7d41c8a6e2f01d9b3c7e55";
  uint32_t shard = 3;
  ReplicationTranscript transcript() const {
    return {standby_nonce, primary_nonce, cluster, shard};
  }
};

TEST(ReplicationAuth, BothRolesVerify) {
  const Session s;
  const std::string from_standby = ReplicationProof("secret", Role::kStandby, s.transcript());
  const std::string from_primary = ReplicationProof("secret", Role::kPrimary, s.transcript());
  EXPECT_EQ(from_standby.size(), kReplicationProofBytes);
  EXPECT_TRUE(VerifyReplicationProof("secret", Role::kStandby, s.transcript(), from_standby));
  EXPECT_TRUE(VerifyReplicationProof("secret", Role::kPrimary, s.transcript(), from_primary));
  // Deterministic: the same transcript gives the same proof.
  EXPECT_EQ(from_standby, ReplicationProof("secret", Role::kStandby, s.transcript()));
  // The password is not in the proof.
  EXPECT_EQ(from_standby.find("secret"), std::string::npos);
}

TEST(ReplicationAuth, AWrongPasswordFails) {
  const Session s;
  const std::string proof = ReplicationProof("secret", Role::kStandby, s.transcript());
  EXPECT_FALSE(VerifyReplicationProof("Secret", Role::kStandby, s.transcript(), proof));
  EXPECT_FALSE(VerifyReplicationProof("secret ", Role::kStandby, s.transcript(), proof));
  EXPECT_FALSE(VerifyReplicationProof("", Role::kStandby, s.transcript(), proof));
}

TEST(ReplicationAuth, AProofIsNotValidForTheOtherRole) {
  // A fake primary cannot send the standby's own proof back as its own.
  const Session s;
  const std::string standby = ReplicationProof("secret", Role::kStandby, s.transcript());
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kPrimary, s.transcript(), standby));
  const std::string primary = ReplicationProof("secret", Role::kPrimary, s.transcript());
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, s.transcript(), primary));
  EXPECT_NE(standby, primary);
}

TEST(ReplicationAuth, AProofIsBoundToItsClusterAndShard) {
  Session s;
  const std::string proof = ReplicationProof("secret", Role::kStandby, s.transcript());
  Session other_cluster = s;
  other_cluster.cluster = "00000000000000000000000000000000";
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, other_cluster.transcript(), proof));
  Session no_cluster = s;
  no_cluster.cluster = "";
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, no_cluster.transcript(), proof));
  Session other_shard = s;
  other_shard.shard = 4;
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, other_shard.transcript(), proof));
}

TEST(ReplicationAuth, AProofFromAnEarlierSessionIsWorthless) {
  const Session recorded;
  const std::string proof = ReplicationProof("secret", Role::kStandby, recorded.transcript());
  // The primary picks a fresh nonce for every session: replaying the
  // recorded HELLO nonce and proof fails.
  Session replay = recorded;
  replay.primary_nonce = MakeReplicationNonce();
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, replay.transcript(), proof));
  // And the standby's fresh nonce does the same against a replayed primary.
  const std::string primary = ReplicationProof("secret", Role::kPrimary, recorded.transcript());
  Session replay2 = recorded;
  replay2.standby_nonce = MakeReplicationNonce();
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kPrimary, replay2.transcript(), primary));
  // The nonces are not interchangeable.
  Session swapped = recorded;
  std::swap(swapped.standby_nonce, swapped.primary_nonce);
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, swapped.transcript(), proof));
}

TEST(ReplicationAuth, MalformedInputIsRefusedNotTrusted) {
  const Session s;
  std::string proof = ReplicationProof("secret", Role::kStandby, s.transcript());
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, s.transcript(), ""));
  EXPECT_FALSE(
      VerifyReplicationProof("secret", Role::kStandby, s.transcript(), proof.substr(0, 31)));
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, s.transcript(), proof + "x"));
  for (size_t i = 0; i < proof.size(); ++i) {
    std::string bad = proof;
    bad[i] ^= 1;
    EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, s.transcript(), bad)) << i;
  }
  // Short nonces, and a peer that echoes our nonce as its own.
  Session short_nonce = s;
  short_nonce.primary_nonce.pop_back();
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, short_nonce.transcript(), proof));
  Session echo = s;
  echo.primary_nonce = echo.standby_nonce;
  const std::string echoed = ReplicationProof("secret", Role::kStandby, echo.transcript());
  EXPECT_FALSE(VerifyReplicationProof("secret", Role::kStandby, echo.transcript(), echoed));
}

TEST(ReplicationAuth, NoncesAreFreshAndFullSize) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string n = MakeReplicationNonce();
    EXPECT_EQ(n.size(), kReplicationNonceBytes);
    EXPECT_TRUE(seen.insert(n).second);
  }
}

TEST(ReplicationAuth, AnEmptyPasswordStillGivesAProof) {
  // Allowed only on loopback (the caller's rule); the function itself works.
  const Session s;
  const std::string proof = ReplicationProof("", Role::kStandby, s.transcript());
  EXPECT_TRUE(VerifyReplicationProof("", Role::kStandby, s.transcript(), proof));
  EXPECT_FALSE(VerifyReplicationProof("x", Role::kStandby, s.transcript(), proof));
}

}  // namespace
}  // namespace werk::net
