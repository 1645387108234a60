// Restarts of a shard on the real write-ahead log (a temporary directory),
// driven with a manual clock: everything a client was told survives, and
// time-based behaviour continues from where it was.

#include <gtest/gtest.h>

#include <filesystem>

#include "core/time_format.h"
#include "tests/support/shard_harness.h"

namespace werk::net {
namespace {

using testing::BulkBody;
using testing::HarnessClient;
using testing::ShardHarness;

constexpr core::UnixNanos kT0 = 1'795'362'310LL * core::kNanosPerSecond;
constexpr int64_t kSec = core::kNanosPerSecond;

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-restart-XXXXXX";
    options_.data_dir = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(options_.data_dir); }
  std::unique_ptr<ShardHarness> Start(core::UnixNanos wall) {
    return std::make_unique<ShardHarness>(options_, wall);
  }
  static std::string Job(const std::string& jid, const std::string& extra = "") {
    return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[])" + extra + "}";
  }
  ServerOptions options_;
};

TEST_F(RestartTest, EveryKindOfStateSurvives) {
  const std::string at = core::FormatRfc3339Nano(kT0 + 3600 * kSec);
  {
    auto h = Start(kT0);
    HarnessClient c = h->Connect();
    ASSERT_EQ(c.Hello(R"({"v":2,"wid":"w1"})"), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("queued-01", R"(,"queue":"a")")), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("queued-02", R"(,"queue":"a")")), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("paused-01", R"(,"queue":"p")")), "+OK\r\n");
    ASSERT_EQ(c.Call("QUEUE PAUSE p"), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("sched-001", R"(,"at":")" + at + "\"")), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("retry-001", R"(,"queue":"r")")), "+OK\r\n");
    ASSERT_NE(c.Call("FETCH r").find("retry-001"), std::string::npos);
    ASSERT_EQ(c.Call(R"(FAIL {"jid":"retry-001","errtype":"E","message":"m"})"), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("dead-0001", R"(,"queue":"d","retry":-1)")), "+OK\r\n");
    ASSERT_NE(c.Call("FETCH d").find("dead-0001"), std::string::npos);
    ASSERT_EQ(c.Call(R"(FAIL {"jid":"dead-0001"})"), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("done-0001", R"(,"queue":"x")")), "+OK\r\n");
    ASSERT_NE(c.Call("FETCH x").find("done-0001"), std::string::npos);
    ASSERT_EQ(c.Call(R"(ACK {"jid":"done-0001"})"), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("reserved1", R"(,"queue":"w","reserve_for":600)")), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("reserved2", R"(,"queue":"w","reserve_for":600)")), "+OK\r\n");
    ASSERT_NE(c.Call("FETCH w").find("reserved1"), std::string::npos);
    ASSERT_NE(c.Call("FETCH w").find("reserved2"), std::string::npos);
    ASSERT_EQ(c.Call(R"(BEAT {"wid":"w1","current_state":"quiet"})"), "$17\r\n{\"state\":\"quiet\"}\r\n");
  }
  // 100 s later, a new process.
  auto h = Start(kT0 + 100 * kSec);
  auto& sm = h->state();
  EXPECT_EQ(sm.FindQueue("a")->size(), 2u);
  EXPECT_EQ(sm.FindQueue("a")->Front()->jid(), "queued-01");
  EXPECT_TRUE(sm.FindQueue("p")->paused());
  EXPECT_EQ(sm.scheduled_size(), 1u);
  EXPECT_EQ(sm.retries_size(), 1u);
  EXPECT_EQ(sm.dead_size(), 1u);
  EXPECT_EQ(sm.reserved_size(), 2u);
  EXPECT_EQ(sm.FindJob("done-0001"), nullptr);
  EXPECT_EQ(sm.total_processed(), 3);
  EXPECT_EQ(sm.total_failures(), 2);
  EXPECT_EQ(sm.FindJob("retry-001")->failure->message, "m");
  HarnessClient c = h->Connect();
  ASSERT_EQ(c.Hello(R"({"v":2,"wid":"w1"})"), "+OK\r\n");
  // The worker is still quiet.
  EXPECT_EQ(c.Call(R"(BEAT {"wid":"w1"})"), "$17\r\n{\"state\":\"quiet\"}\r\n");
  // Jobs reserved before the restart can be ACKed and FAILed after it.
  EXPECT_EQ(c.Call(R"(ACK {"jid":"reserved1"})"), "+OK\r\n");
  EXPECT_EQ(sm.total_processed(), 4);
  // reserved2's reservation still expires at its original time: 600 s after
  // the FETCH, i.e. 500 s after the restart.
  h->Advance(499'000);
  EXPECT_EQ(sm.reserved_size(), 1u);
  h->Advance(1'000);
  EXPECT_EQ(sm.reserved_size(), 0u);
  EXPECT_EQ(sm.FindJob("reserved2")->failure->errtype, "ReservationExpired");
  // The scheduled job comes due at its time too.
  h->Advance(3'000'000);
  EXPECT_EQ(sm.scheduled_size(), 0u);
  EXPECT_EQ(sm.FindQueue("default")->size(), 1u);
}

TEST_F(RestartTest, ReservedJobCanBeFailedAfterRestart) {
  {
    auto h = Start(kT0);
    HarnessClient c = h->Connect();
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("job-00001")), "+OK\r\n");
    ASSERT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
  }
  auto h = Start(kT0 + kSec);
  HarnessClient c = h->Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  EXPECT_EQ(c.Call(R"(FAIL {"jid":"job-00001","errtype":"E"})"), "+OK\r\n");
  EXPECT_EQ(h->state().retries_size(), 1u);
}

TEST_F(RestartTest, CheckpointThenMoreLogThenRestart) {
  options_.checkpoint_log_bytes = 4096;  // checkpoint often
  options_.segment_bytes = 1 << 20;
  uint64_t hash = 0;
  {
    auto h = Start(kT0);
    HarnessClient c = h->Connect();
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    for (int i = 0; i < 500; ++i) {
      ASSERT_EQ(c.Call(Job("job-" + std::to_string(10000 + i), R"(,"queue":"q)" + std::to_string(i % 3) + "\"")), "+OK\r\n");
      if (i % 3 == 0) {
        ASSERT_EQ(c.Call("FETCH q0 q1 q2").rfind("$", 0), 0u);
      }
    }
    h->Pump(20);
    EXPECT_GT(h->storage().checkpointer->stats().taken, 0u);
    hash = h->state().StateHash();
  }
  auto h = Start(kT0 + kSec);
  EXPECT_GT(h->storage().recovery.checkpoint_lsn.value(), 0u);
  EXPECT_TRUE(h->storage().skipped_records.empty());
  EXPECT_EQ(h->state().StateHash(), hash);
}

TEST_F(RestartTest, FlushSurvives) {
  {
    auto h = Start(kT0);
    HarnessClient c = h->Connect();
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("job-00001")), "+OK\r\n");
    ASSERT_EQ(c.Call("FLUSH"), "+OK\r\n");
    ASSERT_EQ(c.Call(Job("job-00002")), "+OK\r\n");
  }
  auto h = Start(kT0 + kSec);
  EXPECT_EQ(h->state().job_count(), 1u);
  EXPECT_NE(h->state().FindJob("job-00002"), nullptr);
}

// A record that does not apply stops recovery with what to do about it; the
// operator's --skip-record gets past exactly that record, loudly.
TEST(ReplayOrSkip, RefusesNamingTheRecordOrSkipsWhatTheOperatorNamed) {
  ServerOptions options;
  options.data_dir = "data";
  core::StateMachine sm(0);
  const std::string ack = core::EncodeMutation(core::Mutation::Ack(0, "never-pushed"));
  std::vector<std::string> skipped;
  absl::Status st = ReplayOrSkip(options, 1, 42, ack, sm, &skipped);
  ASSERT_FALSE(st.ok());
  const std::string msg(st.message());
  EXPECT_NE(msg.find("jid=never-pushed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("werk-wal-dump --lsn 42 data/wal/shard-001"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--skip-record 1:42"), std::string::npos) << msg;
  EXPECT_TRUE(ReplayOrSkip(options, 1, 43, "\xff", sm, &skipped).message().find("does not decode") !=
              std::string::npos);
  options.skip_records = {{1, 42}, {1, 43}};
  EXPECT_TRUE(ReplayOrSkip(options, 1, 42, ack, sm, &skipped).ok());
  EXPECT_TRUE(ReplayOrSkip(options, 1, 43, "\xff", sm, &skipped).ok());
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("LSN 42 (ack"), std::string::npos) << skipped[0];
  EXPECT_EQ(skipped[1], "LSN 43 (undecodable)");
  // Another shard's record with the same LSN is not skipped.
  EXPECT_FALSE(ReplayOrSkip(options, 0, 42, ack, sm, &skipped).ok());
}

}  // namespace
}  // namespace werk::net
