// Fencing on real processes (docs/replication.md "Fencing"): a primary in
// required mode, alive but cut off from its standby by a proxy, with pushes
// in flight; the standby is promoted. The old primary acknowledges none of
// those pushes nor any later one; once the promoted server's notice
// reaches it (the proxy heals), every one of them gets the deposed error
// naming the new primary, INFO says deposed, and every job it ever
// acknowledged is on the new primary. Restarted without --replica-of, the
// deposed server refuses to start.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/fault_proxy.h"
#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

const std::vector<std::string> kTwoShards = {"--shards", "2"};

// The epoch shard 0's INFO shows (-1: none).
int FirstEpoch(const std::string& info) {
  std::smatch m;
  return std::regex_search(info, m, std::regex("\"epoch\":([0-9]+)")) ? std::stoi(m[1]) : -1;
}

TEST(Fencing, ACutOffPrimaryAcknowledgesNothingAfterThePromotionAndIsDeposedByTheNotice) {
  // Required mode (the default), with a standby timeout long enough that
  // nothing here is refused for the standby's absence: what waits, waits.
  auto primary = StartPrimary(kTwoShards);
  FaultProxy link(uint16_t(ReplicationPort(*primary)));
  auto standby = StartStandby(link.port(), {}, {"--replication-bind", "127.0.0.1:0"});
  const std::string new_primary = "127.0.0.1:" + std::to_string(ReplicationPort(*standby));
  LineClient c = ReadyClient(primary->port());
  constexpr int kAcknowledged = 8;
  for (int i = 0; i < kAcknowledged; ++i)
    ASSERT_EQ(c.Call(Push("acked-" + std::to_string(i)), 60'000), "+OK\r\n") << primary->log();
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  // A promotion takes the highest epoch the standby knows, plus one.
  const int epoch = FirstEpoch(c.Call("INFO")) + 1;
  ASSERT_GT(epoch, 1);

  // Cut off: the old primary lives on, and neither side reaches the other.
  link.Cut(FaultProxy::NewConnections::kRefuse);
  constexpr int kPushes = 4;
  LineClient in_flight = ReadyClient(primary->port());
  for (int i = 0; i < kPushes; ++i)
    in_flight.Send(Push("in-flight-" + std::to_string(i)) + "\r\n");

  LineClient s = ReadyClient(standby->port());
  ASSERT_EQ(s.Call("PROMOTE", 60'000), "+OK\r\n") << standby->log();
  // Writes to the old primary after the promotion, still cut off.
  LineClient later = ReadyClient(primary->port());
  for (int i = 0; i < kPushes; ++i) later.Send(Push("later-" + std::to_string(i)) + "\r\n");
  // Nothing is answered meanwhile (a correct server never fails this).
  EXPECT_FALSE(in_flight.Read(100).has_value());

  // The notice gets through once the proxy heals (the notifier retries).
  link.Pass();
  const std::string deposed = "-ERR werk is deposed by epoch " + std::to_string(epoch) +
                              ": it takes no writes; the primary is " + new_primary +
                              " (its replication address)\r\n";
  for (LineClient* client : {&in_flight, &later})
    for (int i = 0; i < kPushes; ++i) EXPECT_EQ(client->ReadOrFail(120'000), deposed);
  // New writes are refused at once; INFO says what the server is.
  LineClient d = ReadyClient(primary->port());
  EXPECT_EQ(d.Call(Push("after-the-notice"), 60'000), deposed);
  EXPECT_EQ(d.Call("ACK {\"jid\":\"job-of-acked-0\"}", 60'000), deposed);
  // (Each shard publishes its INFO figures on its own next turn.)
  const std::string said = "\"role\":\"deposed\",\"deposed_by\":" + std::to_string(epoch) +
                           ",\"new_primary\":\"" + new_primary + "\"";
  std::string info;
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline && info.find(said) == std::string::npos;
       std::this_thread::sleep_for(kWaitStep))
    info = d.Call("INFO", 60'000);
  EXPECT_NE(info.find(said), std::string::npos) << info;
  EXPECT_NE(primary->log().find("DEPOSED"), std::string::npos) << primary->log();
  EXPECT_NE(standby->log().find("knows it is deposed by epoch"), std::string::npos)
      << standby->log();

  // Everything the old primary acknowledged is on the new one (and only
  // that: nothing it took after the cut was acknowledged, nor got there).
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", kAcknowledged), kAcknowledged);
  EXPECT_EQ(s.Call(Push("on-the-new-primary"), 60'000), "+OK\r\n");

  // Restarted without --replica-of, the deposed server refuses to start,
  // naming the new primary and the way back.
  const std::string data = primary->data_dir();
  c.Close();
  in_flight.Close();
  later.Close();
  d.Close();
  primary->Stop();
  try {
    WerkdProcess again(
        {.args = {"--shards", "2", "--replication-bind", "127.0.0.1:0"}, .data_dir = data});
    ADD_FAILURE() << "a deposed data directory started as a primary:\n" << again.log();
  } catch (const std::runtime_error& e) {
    const std::string why = e.what();
    EXPECT_NE(why.find("deposed by epoch " + std::to_string(epoch)), std::string::npos) << why;
    EXPECT_NE(why.find("restart it with --replica-of " + new_primary), std::string::npos) << why;
  }
}

// The notice is only taken as heard once the old primary's data directory
// says it is deposed: while the marker cannot be written (here a directory
// stands in its way), the old primary answers "try again", the notifier
// keeps trying, and the next try after the way is clear marks it.
TEST(Fencing, TheNoticeCountsAsHeardOnlyOnceTheDepositionIsMarked) {
  auto primary = StartPrimary();
  FaultProxy link(uint16_t(ReplicationPort(*primary)));
  auto standby = StartStandby(link.port(), {}, {"--replication-bind", "127.0.0.1:0"});
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  link.Cut(FaultProxy::NewConnections::kRefuse);
  const std::filesystem::path blocker =
      std::filesystem::path(primary->data_dir()) / "DEPOSED" / "in-the-way";
  std::filesystem::create_directories(blocker);

  LineClient s = ReadyClient(standby->port());
  ASSERT_EQ(s.Call("PROMOTE", 60'000), "+OK\r\n") << standby->log();
  link.Pass();
  auto wait_log = [](const WerkdProcess& p, const std::string& part) {
    for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep))
      if (p.log().find(part) != std::string::npos) return true;
    return false;
  };
  ASSERT_TRUE(wait_log(*primary, "the data directory could not be marked")) << primary->log();
  ASSERT_TRUE(wait_log(*standby, "could not be marked yet")) << standby->log();
  EXPECT_EQ(standby->log().find("knows it is deposed by epoch"), std::string::npos)
      << standby->log();
  // Deposed all the same: writes are refused.
  LineClient c = ReadyClient(primary->port());
  EXPECT_EQ(c.Call(Push("refused"), 60'000).rfind("-ERR werk is deposed by epoch", 0), 0u);

  std::filesystem::remove_all(blocker.parent_path());
  EXPECT_TRUE(wait_log(*standby, "knows it is deposed by epoch")) << standby->log();
  EXPECT_TRUE(std::filesystem::is_regular_file(blocker.parent_path())) << primary->log();
}

}  // namespace
}  // namespace werk::testing
