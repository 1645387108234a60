// What a primary's writes do when its standby is gone (docs/replication.md
// "When the standby is gone"), with real processes and the link through a
// proxy that stalls it: required mode refuses with an error and resumes once
// the standby is back; degrade mode goes on alone, says so, and waits for the
// standby again once it has caught up. And a second standby is turned away.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/fault_proxy.h"
#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"

namespace werk::testing {
namespace {

using namespace std::chrono_literals;

// INFO's werk.standby_state once it is `want` (the last seen otherwise,
// after a bound meant only to end a hang).
std::string WaitStandbyState(int port, const std::string& want) {
  LineClient c = ReadyClient(port);
  const std::regex re("\"standby_state\":\"([a-z]+)\"");
  std::string last;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    const std::string info = c.Call("INFO");
    std::smatch m;
    last = std::regex_search(info, m, re) ? std::string(m[1]) : "(none)";
    if (last == want) return last;
  }
  return last;
}

// PUSHes `name` on fresh connections until one is acknowledged (false if
// none is within a bound meant only to end a hang).
bool PushUntilAcknowledged(int port, const std::string& name) {
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    LineClient c = ReadyClient(port);
    if (c.Call(Push(name), 30'000) == "+OK\r\n") return true;
  }
  return false;
}

// A primary with a 1 s standby timeout and `policy`, its standby linked
// through a proxy, and one job acknowledged through both.
struct PairThroughProxy {
  explicit PairThroughProxy(const std::string& policy)
      : primary(StartPrimary({"--standby-policy", policy, "--standby-timeout", "1"})),
        link(uint16_t(ReplicationPort(*primary))),
        standby(StartStandby(link.port())) {}
  // The first job's +OK, then every shard linked.
  bool Ready(LineClient& c) {
    return c.Call(Push("before"), 60'000) == "+OK\r\n" && WaitAllLinked(standby->port());
  }
  std::unique_ptr<WerkdProcess> primary;
  FaultProxy link;
  std::unique_ptr<WerkdProcess> standby;
};

// INFO shows durable state only, so it does not wait for a standby: a
// primary that has never had one answers it at once (its own start's
// epoch record waits for the standby; INFO does not).
TEST(StandbyPolicy, APrimaryWaitingForItsFirstStandbyAnswersInfo) {
  auto primary = StartPrimary();
  LineClient c = ReadyClient(primary->port());
  const std::string info = c.Call("INFO", 60'000);
  EXPECT_NE(info.find("\"role\":\"primary\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"standby_state\""), std::string::npos) << info;
}

TEST(StandbyPolicy, RequiredRefusesWritesOnceTheStandbyIsGoneAndResumesWhenItIsBack) {
  PairThroughProxy pair("required");
  auto& [primary, link, standby] = pair;
  LineClient c = ReadyClient(primary->port());
  ASSERT_TRUE(pair.Ready(c)) << standby->log();

  // The link stalls: the write waits for the timeout, then gets an error
  // naming the policy instead of a +OK, and the connection goes on.
  link.Pause();
  c.Send(Push("waited") + "\r\n");
  const std::string refused = c.ReadOrFail(60'000);
  EXPECT_EQ(refused.rfind("-ERR werk cannot acknowledge writes", 0), 0u) << refused;
  EXPECT_NE(refused.find("required"), std::string::npos) << refused;
  // New writes are refused at once; reads work and say why.
  LineClient d = ReadyClient(primary->port());
  const std::string again = d.Call(Push("refused"), 60'000);
  EXPECT_EQ(again.rfind("-ERR werk cannot acknowledge writes", 0), 0u) << again;
  // (A shard whose own wait has not timed out yet holds an INFO behind what
  // waits there, and refuses it too when it does: INFO is asked again until
  // every shard answers it.)
  EXPECT_EQ(WaitStandbyState(primary->port(), "refusing"), "refusing");
  std::string info;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline &&
       (info = d.Call("INFO", 30'000)).rfind("-ERR", 0) == 0;
       std::this_thread::sleep_for(20ms)) {
  }
  EXPECT_NE(info.find("\"policy\":\"required\""), std::string::npos) << info;

  // The link comes back (both sides gave the silent one up and the standby
  // reconnects): once the standby has caught up, writes are acknowledged.
  link.Resume();
  EXPECT_TRUE(PushUntilAcknowledged(primary->port(), "after")) << primary->log();
  EXPECT_EQ(WaitStandbyState(primary->port(), "sync"), "sync");
  // What was acknowledged is on the standby.
  LineClient s = ReadyClient(standby->port());
  const std::string sinfo = s.Call("INFO");
  EXPECT_NE(sinfo.find("\"role\":\"standby\""), std::string::npos);
  EXPECT_NE(primary->log().find("REFUSING WRITES"), std::string::npos) << primary->log();
}

TEST(StandbyPolicy, DegradeGoesOnAloneSaysSoAndWaitsForTheStandbyAgainOnceCaughtUp) {
  PairThroughProxy pair("degrade");
  auto& [primary, link, standby] = pair;
  LineClient c = ReadyClient(primary->port());
  ASSERT_TRUE(pair.Ready(c)) << standby->log();

  link.Pause();
  // Acknowledged after the timeout, alone; then at once.
  EXPECT_EQ(c.Call(Push("alone-1"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitStandbyState(primary->port(), "alone"), "alone");
  EXPECT_EQ(c.Call(Push("alone-2"), 60'000), "+OK\r\n");
  EXPECT_NE(primary->log().find("CONTINUING ALONE"), std::string::npos) << primary->log();

  // The standby returns and catches up: it has everything, and the primary
  // waits for it again.
  link.Resume();
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 3), 3);
  EXPECT_EQ(WaitStandbyState(primary->port(), "sync"), "sync");
  EXPECT_EQ(c.Call(Push("synced"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 4), 4);
  EXPECT_NE(primary->log().find("writes wait for it again"), std::string::npos) << primary->log();
}

TEST(StandbyPolicy, ASilentLinkIsGivenUpAndTheStandbyReconnects) {
  auto primary = StartPrimary();
  FaultProxy link(uint16_t(ReplicationPort(*primary)));
  auto standby = StartStandby(link.port());
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  // Nothing moves and nothing closes: only the heartbeats can tell.
  link.Blackhole();
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline &&
       primary->log().find("the standby sent nothing for") == std::string::npos;)
    std::this_thread::sleep_for(50ms);
  EXPECT_NE(primary->log().find("the standby sent nothing for"), std::string::npos);
  link.Resume();
  EXPECT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  LineClient c = ReadyClient(primary->port());
  EXPECT_EQ(c.Call(Push("after-silence"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 1), 1);
}

TEST(StandbyPolicy, ASecondStandbyIsTurnedAwayWhileTheFirstIsLive) {
  auto primary = StartPrimary();
  const int rport = ReplicationPort(*primary);
  auto first = StartStandby(rport);
  ASSERT_TRUE(WaitAllLinked(first->port())) << first->log();
  auto second = StartStandby(rport);
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline &&
       second->log().find("a primary serves one standby") == std::string::npos;)
    std::this_thread::sleep_for(50ms);
  EXPECT_NE(second->log().find("a primary serves one standby"), std::string::npos)
      << second->log();
  // It keeps trying (it is not told to give up), and the first one stays.
  EXPECT_TRUE(second->Alive());
  LineClient c = ReadyClient(primary->port());
  EXPECT_EQ(c.Call(Push("first-only"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(first->port(), "default", 1), 1);
}

}  // namespace
}  // namespace werk::testing
