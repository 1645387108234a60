// The replication handshake, both roles fed each other's messages through
// the real encoder and decoder: a standby that knows the password gets the
// shard's decision; a wrong password on either side, another cluster and
// another shard count are refused, each saying why; a fresh standby learns
// the primary's cluster id.

#include "net/replication_handshake.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace werk::net {
namespace {

// Decodes the one message in `bytes` (the caller keeps `bytes` alive).
wal::Message One(const std::string& bytes) {
  wal::DecodeResult r = wal::DecodeMessage(bytes);
  EXPECT_EQ(r.outcome, wal::DecodeResult::Outcome::kMessage);
  EXPECT_EQ(r.bytes, bytes.size());
  return r.message;
}

struct Outcome {
  absl::Status standby, primary;
  int decided = 0;
};

Outcome Handshake(StandbyHandshake& s, PrimaryHandshake& p) {
  Outcome run;
  std::string hello, challenge, proof, welcome;
  s.Start(hello);
  if (run.primary = p.OnMessage(One(hello), challenge); !run.primary.ok()) return run;
  if (run.standby = s.OnMessage(One(challenge), proof); !run.standby.ok()) return run;
  run.primary = p.OnMessage(One(proof), welcome);
  if (welcome.empty()) {
    // A bad proof: the primary sends ERROR (authentication) and closes.
    std::string err;
    const std::string text(run.primary.message());
    wal::AppendMessage(err, core::Epoch(1), wal::Error{wal::ErrorCode::kAuthentication, text});
    run.standby = s.OnMessage(One(err), proof);
    return run;
  }
  run.standby = s.OnMessage(One(welcome), proof);
  return run;
}

PrimaryHandshake::Decide ContinueFrom(int* calls) {
  return [calls](uint32_t shard, const StandbyPosition& at) {
    ++*calls;
    EXPECT_EQ(shard, 1u);
    return WelcomeDecision{wal::WelcomeDecision::kContinue, core::Lsn(at.last_lsn.value() + 1)};
  };
}

TEST(ReplicationHandshake, AStandbyWithThePasswordGetsTheShardsDecision) {
  int calls = 0;
  StandbyHandshake s("pw", "c1", 1, 4, {core::Lsn(41), core::Epoch(2), core::Epoch(2)},
                     core::Epoch(2));
  PrimaryHandshake p("pw", "c1", 4, core::Epoch(2), ContinueFrom(&calls));
  const Outcome run = Handshake(s, p);
  ASSERT_TRUE(run.primary.ok()) << run.primary;
  ASSERT_TRUE(run.standby.ok()) << run.standby;
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(s.done());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(s.welcome().decision, wal::WelcomeDecision::kContinue);
  EXPECT_EQ(s.welcome().lsn, core::Lsn(42));
  EXPECT_EQ(p.standby().last_lsn, core::Lsn(41));
  EXPECT_EQ(p.shard(), 1u);
}

TEST(ReplicationHandshake, AFreshStandbyLearnsThePrimarysCluster) {
  int calls = 0;
  StandbyHandshake s("pw", "", 1, 2, {}, core::Epoch(1));
  PrimaryHandshake p("pw", "c9", 2, core::Epoch(3), ContinueFrom(&calls));
  const Outcome run = Handshake(s, p);
  ASSERT_TRUE(run.standby.ok()) << run.standby;
  EXPECT_EQ(s.primary_cluster_id(), "c9");
  EXPECT_EQ(s.primary_epoch(), core::Epoch(3));
}

TEST(ReplicationHandshake, AWrongPasswordOnTheStandbyIsRefusedWithoutADecision) {
  int calls = 0;
  StandbyHandshake s("guess", "c1", 1, 2, {}, core::Epoch(1));
  PrimaryHandshake p("pw", "c1", 2, core::Epoch(1), ContinueFrom(&calls));
  const Outcome run = Handshake(s, p);
  EXPECT_TRUE(absl::IsUnauthenticated(run.primary)) << run.primary;
  EXPECT_TRUE(absl::IsUnauthenticated(run.standby)) << run.standby;
  EXPECT_NE(run.standby.message().find("password"), std::string_view::npos) << run.standby;
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(s.done());
}

TEST(ReplicationHandshake, AFakePrimaryCannotFeedAStandby) {
  int calls = 0;
  StandbyHandshake s("pw", "c1", 1, 2, {}, core::Epoch(1));
  // It cannot verify the standby either; say it skips that and welcomes.
  PrimaryHandshake fake("not-the-password", "c1", 2, core::Epoch(1), ContinueFrom(&calls));
  std::string hello, challenge, proof, welcome;
  s.Start(hello);
  ASSERT_TRUE(fake.OnMessage(One(hello), challenge).ok());
  ASSERT_TRUE(s.OnMessage(One(challenge), proof).ok());
  std::string forged;
  wal::AppendMessage(forged, core::Epoch(1),
                     wal::Welcome{std::string(32, 'x'), wal::WelcomeDecision::kContinue,
                                  core::Lsn(1), 0, ""});
  const absl::Status st = s.OnMessage(One(forged), proof);
  EXPECT_TRUE(absl::IsUnauthenticated(st)) << st;
  EXPECT_FALSE(s.done());
}

TEST(ReplicationHandshake, AnotherClusterOrShardCountIsRefusedNamingBoth) {
  int calls = 0;
  {
    StandbyHandshake s("pw", "c2", 1, 2, {}, core::Epoch(1));
    PrimaryHandshake p("pw", "c1", 2, core::Epoch(1), ContinueFrom(&calls));
    const Outcome run = Handshake(s, p);
    EXPECT_TRUE(absl::IsFailedPrecondition(run.standby)) << run.standby;
    EXPECT_NE(run.standby.message().find("cluster c2"), std::string_view::npos) << run.standby;
    EXPECT_NE(run.standby.message().find("c1"), std::string_view::npos) << run.standby;
  }
  {
    StandbyHandshake s("pw", "c1", 1, 2, {}, core::Epoch(1));
    PrimaryHandshake p("pw", "c1", 4, core::Epoch(1), ContinueFrom(&calls));
    const Outcome run = Handshake(s, p);
    EXPECT_TRUE(absl::IsFailedPrecondition(run.standby)) << run.standby;
    EXPECT_NE(run.standby.message().find("--shards 4"), std::string_view::npos) << run.standby;
  }
  EXPECT_EQ(calls, 0);
}

TEST(ReplicationHandshake, MessagesOutOfOrderEndIt) {
  int calls = 0;
  PrimaryHandshake p("pw", "c1", 2, core::Epoch(1), ContinueFrom(&calls));
  std::string out, proof;
  wal::AppendMessage(proof, core::Epoch(1), wal::Proof{std::string(32, 'p')});
  EXPECT_TRUE(absl::IsInvalidArgument(p.OnMessage(One(proof), out)));
  StandbyHandshake s("pw", "c1", 0, 2, {}, core::Epoch(1));
  std::string hello;
  s.Start(hello);
  std::string ack;
  wal::AppendMessage(ack, core::Epoch(1), wal::Ack{core::Lsn(1), core::Lsn(1)});
  EXPECT_TRUE(absl::IsInvalidArgument(s.OnMessage(One(ack), out)));
  EXPECT_TRUE(out.empty());
}

// Without a decide callback the primary's machine stops once the standby
// proved itself: the decision is made on the shard's thread and sent later.
TEST(ReplicationHandshake, TheDecisionCanBeMadeAfterTheProof) {
  StandbyHandshake s("pw", "c1", 1, 2, {core::Lsn(7), core::Epoch(1), core::Epoch(1)},
                     core::Epoch(1));
  PrimaryHandshake p("pw", "c1", 2, core::Epoch(1));
  std::string hello, challenge, proof, welcome, none;
  s.Start(hello);
  ASSERT_TRUE(p.OnMessage(One(hello), challenge).ok());
  ASSERT_TRUE(s.OnMessage(One(challenge), proof).ok());
  ASSERT_TRUE(p.OnMessage(One(proof), welcome).ok());
  EXPECT_TRUE(p.proven());
  EXPECT_FALSE(p.done());
  EXPECT_TRUE(welcome.empty());
  p.Welcome({wal::WelcomeDecision::kContinue, core::Lsn(8)}, welcome);
  EXPECT_TRUE(p.done());
  ASSERT_TRUE(s.OnMessage(One(welcome), none).ok());
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.welcome().lsn, core::Lsn(8));
  EXPECT_EQ(s.primary_shard_count(), 2u);
}

// A fresh standby probing as a one-shard standby learns the cluster and
// count from an authenticated refusal; an unknown shard is refused.
TEST(ReplicationHandshake, AProbeLearnsTheShapeFromAnAuthenticatedRefusal) {
  StandbyHandshake s("pw", "", 0, 1, {}, core::Epoch(1));
  PrimaryHandshake p("pw", "c4", 3, core::Epoch(1));
  const Outcome run = Handshake(s, p);
  EXPECT_TRUE(absl::IsFailedPrecondition(run.standby)) << run.standby;
  EXPECT_TRUE(s.authenticated());
  EXPECT_EQ(s.primary_cluster_id(), "c4");
  EXPECT_EQ(s.primary_shard_count(), 3u);

  StandbyHandshake wrong_pw("nope", "", 0, 1, {}, core::Epoch(1));
  PrimaryHandshake p2("pw", "c4", 3, core::Epoch(1));
  Handshake(wrong_pw, p2);
  EXPECT_FALSE(wrong_pw.authenticated());

  StandbyHandshake beyond("pw", "c4", 2, 3, {}, core::Epoch(1));
  PrimaryHandshake p3("pw", "c4", 2, core::Epoch(1));
  const Outcome refused = Handshake(beyond, p3);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.standby)) << refused.standby;
}

// Every message in `bytes`, in order (the caller keeps `bytes` alive).
std::vector<wal::Message> All(const std::string& bytes) {
  std::vector<wal::Message> out;
  std::string_view rest(bytes);
  while (!rest.empty()) {
    wal::DecodeResult r = wal::DecodeMessage(rest);
    EXPECT_EQ(r.outcome, wal::DecodeResult::Outcome::kMessage);
    if (r.outcome != wal::DecodeResult::Outcome::kMessage) break;
    out.push_back(r.message);
    rest.remove_prefix(r.bytes);
  }
  return out;
}

TEST(ReplicationHandshake, AStandbyThatKnowsANewerEpochNamesItsHolderAfterItsProof) {
  StandbyHandshake s("pw", "c1", 0, 2, {core::Lsn(0), core::Epoch(0), core::Epoch(5)},
                     core::Epoch(5));
  s.set_epoch_holder("10.0.0.2:7500");
  PrimaryHandshake p("pw", "c1", 2, core::Epoch(3));
  std::string hello, challenge, proof_and_notice, none;
  s.Start(hello);
  ASSERT_TRUE(p.OnMessage(One(hello), challenge).ok());
  ASSERT_TRUE(s.OnMessage(One(challenge), proof_and_notice).ok());
  const std::vector<wal::Message> sent = All(proof_and_notice);
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_EQ(sent[1].type(), wal::MessageType::kEpochNotice);
  EXPECT_EQ(std::get<wal::EpochNotice>(sent[1].body).epoch, core::Epoch(5));
  // Proven only once the notice is heard, and it is believed only after
  // the proof.
  ASSERT_TRUE(p.OnMessage(sent[0], none).ok());
  EXPECT_FALSE(p.proven());
  ASSERT_TRUE(p.OnMessage(sent[1], none).ok());
  ASSERT_TRUE(p.proven());
  EXPECT_TRUE(p.knows_newer_epoch());
  EXPECT_EQ(p.standby().highest_epoch, core::Epoch(5));
  EXPECT_EQ(p.epoch_holder(), "10.0.0.2:7500");
  // The shard refuses it (deposed): the refusal is authenticated.
  std::string welcome;
  p.Welcome({wal::WelcomeDecision::kRefused, core::Lsn(0), 0, "deposed"}, welcome);
  const absl::Status st = s.OnMessage(One(welcome), none);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_TRUE(s.authenticated());
}

TEST(ReplicationHandshake, ANewerEpochFromAPeerWithoutThePasswordIsNeverHeard) {
  StandbyHandshake s("wrong", "c1", 0, 2, {core::Lsn(0), core::Epoch(0), core::Epoch(5)},
                     core::Epoch(5));
  s.set_epoch_holder("10.0.0.9:7500");
  PrimaryHandshake p("pw", "c1", 2, core::Epoch(3));
  std::string hello, challenge, proof_and_notice, none;
  s.Start(hello);
  ASSERT_TRUE(p.OnMessage(One(hello), challenge).ok());
  ASSERT_TRUE(s.OnMessage(One(challenge), proof_and_notice).ok());
  const std::vector<wal::Message> sent = All(proof_and_notice);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(absl::IsUnauthenticated(p.OnMessage(sent[0], none)));
  EXPECT_FALSE(p.proven());
  EXPECT_EQ(p.epoch_holder(), "");
}

TEST(ReplicationHandshake, NoNoticeForAPrimaryThatIsNotOlder) {
  StandbyHandshake s("pw", "c1", 0, 2, {core::Lsn(7), core::Epoch(3), core::Epoch(3)},
                     core::Epoch(3));
  s.set_epoch_holder("10.0.0.2:7500");
  PrimaryHandshake p("pw", "c1", 2, core::Epoch(3));
  std::string hello, challenge, proof, none;
  s.Start(hello);
  ASSERT_TRUE(p.OnMessage(One(hello), challenge).ok());
  ASSERT_TRUE(s.OnMessage(One(challenge), proof).ok());
  ASSERT_EQ(All(proof).size(), 1u);
  ASSERT_TRUE(p.OnMessage(One(proof), none).ok());
  EXPECT_TRUE(p.proven());
  EXPECT_FALSE(p.knows_newer_epoch());
}

}  // namespace
}  // namespace werk::net
