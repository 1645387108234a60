// `werkctl info`'s summary (tools/werkctl/info_summary.h) of werk's INFO, of
// Faktory's, and of a werk that reports its role and epoch.

#include "tools/werkctl/info_summary.h"

#include <gtest/gtest.h>

namespace werk::ctl {
namespace {

// The shape net/info.cc renders (abridged: shards and loop figures).
constexpr char kWerkInfo[] = R"({"now":"2026-12-02T20:00:00.000000000Z","server_utc_time":"20:00:00 UTC",
"faktory":{"queues":{"default":10,"critical":5},"sets":{"dead":1,"retries":2,"scheduled":3,
"working":4},"tasks":{"Busy":{"reaped":0,"size":4}},"total_failures":7,"total_processed":100,
"total_enqueued":15,"total_queues":2},"server":{"description":"werk","faktory_version":"1.9.4",
"werk_version":"0.1.0","uptime":93784,"connections":3,"command_count":1234,"used_memory_mb":14},
"werk":{"shards":[{"id":0}],"unimplemented_job_fields":{"unique_for":0}}})";

TEST(InfoSummary, WerkInfo) {
  auto s = SummarizeInfo(kWerkInfo);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s,
            "server:      werk 0.1.0 (Faktory protocol 1.9.4), up 1d 2h 3m 4s\n"
            "connections: 3, commands 1234, memory 14 MB\n"
            "queues:      2 queues, 15 jobs enqueued\n"
            "  critical  5\n"
            "  default   10\n"
            "sets:        scheduled 3, retries 2, dead 1, working 4\n"
            "totals:      processed 100, failures 7\n");
}

TEST(InfoSummary, RoleAndEpochShowUpWhenTheServerReportsThem) {
  // Whatever scalars the `werk` section gains are shown, in its order.
  const std::string info = R"({"faktory":{"queues":{}},"server":{"description":"werk"},
      "werk":{"role":"standby","epoch":3,"primary":"10.0.0.1:7500","alone":false,
      "shards":[{"id":0,"acked_lsn":5}]}})";
  auto s = SummarizeInfo(info);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NE(s->find("werk:        role standby, epoch 3, primary 10.0.0.1:7500, alone false\n"),
            std::string::npos)
      << *s;
  EXPECT_NE(s->find("queues:      0 queues\n"), std::string::npos) << *s;
}

TEST(InfoSummary, FaktoryInfoAndMissingFields) {
  auto s = SummarizeInfo(R"({"faktory":{"queues":{"q":1},"total_enqueued":1},
      "server":{"description":"Faktory","faktory_version":"1.9.4","uptime":5}})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s,
            "server:      Faktory 1.9.4, up 5s\n"
            "queues:      1 queue, 1 jobs enqueued\n"
            "  q  1\n");
  s = SummarizeInfo("{}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "server:      server\n");
}

// `werkctl promote`'s last line: the role, and the highest epoch of the
// shards (they agree once a promotion is done).
TEST(InfoSummary, DescribeRoleNamesTheRoleAndEpoch) {
  auto promoted = DescribeRole(
      R"({"werk":{"shards":[{"id":0,"replication":{"role":"primary","epoch":3}},)"
      R"({"id":1,"replication":{"role":"primary","epoch":3}}],"role":"primary"}})");
  ASSERT_TRUE(promoted.ok()) << promoted.status();
  EXPECT_EQ(*promoted, "the primary, epoch 3");
  // No replication: the role alone; nothing known: nothing said.
  EXPECT_EQ(*DescribeRole(R"({"werk":{"shards":[{"id":0}],"role":"primary"}})"), "the primary");
  EXPECT_EQ(*DescribeRole(R"({"faktory":{}})"), "");
  EXPECT_FALSE(DescribeRole("not json").ok());
}

TEST(InfoSummary, NotJsonIsAnError) {
  EXPECT_FALSE(SummarizeInfo("not json").ok());
  EXPECT_FALSE(SummarizeInfo("[1,2]").ok());
  EXPECT_FALSE(SummarizeInfo("").ok());
}

TEST(InfoSummary, Uptime) {
  EXPECT_EQ(FormatUptime(0), "0s");
  EXPECT_EQ(FormatUptime(59), "59s");
  EXPECT_EQ(FormatUptime(120), "2m 0s");
  EXPECT_EQ(FormatUptime(3600), "1h 0m 0s");
  EXPECT_EQ(FormatUptime(86400 + 5), "1d 0h 0m 5s");
  EXPECT_EQ(FormatUptime(-3), "0s");
}

}  // namespace
}  // namespace werk::ctl
