// A primary and its hot standby as real processes (docs/replication.md):
// what the primary acknowledged is in the standby's log, the standby takes
// no writes, writes wait for the standby (required mode), and a standby that
// cannot belong to the primary is refused with the reason.

#include <stdlib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

using namespace std::chrono_literals;

TEST(Replication, WhatThePrimaryAcknowledgedIsInTheStandbysLog) {
  auto primary = StartPrimary();
  auto standby = StartStandby(ReplicationPort(*primary));
  LineClient c = ReadyClient(primary->port());
  for (int i = 0; i < 200; ++i) ASSERT_EQ(c.Call(Push("acked-" + std::to_string(i))), "+OK\r\n");
  // A FETCH's reservation is a record too: the standby holds it.
  const std::string fetched = c.Call("FETCH default");
  ASSERT_NE(fetched.find("job-of-acked-"), std::string::npos) << fetched;
  // Both gone the moment the last reply arrived; the standby's own log,
  // recovered alone, holds every acknowledged job and the reservation.
  const std::string standby_data = standby->data_dir();
  standby->KillNine();
  primary->KillNine();
  WerkdProcess alone({.data_dir = standby_data});
  EXPECT_EQ(WaitQueueSize(alone.port(), "default", 199), 199);
  LineClient a = ReadyClient(alone.port());
  const std::string info = a.Call("INFO");
  EXPECT_NE(info.find("\"working\":1"), std::string::npos) << info;
}

TEST(Replication, TheStandbyRefusesWritesNamingThePrimary) {
  auto primary = StartPrimary();
  const int rport = ReplicationPort(*primary);
  auto standby = StartStandby(rport);
  LineClient p = ReadyClient(primary->port());
  ASSERT_EQ(p.Call(Push("on-primary")), "+OK\r\n");
  LineClient s = ReadyClient(standby->port());
  const std::string where = "127.0.0.1:" + std::to_string(rport);
  for (const std::string& cmd :
       {Push("on-standby"), std::string("FETCH default"),
        std::string(R"(ACK {"jid":"job-of-on-primary"})"),
        std::string(R"(FAIL {"jid":"job-of-on-primary","errtype":"E","message":"m"})"),
        std::string("QUEUE PAUSE default"), std::string("FLUSH"),
        std::string(R"(MUTATE {"cmd":"clear","target":"retries"})")}) {
    const std::string reply = s.Call(cmd);
    EXPECT_EQ(reply.rfind("-ERR werk is a standby", 0), 0u) << cmd << " -> " << reply;
    EXPECT_NE(reply.find(where), std::string::npos) << cmd << " -> " << reply;
  }
  // Reads work, and say what the server is.
  const std::string info = s.Call("INFO");
  EXPECT_NE(info.find("\"role\":\"standby\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"primary\":\"" + where + "\""), std::string::npos) << info;
  EXPECT_NE(p.Call("INFO").find("\"role\":\"primary\""), std::string::npos);
}

TEST(Replication, WritesWaitForTheStandbyAndGoOnWhenItComesBack) {
  auto primary = StartPrimary();
  const int rport = ReplicationPort(*primary);
  LineClient c = ReadyClient(primary->port());
  // No standby yet: the reply waits (required mode).
  c.Send(Push("waits-1") + "\r\n");
  EXPECT_EQ(c.Read(300), std::nullopt);
  auto standby = StartStandby(rport);
  EXPECT_EQ(c.ReadOrFail(60'000), "+OK\r\n");
  ASSERT_EQ(c.Call(Push("waits-2")), "+OK\r\n");
  // The standby dies: writes wait again, and go on once it is back where
  // it stopped (its own log, caught up from there).
  const std::string standby_data = standby->data_dir();
  standby->KillNine();
  c.Send(Push("waits-3") + "\r\n");
  EXPECT_EQ(c.Read(300), std::nullopt);
  auto again = StartStandby(rport, standby_data);
  EXPECT_EQ(c.ReadOrFail(60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(again->port(), "default", 3), 3);
  // Once more, with nothing new to send: every shard is welcomed and linked
  // all the same.
  EXPECT_EQ(again->Stop(), 0);
  auto third = StartStandby(rport, standby_data);
  EXPECT_TRUE(WaitAllLinked(third->port())) << third->log();
}

// The primary stops (SIGTERM) and starts again with its standby attached:
// both stops are clean, the new run is a new epoch the standby follows, and
// writes go on.
TEST(Replication, APrimaryRestartsUnderItsStandby) {
  auto primary = StartPrimary();
  const int rport = ReplicationPort(*primary);
  auto standby = StartStandby(rport);
  const std::string primary_data = primary->data_dir();
  {
    LineClient c = ReadyClient(primary->port());
    for (int i = 0; i < 20; ++i) ASSERT_EQ(c.Call(Push("before-" + std::to_string(i))), "+OK\r\n");
  }
  EXPECT_EQ(primary->Stop(), 0) << primary->log();
  // The same replication port, so the standby finds it.
  auto again = std::make_unique<WerkdProcess>(WerkdProcess::Options{
      .args = {"--replication-bind", "127.0.0.1:" + std::to_string(rport)},
      .data_dir = primary_data});
  LineClient c = ReadyClient(again->port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.Call(Push("after-" + std::to_string(i))), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 40), 40);
  LineClient s = ReadyClient(standby->port());
  const std::string info = s.Call("INFO");
  // A restart begins a new run of the same epoch: only a promotion takes a
  // new number.
  EXPECT_NE(info.find("\"epoch\":1"), std::string::npos) << info;
  EXPECT_EQ(standby->Stop(), 0) << standby->log();
  EXPECT_EQ(again->Stop(), 0) << again->log();
}

TEST(Replication, AStandbyWithTheWrongPasswordIsRefusedAndSaysWhy) {
  auto primary = std::make_unique<WerkdProcess>(WerkdProcess::Options{
      .args = {"--replication-bind", "127.0.0.1:0"}, .env = {{"FAKTORY_PASSWORD", "right"}}});
  const int rport = ReplicationPort(*primary);
  std::unique_ptr<WerkdProcess> standby;
  try {
    standby = std::make_unique<WerkdProcess>(WerkdProcess::Options{
        .args = {"--replica-of", "127.0.0.1:" + std::to_string(rport)},
        .env = {{"FAKTORY_PASSWORD", "wrong"}}});
    ASSERT_TRUE(Exited(*standby)) << standby->log();
    EXPECT_NE(standby->log().find("password"), std::string::npos) << standby->log();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos) << e.what();
  }
}

TEST(Replication, AStandbyOfAnotherClusterIsRefused) {
  auto primary = StartPrimary();
  // A data directory made by another server (kept when that server goes).
  char tmpl[] = "/tmp/werk-other-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  const std::string other_data = root + "/data";
  {
    WerkdProcess other({.data_dir = other_data});
    LineClient c = ReadyClient(other.port());
    ASSERT_EQ(c.Call(Push("elsewhere")), "+OK\r\n");
    ASSERT_EQ(other.Stop(), 0);
  }
  std::string log;
  try {
    auto standby = StartStandby(ReplicationPort(*primary), other_data);
    EXPECT_TRUE(Exited(*standby));
    log = standby->log();
  } catch (const std::runtime_error& e) {
    log = e.what();
  }
  EXPECT_NE(log.find("belongs to cluster"), std::string::npos) << log;
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

TEST(Replication, TheStandbyRunsThePrimarysShardCount) {
  auto primary = StartPrimary({"--shards", "2"});
  auto standby = StartStandby(ReplicationPort(*primary));
  LineClient s = ReadyClient(standby->port());
  const std::string info = s.Call("INFO");
  EXPECT_NE(info.find("\"id\":1"), std::string::npos) << info;
  EXPECT_EQ(info.find("\"id\":2"), std::string::npos) << info;
  // Asked for another count, a standby refuses to start.
  try {
    WerkdProcess wrong({.args = {"--replica-of",
                                 "127.0.0.1:" + std::to_string(ReplicationPort(*primary)),
                                 "--shards", "3"}});
    ASSERT_TRUE(Exited(wrong)) << wrong.log();
    EXPECT_NE(wrong.log().find("shard count"), std::string::npos) << wrong.log();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("shard count"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace werk::testing
