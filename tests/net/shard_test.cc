// The shard driven in-process with a ManualClock: every timeout in the
// protocol (reservations, heartbeats, FETCH waits, handshakes, schedules) is
// checked without waiting for it.

#include "net/shard.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>

#include "core/time_format.h"
#include "tests/support/shard_harness.h"

namespace werk::net {
namespace {

using testing::BulkBody;
using testing::HarnessClient;
using testing::ShardHarness;

std::string Job(const std::string& jid, const std::string& extra = "") {
  return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[])" + extra + "}";
}

TEST(ShardTest, FetchBlocksThenWakesWhenAJobArrives) {
  ShardHarness h;
  HarnessClient worker = h.Connect();
  ASSERT_EQ(worker.Hello(), "+OK\r\n");
  HarnessClient producer = h.Connect();
  ASSERT_EQ(producer.Hello(), "+OK\r\n");
  worker.Send("FETCH critical default\r\n");
  EXPECT_FALSE(worker.Read(20).has_value());  // blocked
  ASSERT_EQ(producer.Call(Job("job-00001")), "+OK\r\n");
  auto reply = worker.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->find(R"("jid":"job-00001")"), std::string::npos);
  EXPECT_EQ(h.state().reserved_size(), 1u);
}

TEST(ShardTest, FetchTimesOutAfterTwoSeconds) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  c.Send("FETCH default\r\nINFO\r\n");  // INFO is pipelined behind the FETCH
  EXPECT_FALSE(c.Read(20).has_value());
  h.Advance(1999);
  EXPECT_FALSE(c.Read(20).has_value());
  h.Advance(1);
  EXPECT_EQ(c.Read(), "$-1\r\n");
  auto info = c.Read();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->rfind("$", 0), 0u);
}

TEST(ShardTest, FetchHonoursQueueOrderAndPause) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  ASSERT_EQ(c.Call(Job("low-00001", R"(,"queue":"low")")), "+OK\r\n");
  ASSERT_EQ(c.Call(Job("high-0001", R"(,"queue":"high")")), "+OK\r\n");
  EXPECT_NE(c.Call("FETCH high low").find("high-0001"), std::string::npos);
  ASSERT_EQ(c.Call(Job("high-0002", R"(,"queue":"high")")), "+OK\r\n");
  ASSERT_EQ(c.Call("QUEUE PAUSE high"), "+OK\r\n");
  EXPECT_NE(c.Call("FETCH high low").find("low-00001"), std::string::npos);
  // Only paused queues left: a 2 s wait, then nothing.
  c.Send("FETCH high\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  h.Advance(2000);
  EXPECT_EQ(c.Read(), "$-1\r\n");
  ASSERT_EQ(c.Call("QUEUE RESUME high"), "+OK\r\n");
  EXPECT_NE(c.Call("FETCH high").find("high-0002"), std::string::npos);
}

TEST(ShardTest, ScheduledJobIsDeliveredWhenDueWithoutPolling) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  const std::string at = core::FormatRfc3339Nano(h.clock().WallNow() + 1500 * core::kNanosPerMilli);
  ASSERT_EQ(c.Call(Job("sched-001", R"(,"at":")" + at + "\"")), "+OK\r\n");
  EXPECT_EQ(h.state().scheduled_size(), 1u);
  c.Send("FETCH default\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  h.Advance(1499);
  EXPECT_FALSE(c.Read(20).has_value());
  h.Advance(1);
  auto reply = c.Read();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->find("sched-001"), std::string::npos);
  EXPECT_NE(reply->find(R"("at":")" + at), std::string::npos);
}

TEST(ShardTest, ReservationExpiresIntoRetries) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  // reserve_for below the minimum is raised to 60 s.
  ASSERT_EQ(c.Call(Job("job-00001", R"(,"reserve_for":10)")), "+OK\r\n");
  ASSERT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
  h.Advance(59'999);
  EXPECT_EQ(h.state().reserved_size(), 1u);
  h.Advance(1);
  EXPECT_EQ(h.state().reserved_size(), 0u);
  EXPECT_EQ(h.state().retries_size(), 1u);
  const core::Job* job = h.state().FindJob("job-00001");
  ASSERT_NE(job, nullptr);
  EXPECT_EQ(job->failure->errtype, "ReservationExpired");
  EXPECT_EQ(job->failure->message, "Faktory job reservation expired");
  // Late answers from the worker (Faktory semantics): ACK is OK, FAIL is not.
  EXPECT_EQ(c.Call(R"(FAIL {"jid":"job-00001"})"), "-ERR Job not found job-00001\r\n");
  EXPECT_EQ(c.Call(R"(ACK {"jid":"job-00001"})"), "+OK\r\n");
  EXPECT_EQ(h.state().retries_size(), 1u);
  EXPECT_EQ(h.state().total_failures(), 1);
  // The retry comes due and is fetchable again.
  h.Advance((job->set_key - h.clock().WallNow()) / core::kNanosPerMilli + 1);
  EXPECT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
}

TEST(ShardTest, RetryZeroJobIsDroppedOnExpiry) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  ASSERT_EQ(c.Call(Job("job-00001", R"(,"retry":0,"reserve_for":60)")), "+OK\r\n");
  ASSERT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
  h.Advance(60'000);
  EXPECT_EQ(h.state().FindJob("job-00001"), nullptr);
}

TEST(ShardTest, HeartbeatExpiryClosesWorkerConnections) {
  ShardHarness h;
  HarnessClient w1 = h.Connect();
  ASSERT_EQ(w1.Hello(R"({"v":2,"wid":"proc-1","hostname":"h","pid":7})"), "+OK\r\n");
  HarnessClient w2 = h.Connect();
  ASSERT_EQ(w2.Hello(R"({"v":2,"wid":"proc-1","hostname":"h","pid":7})"), "+OK\r\n");
  HarnessClient admin = h.Connect();
  ASSERT_EQ(admin.Hello(), "+OK\r\n");
  h.Advance(40'000);
  ASSERT_EQ(w1.Call(R"(BEAT {"wid":"proc-1","rss_kb":1000})"), "+OK\r\n");
  h.Advance(59'000);  // 59 s after the beat: still alive
  EXPECT_EQ(admin.Call(R"(BEAT {"wid":"proc-1"})"), "+OK\r\n");  // any connection may beat
  h.Advance(60'000);
  EXPECT_TRUE(w1.Closed());
  EXPECT_TRUE(w2.Closed());
  EXPECT_EQ(admin.Call(R"(BEAT {"wid":"proc-1"})"), "-ERR unknown worker proc-1\r\n");
  EXPECT_EQ(admin.Call(R"(BEAT {"wid":""})"), "-ERR unknown worker \r\n");
  EXPECT_EQ(admin.Call("INFO").find("\"connections\":1,") != std::string::npos, true);
}

TEST(ShardTest, QuietWorkerGetsNothing) {
  ShardHarness h;
  HarnessClient w = h.Connect();
  ASSERT_EQ(w.Hello(R"({"v":2,"wid":"proc-1"})"), "+OK\r\n");
  ASSERT_EQ(w.Call(Job("job-00001")), "+OK\r\n");
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"proc-1","current_state":"quiet"})"),
            "$17\r\n{\"state\":\"quiet\"}\r\n");
  // The state only moves forward.
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"proc-1","current_state":"running"})"),
            "$17\r\n{\"state\":\"quiet\"}\r\n");
  w.Send("FETCH default\r\n");
  EXPECT_FALSE(w.Read(20).has_value());
  h.Advance(2000);
  EXPECT_EQ(w.Read(), "$-1\r\n");
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"proc-1","current_state":"terminate"})"),
            "$21\r\n{\"state\":\"terminate\"}\r\n");
  // A producer connection (no wid) still fetches.
  HarnessClient p = h.Connect();
  ASSERT_EQ(p.Hello(), "+OK\r\n");
  EXPECT_NE(p.Call("FETCH default").find("job-00001"), std::string::npos);
}

TEST(ShardTest, HandshakeDeadline) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_TRUE(c.Read().has_value());  // +HI
  h.Advance(1999);
  EXPECT_FALSE(c.Closed(5));
  h.Advance(1);
  EXPECT_TRUE(c.Closed());
}

TEST(ShardTest, ConnectionLimit) {
  ServerOptions o;
  o.connections_max = 2;
  ShardHarness h(o);
  HarnessClient a = h.Connect();
  ASSERT_EQ(a.Hello(), "+OK\r\n");
  HarnessClient b = h.Connect();
  ASSERT_EQ(b.Hello(), "+OK\r\n");
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  EXPECT_EQ(c.Read(), "-ERR too many connections: 3\r\n");
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(a.Call("INFO").rfind("$", 0), 0u);
  a.Send("END\r\n");
  EXPECT_TRUE(a.Closed());
  HarnessClient d = h.Connect();
  EXPECT_EQ(d.Hello(), "+OK\r\n");
  EXPECT_EQ(d.Call(Job("job-00001")), "+OK\r\n");
}

TEST(ShardTest, PipelinedRepliesStayInOrder) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  std::string batch;
  for (int i = 0; i < 200; ++i) batch += Job("job-" + std::to_string(10000 + i)) + "\r\n";
  batch += "FETCH default\r\nACK {\"jid\":\"job-10000\"}\r\nbogus\r\n";
  c.Send(batch);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(c.Read(), "+OK\r\n") << i;
  EXPECT_NE(c.Read()->find("job-10000"), std::string::npos);
  EXPECT_EQ(c.Read(), "+OK\r\n");
  EXPECT_EQ(c.Read(), "-ERR unknown command bogus\r\n");
  EXPECT_EQ(h.state().total_processed(), 1);
}

// PROMOTE hands the promotion to the server's handler: its refusal is the
// reply, else the reply waits for the outcome, and the connection's next
// command waits behind it.
TEST(ShardTest, PromoteAnswersWithTheServersOutcomeInOrder) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  EXPECT_EQ(c.Call("PROMOTE"), "-ERR PROMOTE is not available on this server\r\n");
  std::function<void(core::OpStatus)> outcome;
  h.shard().set_promote_handler(
      [&](std::function<void(core::OpStatus)> done) -> std::optional<core::OpStatus> {
        if (outcome) return absl::FailedPreconditionError("a promotion is already under way");
        outcome = std::move(done);
        return std::nullopt;
      });
  EXPECT_EQ(c.Call("PROMOTE now"), "-ERR PROMOTE takes no argument\r\n");
  c.Send("PROMOTE\r\nbogus\r\n");
  EXPECT_EQ(c.Read(50), std::nullopt);
  ASSERT_TRUE(outcome);
  // Another connection is refused at once.
  HarnessClient d = h.Connect();
  ASSERT_EQ(d.Hello(), "+OK\r\n");
  EXPECT_EQ(d.Call("PROMOTE"), "-ERR a promotion is already under way\r\n");
  outcome(core::OkStatus());
  EXPECT_EQ(c.Read(), "+OK\r\n");
  EXPECT_EQ(c.Read(), "-ERR unknown command bogus\r\n");
}

TEST(ShardTest, ShutdownAnswersBlockedFetchAndCloses) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  c.Send("FETCH default\r\n");
  EXPECT_FALSE(c.Read(20).has_value());
  h.shard().RequestStop();
  EXPECT_EQ(c.Read(), "$-1\r\n");
  EXPECT_TRUE(c.Closed());
  for (int i = 0; i < 100 && !h.shard().stopped(); ++i) h.Pump();
  EXPECT_TRUE(h.shard().stopped());
}

TEST(ShardTest, EveryMutationIsJournaledBeforeItsReply) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  const uint64_t before = h.journal().records();
  ASSERT_EQ(c.Call(Job("job-00001")), "+OK\r\n");
  ASSERT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
  ASSERT_EQ(c.Call(R"(FAIL {"jid":"job-00001"})"), "+OK\r\n");
  ASSERT_EQ(c.Call(R"(MUTATE {"cmd":"requeue","target":"retries"})"), "+OK\r\n");
  ASSERT_EQ(c.Call("QUEUE PAUSE default"), "+OK\r\n");
  ASSERT_EQ(c.Call("FLUSH"), "+OK\r\n");
  EXPECT_EQ(h.journal().records() - before, 6u);
  EXPECT_EQ(h.journal().durable_lsn(), h.journal().appended_lsn());
  // Reads and no-ops write nothing.
  ASSERT_EQ(c.Call(R"(ACK {"jid":"never-fetched"})"), "+OK\r\n");
  ASSERT_EQ(c.Call("INFO").rfind("$", 0), 0u);
  EXPECT_EQ(h.journal().records() - before, 6u);
}

// A connection on its way out (here: idle) whose client stops reading its
// replies is closed at the flush deadline; it no longer counts against the
// connection limit, so without one it could hold its socket and megabytes of
// buffers forever.
TEST(ShardTest, ClosingConnectionThatStopsReadingIsClosedAtTheFlushDeadline) {
  ServerOptions options;
  options.idle_timeout_s = 1;
  ShardHarness h(options);
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  // Far more INFO replies than the server buffers before it stops reading.
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "INFO\r\n";
  for (int i = 0; i < 20; ++i) {
    c.Send(batch);
    h.Pump(20);
  }
  h.Advance(2'000);  // idle: closing after the flush
  EXPECT_EQ(h.shard().stats().idle_closed, 1u);
  EXPECT_EQ(h.shard().stats().flush_expired, 0u);
  h.Advance(31'000);  // the flush deadline
  EXPECT_EQ(h.shard().stats().flush_expired, 1u);
  EXPECT_TRUE(c.Closed(2000));
}

// The role seam: a standby refuses every command that writes, with the same
// error, through the partition's one check; reads still work.
TEST(ShardTest, AStandbyRefusesEveryWriteWithOneError) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(R"({"v":2,"wid":"w1","pid":1,"hostname":"h"})"), "+OK\r\n");
  ASSERT_EQ(c.Call(Job("job-00001")), "+OK\r\n");
  ASSERT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
  ASSERT_EQ(c.Call(Job("job-00002")), "+OK\r\n");
  h.shard().set_role(core::Role::kStandby);
  const std::string refused = "-ERR " + std::string(core::kStandbyMessage) + "\r\n";
  for (const std::string& cmd :
       {Job("job-00003"), std::string(R"(PUSHB [{"jid":"job-00004","jobtype":"T","args":[]}])"),
        std::string("FETCH default"), std::string(R"(ACK {"jid":"job-00001"})"),
        std::string(R"(FAIL {"jid":"job-00001","message":"m","errtype":"E"})"),
        std::string("FLUSH"), std::string(R"(MUTATE {"cmd":"kill","target":"retries"})"),
        std::string("QUEUE PAUSE default"), std::string("QUEUE REMOVE default"),
        std::string(R"(BEAT {"wid":"w1","current_state":"quiet"})")}) {
    EXPECT_EQ(c.Call(cmd), refused) << cmd;
  }
  EXPECT_EQ(h.state().job_count(), 2u);
  EXPECT_EQ(c.Call(R"(BEAT {"wid":"w1"})"), "+OK\r\n");  // nothing to write
  EXPECT_EQ(c.Call("INFO").rfind("$", 0), 0u);
}

}  // namespace
}  // namespace werk::net
