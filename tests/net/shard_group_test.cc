// Several shards in one group, all turned by the test's thread with a
// ManualClock: jobs owned by one shard and served to clients of another, and
// the global state (workers, heartbeats, connection limit, pauses) kept right
// across shards.

#include <gtest/gtest.h>

#include <set>

#include "net/resp.h"
#include "net/shard.h"
#include "tests/support/shard_harness.h"

namespace werk::net {
namespace {

using testing::BulkBody;
using testing::HarnessClient;
using testing::ShardHarness;

constexpr uint32_t kShards = 3;

std::string Job(const std::string& jid, const std::string& extra = "") {
  return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[])" + extra + "}";
}

std::string JidOwnedBy(ShardHarness& h, uint32_t shard, int salt = 0) {
  for (int i = salt * 1000;; ++i) {
    std::string jid = "job-" + std::to_string(100000 + i);
    if (h.shard().OwnerOf(jid) == shard) return jid;
  }
}

// The number after `"key":` in an INFO document.
int64_t InfoNumber(const std::string& info, const std::string& key) {
  const size_t at = info.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stoll(info.substr(at + key.size() + 3));
}

std::string Info(HarnessClient& c) { return BulkBody(c.Call("INFO")); }

TEST(ShardGroupTest, JobOwnedElsewhereIsPushedFetchedAndAcked) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  const std::string jid = JidOwnedBy(h, 2);
  ASSERT_EQ(c.Call(Job(jid)), "+OK\r\n");
  EXPECT_NE(h.state(2).FindJob(jid), nullptr);
  EXPECT_EQ(h.state(0).FindJob(jid), nullptr);
  EXPECT_NE(c.Call("FETCH default").find(jid), std::string::npos);
  EXPECT_EQ(h.state(2).reserved_size(), 1u);
  EXPECT_EQ(c.Call(R"(ACK {"jid":")" + jid + R"("})"), "+OK\r\n");
  EXPECT_EQ(h.state(2).job_count(), 0u);
  EXPECT_EQ(InfoNumber(Info(c), "total_processed"), 1);
}

TEST(ShardGroupTest, BlockedFetchWakesForAJobOnAnotherShard) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient worker = h.Connect(0);
  ASSERT_EQ(worker.Hello(), "+OK\r\n");
  HarnessClient producer = h.Connect(1);
  ASSERT_EQ(producer.Hello(), "+OK\r\n");
  worker.Send("FETCH critical default\r\n");
  EXPECT_FALSE(worker.Read(20).has_value());
  const std::string jid = JidOwnedBy(h, 2);
  ASSERT_EQ(producer.Call(Job(jid)), "+OK\r\n");
  auto reply = worker.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->find(jid), std::string::npos);
}

TEST(ShardGroupTest, ReservationTakenRemotelyExpiresOnTheOwner) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  const std::string jid = JidOwnedBy(h, 1);
  ASSERT_EQ(c.Call(Job(jid, R"(,"reserve_for":60)")), "+OK\r\n");
  ASSERT_NE(c.Call("FETCH default").find(jid), std::string::npos);
  h.Advance(60'000);
  const std::string info = Info(c);
  EXPECT_EQ(InfoNumber(info, "retries"), 1) << info;
  EXPECT_EQ(InfoNumber(info, "working"), 0) << info;
}

class WorkerAcrossShards : public ::testing::Test {
 protected:
  WorkerAcrossShards() : h_({}, 1'700'000'000 * core::kNanosPerSecond, kShards) {
    owner_ = h_.shard().OwnerOf("proc-1");
    // One connection of the process on every shard, the owner's last.
    for (uint32_t k = 1; k <= kShards; ++k) {
      const uint32_t s = (owner_ + k) % kShards;
      conns_.push_back(h_.Connect(s));
      EXPECT_EQ(conns_.back().Hello(R"({"v":2,"wid":"proc-1","hostname":"h","pid":7})"),
                "+OK\r\n");
    }
    admin_.emplace(h_.Connect((owner_ + 1) % kShards));
    EXPECT_EQ(admin_->Hello(), "+OK\r\n");
  }
  ShardHarness h_;
  uint32_t owner_ = 0;
  std::vector<HarnessClient> conns_;
  std::optional<HarnessClient> admin_;
};

TEST_F(WorkerAcrossShards, CountedOnceAndForgottenWithItsLastConnection) {
  std::string info = Info(*admin_);
  EXPECT_NE(info.find(R"("Workers":{"reaped":0,"size":1})"), std::string::npos) << info;
  EXPECT_EQ(InfoNumber(info, "connections"), kShards + 1);
  // Closing all but one keeps the process; the last one forgets it.
  while (conns_.size() > 1) {
    conns_.erase(conns_.begin());
    h_.Pump(5);
  }
  info = Info(*admin_);
  EXPECT_NE(info.find(R"("Workers":{"reaped":0,"size":1})"), std::string::npos) << info;
  conns_.clear();
  h_.Pump(5);
  info = Info(*admin_);
  EXPECT_NE(info.find(R"("Workers":{"reaped":0,"size":0})"), std::string::npos) << info;
  EXPECT_EQ(admin_->Call(R"(BEAT {"wid":"proc-1"})"), "-ERR unknown worker proc-1\r\n");
}

TEST_F(WorkerAcrossShards, QuietFromAnyShardHoldsOnEveryShard) {
  ASSERT_EQ(admin_->Call(Job(JidOwnedBy(h_, owner_))), "+OK\r\n");
  // The BEAT arrives on a shard that does not own the process.
  EXPECT_EQ(conns_[0].Call(R"(BEAT {"wid":"proc-1","current_state":"quiet"})"),
            "$17\r\n{\"state\":\"quiet\"}\r\n");
  h_.Pump(5);
  for (auto& c : conns_) c.Send("FETCH default\r\n");
  h_.Pump(10);
  h_.Advance(2000);
  for (auto& c : conns_) EXPECT_EQ(c.Read(), "$-1\r\n");
  // A connection opened later, on any shard, learns the state at HELLO.
  for (uint32_t s = 0; s < kShards; ++s) {
    HarnessClient late = h_.Connect(s);
    ASSERT_EQ(late.Hello(R"({"v":2,"wid":"proc-1"})"), "+OK\r\n");
    late.Send("FETCH default\r\n");
    h_.Pump(10);
    h_.Advance(2000);
    EXPECT_EQ(late.Read(), "$-1\r\n") << "shard " << s;
  }
  // The job is still there for somebody else.
  EXPECT_NE(admin_->Call("FETCH default").find("job-"), std::string::npos);
  // Terminate moves forward from any shard too; running does not go back.
  EXPECT_EQ(conns_[1].Call(R"(BEAT {"wid":"proc-1","current_state":"terminate"})"),
            "$21\r\n{\"state\":\"terminate\"}\r\n");
  EXPECT_EQ(conns_[0].Call(R"(BEAT {"wid":"proc-1"})"), "$21\r\n{\"state\":\"terminate\"}\r\n");
}

TEST_F(WorkerAcrossShards, MissedHeartbeatClosesConnectionsOnEveryShard) {
  h_.Advance(40'000);
  ASSERT_EQ(conns_[0].Call(R"(BEAT {"wid":"proc-1"})"), "+OK\r\n");  // via a non-owner
  h_.Advance(59'000);
  for (auto& c : conns_) EXPECT_FALSE(c.Closed(5));
  h_.Advance(1'000);
  for (auto& c : conns_) EXPECT_TRUE(c.Closed());
  const std::string info = Info(*admin_);
  EXPECT_NE(info.find(R"("Workers":{"reaped":1,"size":0})"), std::string::npos) << info;
  EXPECT_EQ(InfoNumber(info, "connections"), 1);
  // The process can come back, on any shard.
  HarnessClient back = h_.Connect((owner_ + 2) % kShards);
  ASSERT_EQ(back.Hello(R"({"v":2,"wid":"proc-1"})"), "+OK\r\n");
  EXPECT_EQ(back.Call(R"(BEAT {"wid":"proc-1"})"), "+OK\r\n");
}

// PUSHBs whose jobs all belong to the connection's own shard, pipelined: each
// is answered in order, from the shard's own loop (a fan-out to itself alone
// once completed at once and resumed the connection's input from inside the
// running command, one level deeper per PUSHB).
TEST(ShardGroupTest, PipelinedLocalPushbsAreAnsweredInOrder) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient c = h.Connect(1);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  constexpr int kBatches = 300;
  std::string pipeline;
  for (int b = 0; b < kBatches; ++b) {
    const std::string jid = JidOwnedBy(h, 1, b);
    pipeline += R"(PUSHB [{"jid":")" + jid + R"(","jobtype":"T","args":[]}])" "\r\n";
  }
  c.Send(pipeline);
  for (int b = 0; b < kBatches; ++b) ASSERT_EQ(c.Read(), "$2\r\n{}\r\n") << "batch " << b;
  EXPECT_EQ(h.state(1).job_count(), size_t(kBatches));
}

TEST(ShardGroupTest, ConnectionLimitCountsEveryShard) {
  ServerOptions o;
  o.connections_max = 2;
  ShardHarness h(o, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient a = h.Connect(0);
  ASSERT_EQ(a.Hello(), "+OK\r\n");
  HarnessClient b = h.Connect(1);
  ASSERT_EQ(b.Hello(), "+OK\r\n");
  HarnessClient c = h.Connect(2);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  EXPECT_EQ(c.Read(), "-ERR too many connections: 3\r\n");
  EXPECT_TRUE(c.Closed());
  a = h.Connect(2);  // the old `a` closes; its place is free again
  h.Pump(5);
  ASSERT_EQ(a.Hello(), "+OK\r\n");
  EXPECT_FALSE(a.Read(5).has_value());
}

TEST(ShardGroupTest, GlobalCommandsSeeEveryShard) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  for (uint32_t s = 0; s < kShards; ++s) {
    ASSERT_EQ(c.Call(Job(JidOwnedBy(h, s, 0), R"(,"queue":"q")")), "+OK\r\n");
    ASSERT_EQ(c.Call(Job(JidOwnedBy(h, s, 1), R"(,"at":"2099-01-01T00:00:00Z")")), "+OK\r\n");
  }
  std::string info = Info(c);
  EXPECT_NE(info.find(R"("queues":{"q":3})"), std::string::npos) << info;
  EXPECT_EQ(InfoNumber(info, "scheduled"), 3);
  EXPECT_NE(info.find(R"("werk":{"shards":[{"id":0,)"), std::string::npos) << info;
  ASSERT_EQ(c.Call(R"(MUTATE {"cmd":"kill","target":"scheduled"})"), "+OK\r\n");
  info = Info(c);
  EXPECT_EQ(InfoNumber(info, "dead"), 3) << info;
  for (uint32_t s = 0; s < kShards; ++s) EXPECT_EQ(h.state(s).dead_size(), 1u);
  h.Advance(1500);
  const std::string lat = BulkBody(c.Call("QUEUE LATENCY q"));
  EXPECT_EQ(lat, R"({"q":1.5})");
  ASSERT_EQ(c.Call("QUEUE REMOVE q"), "+OK\r\n");
  for (uint32_t s = 0; s < kShards; ++s) EXPECT_EQ(h.state(s).FindQueue("q"), nullptr);
  ASSERT_EQ(c.Call("FLUSH"), "+OK\r\n");
  for (uint32_t s = 0; s < kShards; ++s) EXPECT_EQ(h.state(s).job_count(), 0u);
}

TEST(ShardGroupTest, PauseDeclaresTheQueueOnEveryShard) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, kShards);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  ASSERT_EQ(c.Call(Job(JidOwnedBy(h, 1), R"(,"queue":"q")")), "+OK\r\n");
  ASSERT_EQ(c.Call("QUEUE PAUSE q unknown"), "+OK\r\n");
  for (uint32_t s = 0; s < kShards; ++s) {
    const core::Queue* q = h.state(s).FindQueue("q");
    ASSERT_NE(q, nullptr) << s;
    EXPECT_TRUE(q->paused());
    EXPECT_EQ(h.state(s).FindQueue("unknown"), nullptr);
  }
  ASSERT_EQ(c.Call(Job(JidOwnedBy(h, 2), R"(,"queue":"q")")), "+OK\r\n");
  c.Send("FETCH q\r\n");
  h.Pump(10);
  h.Advance(2000);
  EXPECT_EQ(c.Read(), "$-1\r\n");
  ASSERT_EQ(c.Call("QUEUE RESUME *"), "+OK\r\n");
  EXPECT_NE(c.Call("FETCH q").find("job-"), std::string::npos);
  EXPECT_NE(c.Call("FETCH q").find("job-"), std::string::npos);
}

TEST(ShardGroupTest, OwnerLogFailureAnswersAnErrorAndTheGroupStops) {
  // A PUSH forwarded to the job's owner, whose log then fails before the
  // record is durable: the client must hear the failure (never +OK), and no
  // shard may wait for the failed one forever.
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, 2);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  const std::string jid = JidOwnedBy(h, 1);
  c.Send(Job(jid) + "\r\n");
  h.PumpOnly(0, 3);  // forwarded; shard 1 has not run it yet
  h.journal(1).FailAtNextCommit();
  auto reply = c.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(*reply, StatusReply(core::LogFailed()));
  EXPECT_TRUE(h.shard(1).journal_failed());
  EXPECT_TRUE(h.StopAll(2000)) << "a shard waited for the failed one";
}

// A replicated group (the gates in kSync): no reply, local or from another
// shard, and no INFO figure gets ahead of what the standby acknowledged.
TEST(ShardGroupTest, InSyncModeRepliesWaitForTheStandbysAcknowledgement) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, 2, /*gated=*/true);
  for (uint32_t s = 0; s < 2; ++s) h.gate(s).SetMode(wal::DurabilityGate::Mode::kSync);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");  // HELLO logs nothing: no wait

  // A local PUSH: durable on shard 0's log, held until its standby has it.
  const std::string local = JidOwnedBy(h, 0);
  c.Send(Job(local) + "\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  EXPECT_EQ(h.journal(0).durable_lsn(), h.journal(0).appended_lsn());
  h.gate(0).SetAcked(h.journal(0).appended_lsn());
  EXPECT_EQ(c.Read(), "+OK\r\n");

  // A PUSH owned by shard 1: its reply waits for shard 1's standby.
  const std::string remote = JidOwnedBy(h, 1);
  c.Send(Job(remote) + "\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  EXPECT_NE(h.state(1).FindJob(remote), nullptr);  // applied and logged there
  h.gate(1).SetAcked(h.journal(1).appended_lsn());
  EXPECT_EQ(c.Read(), "+OK\r\n");

  // An ACK across shards, the same.
  // The FETCH's reserve record is on the job's owner: held until acked.
  c.Send("FETCH default\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  for (uint32_t s = 0; s < 2; ++s) h.gate(s).SetAcked(h.journal(s).appended_lsn());
  const std::string fetched = c.Read().value_or("<no reply>");
  ASSERT_NE(fetched.find("job-"), std::string::npos) << fetched;
  const std::string jid = fetched.find(local) != std::string::npos ? local : remote;
  const uint32_t owner = jid == local ? 0 : 1;
  c.Send(R"(ACK {"jid":")" + jid + "\"}\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  EXPECT_EQ(h.state(owner).FindJob(jid), nullptr);  // applied on its owner
  h.gate(owner).SetAcked(h.journal(owner).appended_lsn());
  EXPECT_EQ(c.Read(), "+OK\r\n");

  // INFO shows only what the standbys acknowledged: the ACK above is
  // counted, a push applied since is not yet.
  const std::string more = JidOwnedBy(h, 1, 2);
  HarnessClient d = h.Connect(1);
  ASSERT_EQ(d.Hello(), "+OK\r\n");
  d.Send(Job(more) + "\r\n");
  h.Pump(20);
  EXPECT_EQ(InfoNumber(Info(c), "total_processed"), 1);
  const std::string info = Info(c);
  EXPECT_NE(info.find(R"("default":1)"), std::string::npos) << info;
  h.gate(1).SetAcked(h.journal(1).appended_lsn());
  EXPECT_EQ(d.Read(), "+OK\r\n");
}

// A stop while the standby is silent: the held replies are never sent (the
// connection closes), and the group still stops.
TEST(ShardGroupTest, InSyncModeAStopDoesNotWaitForASilentStandbyForever) {
  net::ServerOptions o;
  o.standby_timeout_ms = 2000;
  ShardHarness h(o, 1'700'000'000 * core::kNanosPerSecond, 2, /*gated=*/true);
  for (uint32_t s = 0; s < 2; ++s) h.gate(s).SetMode(wal::DurabilityGate::Mode::kSync);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  c.Send(Job(JidOwnedBy(h, 1)) + "\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  for (auto* s : {&h.shard(0), &h.shard(1)}) s->RequestStop();
  h.Pump(20);
  EXPECT_FALSE(h.shard(1).stopped());
  h.clock().Advance(2001 * core::kNanosPerMilli);
  EXPECT_TRUE(h.StopAll(2000));
  EXPECT_TRUE(h.gate(1).abandoned());
  // Never a +OK: an error, or the connection closed.
  EXPECT_NE(c.Read(50).value_or("<closed>"), "+OK\r\n");
}

// Two FLUSHes from shard 0: `a`'s in flight (shard 1 has not answered),
// `b`'s waiting its turn.
void TwoFlushesFromShardZero(ShardHarness& h, HarnessClient& a, HarnessClient& b) {
  ASSERT_EQ(a.Hello(), "+OK\r\n");
  ASSERT_EQ(b.Hello(), "+OK\r\n");
  a.Send("FLUSH\r\n");
  h.PumpOnly(0, 3);
  b.Send("FLUSH\r\n");
  h.PumpOnly(0, 3);
}

TEST(ShardGroupTest, LogFailureOnAnotherShardRefusesTheWaitingGlobalOperations) {
  // FLUSH from shard 0 in flight, a second one waiting its turn; shard 1's
  // log fails while applying the first. Neither may get +OK, and the second
  // must not run (shard 1 would lack two operations after a restart).
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, 2);
  HarnessClient a = h.Connect(0), b = h.Connect(0);
  ASSERT_NO_FATAL_FAILURE(TwoFlushesFromShardZero(h, a, b));
  h.journal(1).FailAtNextCommit();
  auto ra = a.Read(), rb = b.Read();
  ASSERT_TRUE(ra.has_value());
  ASSERT_TRUE(rb.has_value());
  EXPECT_EQ(*ra, StatusReply(core::LogFailed()));
  EXPECT_EQ(*rb, StatusReply(core::LogFailed()));
  EXPECT_TRUE(h.StopAll(2000));
}

TEST(ShardGroupTest, LogFailureOnTheOriginEndsItsWaitingGlobalOperations) {
  ShardHarness h({}, 1'700'000'000 * core::kNanosPerSecond, 2);
  HarnessClient a = h.Connect(0), b = h.Connect(0);
  ASSERT_NO_FATAL_FAILURE(TwoFlushesFromShardZero(h, a, b));
  h.journal(0).FailAtNextCommit();
  h.PumpOnly(0, 2);
  EXPECT_TRUE(h.shard(0).journal_failed());
  EXPECT_TRUE(b.Closed());
  EXPECT_TRUE(h.StopAll(2000)) << "the waiting FLUSH kept shard 0 from stopping";
}

}  // namespace
}  // namespace werk::net
