// The histograms a shard publishes for /metrics (net/info.h, ShardSummary):
// command latency by command, and the log's sync time and batch size.

#include <gtest/gtest.h>

#include "net/shard.h"
#include "tests/support/shard_harness.h"
#include "tests/support/temp_dir.h"

namespace werk::net {
namespace {

using testing::HarnessClient;
using testing::ShardHarness;

const core::LatencyHistogram& Latency(const ShardSummary& s, CommandKind kind) {
  return s.histograms->command_latency_us[size_t(kind)];
}

TEST(ShardMetricsTest, CommandLatencyIsRecordedPerCommandFetchWaitIncluded) {
  ShardHarness h;
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");  // the handshake is not a command
  ASSERT_EQ(c.Call(R"(PUSH {"jid":"job-00001","jobtype":"T","args":[]})"), "+OK\r\n");
  EXPECT_NE(c.Call("FETCH default").find("job-00001"), std::string::npos);
  ASSERT_EQ(c.Call(R"(ACK {"jid":"job-00001"})"), "+OK\r\n");
  c.Send("FETCH default\r\n");  // nothing queued: the 2 s wait
  EXPECT_FALSE(c.Read(20).has_value());
  h.Advance(2000);
  EXPECT_EQ(c.Read(), "$-1\r\n");
  ASSERT_NE(c.Call("NOPE").find("unknown command"), std::string::npos);
  h.Advance(200);  // past the publisher's refresh period

  const std::optional<ShardSummary> s = h.shard().ReadStats();
  ASSERT_TRUE(s.has_value());
  // The manual clock stood still for all but the empty FETCH.
  EXPECT_EQ(Latency(*s, CommandKind::kPush).count, 1u);
  EXPECT_EQ(Latency(*s, CommandKind::kPush).counts[0], 1u);
  EXPECT_EQ(Latency(*s, CommandKind::kAck).count, 1u);
  const core::LatencyHistogram& fetch = Latency(*s, CommandKind::kFetch);
  EXPECT_EQ(fetch.count, 2u);
  EXPECT_EQ(fetch.sum, 2'000'000u);  // µs
  EXPECT_EQ(fetch.counts[core::LatencyHistogram::BucketOf(2'000'000)], 1u);
  EXPECT_EQ(Latency(*s, CommandKind::kOther).count, 1u);  // the unknown verb
  EXPECT_EQ(Latency(*s, CommandKind::kBeat).count, 0u);
  EXPECT_EQ(Latency(*s, CommandKind::kInfo).count, 0u);
}

TEST(ShardMetricsTest, LogSyncsAndBatchSizesAreRecorded) {
  testing::TempDir dir("werk-metrics");
  ServerOptions options;
  options.data_dir = dir.path() + "/db";
  ShardHarness h(options);
  HarnessClient c = h.Connect();
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  // Two PUSHes in one send are one iteration's records: one write of two.
  c.Send(R"(PUSH {"jid":"job-00001","jobtype":"T","args":[]})"
         "\r\n"
         R"(PUSH {"jid":"job-00002","jobtype":"T","args":[]})"
         "\r\n");
  EXPECT_EQ(c.Read(), "+OK\r\n");
  EXPECT_EQ(c.Read(), "+OK\r\n");
  h.Advance(200);

  const std::optional<ShardSummary> s = h.shard().ReadStats();
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(s->has_wal);
  EXPECT_GE(s->histograms->wal_sync_us.count, 1u);
  EXPECT_EQ(s->histograms->wal_sync_us.count, s->syncs);  // every durable write is timed
  EXPECT_GE(s->histograms->wal_batch_records.sum, 2u);
  EXPECT_LE(s->histograms->wal_batch_records.count, s->syncs);
  EXPECT_EQ(Latency(*s, CommandKind::kPush).count, 2u);
}

}  // namespace
}  // namespace werk::net
