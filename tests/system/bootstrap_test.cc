// A standby bootstrapped from its primary's checkpoint, as real processes
// (docs/replication.md "Bootstrap"): a standby further behind than the
// primary's oldest log file — a new one after a clean stop of the primary,
// or one that was down while the primary checkpointed past it — receives
// the newest checkpoint, installs it at a restart in the same process, and
// follows the log from there; a crash of the standby during it loses
// nothing.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "net/bootstrap.h"
#include "wal/log_format.h"
#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

using namespace std::chrono_literals;

// Small segments, so a checkpoint releases some of the log.
const std::vector<std::string> kSmallLog = {"--segment-bytes", "65536"};

// A job whose body makes the log grow (~300 bytes a record).
std::string BigPush(const std::string& name, const std::string& queue = "default",
                    const std::string& extra = "") {
  return R"(PUSH {"jid":"job-of-)" + name + R"(","jobtype":"T","args":[")" +
         std::string(240, 'x') + R"("],"queue":")" + queue + "\"" + extra + "}";
}

// What INFO says of the jobs: the queues and the sets (scheduled, retries,
// dead, working).
std::string Jobs(const std::string& info) {
  std::smatch q, s;
  const std::regex queues("\"queues\":\\{[^}]*\\}");
  const std::regex sets("\"sets\":\\{[^}]*\\}");
  std::string out;
  if (std::regex_search(info, q, queues)) out += q[0];
  if (std::regex_search(info, s, sets)) out += s[0];
  return out;
}

// INFO from a fresh connection (the standby restarts in its process, which
// ends connections), or empty if the server does not answer.
std::string FreshInfo(int port) {
  try {
    LineClient c = ReadyClient(port);
    return c.Call("INFO");
  } catch (const std::exception& e) {
    return std::string("no INFO: ") + e.what();
  }
}

// The standby at `port` is linked on every shard with nothing to catch up,
// and holds `jobs` (false if not within a bound meant only to end a hang).
bool WaitHolds(int port, const std::string& jobs, std::string* last) {
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    const std::string info = FreshInfo(port);
    *last = info;
    if (info.find("\"linked\":false") == std::string::npos &&
        info.find("\"linked\":true") != std::string::npos && Jobs(info) == jobs)
      return true;
  }
  return false;
}

// Jobs in every state: queued on two queues, scheduled, a retry, a dead
// one and a reservation.
void MakeJobs(int port, int n) {
  LineClient c = ReadyClient(port);
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(c.Call(BigPush("q-" + std::to_string(i), i % 4 == 0 ? "other" : "default")),
              "+OK\r\n");
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c.Call(BigPush("later-" + std::to_string(i), "default",
                             R"(,"at":"2099-01-01T00:00:00Z")")),
              "+OK\r\n");
  ASSERT_EQ(c.Call(BigPush("retry", "failing", R"(,"retry":5)")), "+OK\r\n");
  ASSERT_EQ(c.Call(BigPush("dead", "failing", R"(,"retry":0)")), "+OK\r\n");
  // Either may come first (one per shard); each fails once.
  for (int i = 0; i < 2; ++i) {
    const std::string fetched = c.Call("FETCH failing");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(fetched, m, std::regex("\"jid\":\"([^\"]+)\""))) << fetched;
    ASSERT_EQ(c.Call(R"(FAIL {"jid":")" + m[1].str() + R"(","errtype":"E","message":"m"})"),
              "+OK\r\n");
  }
  const std::string fetched = c.Call("FETCH other");
  ASSERT_NE(fetched.find("job-of-q-"), std::string::npos) << fetched;
}

TEST(Bootstrap, AFreshStandbyOfARestartedPrimaryHoldsItsJobs) {
  std::string data;
  auto first = std::make_unique<WerkdProcess>(WerkdProcess::Options{.args = kSmallLog});
  data = first->data_dir();
  MakeJobs(first->port(), 600);
  // (A primary waiting for its standby answers INFO only once it is there.)
  const std::string info = FreshInfo(first->port());
  const std::string want = Jobs(info);
  ASSERT_NE(want.find("\"other\":149"), std::string::npos) << info;
  // A clean stop ends with a checkpoint, which releases the log it covers.
  ASSERT_EQ(first->Stop(), 0) << first->log();
  auto primary = StartPrimary(kSmallLog, data);
  auto standby = StartStandby(ReplicationPort(*primary));
  std::string last;
  EXPECT_TRUE(WaitHolds(standby->port(), want, &last)) << want << "\n" << last << "\n"
                                                       << standby->log();
  EXPECT_NE(standby->log().find("bootstrapping from its checkpoint"), std::string::npos)
      << standby->log();
  EXPECT_NE(standby->log().find("now holds only the primary's checkpoint"), std::string::npos)
      << standby->log();
  // It follows on: a write is acknowledged once the standby has it.
  LineClient c = ReadyClient(primary->port());
  ASSERT_EQ(c.Call(BigPush("after", "other")), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(standby->port(), "other", 150), 150);
  EXPECT_EQ(standby->Stop(), 0) << standby->log();
  EXPECT_EQ(primary->Stop(), 0) << primary->log();
}

// Writes acknowledged while the standby is bootstrapped are on it after.
TEST(Bootstrap, WritesAcknowledgedDuringABootstrapAreOnTheStandby) {
  auto first = std::make_unique<WerkdProcess>(WerkdProcess::Options{.args = kSmallLog});
  const std::string data = first->data_dir();
  // Enough that every shard's log outgrows a segment, at any shard count
  // the suite runs with (jobs are spread over the shards by jid).
  MakeJobs(first->port(), 1600);
  ASSERT_EQ(first->Stop(), 0) << first->log();
  auto primary = StartPrimary(kSmallLog, data);
  auto standby = StartStandby(ReplicationPort(*primary));
  // Required mode: each reply waits until the standby has the write, which
  // is once it is bootstrapped and follows the log.
  std::thread pusher([port = primary->port()] {
    LineClient c = ReadyClient(port);
    for (int i = 0; i < 30; ++i)
      EXPECT_EQ(c.Call(BigPush("during-" + std::to_string(i), "during"), 90'000), "+OK\r\n");
  });
  pusher.join();
  EXPECT_EQ(WaitQueueSize(standby->port(), "during", 30), 30) << standby->log();
  EXPECT_NE(standby->log().find("bootstrapping from its checkpoint"), std::string::npos)
      << standby->log();
  const std::string want = Jobs(FreshInfo(primary->port()));
  std::string last;
  EXPECT_TRUE(WaitHolds(standby->port(), want, &last)) << want << "\n" << last;
}

// A standby down while its primary checkpoints past it catches up by a
// bootstrap.
TEST(Bootstrap, AStandbyDownWhileThePrimaryCheckpointsCatchesUp) {
  std::vector<std::string> args = kSmallLog;
  args.insert(args.end(), {"--checkpoint-log-bytes", "131072", "--standby-policy", "degrade",
                           "--standby-timeout", "0.2"});
  auto primary = StartPrimary(args);
  const int rport = ReplicationPort(*primary);
  auto standby = StartStandby(rport);
  LineClient c = ReadyClient(primary->port());
  for (int i = 0; i < 50; ++i) ASSERT_EQ(c.Call(BigPush("a-" + std::to_string(i))), "+OK\r\n");
  ASSERT_EQ(WaitQueueSize(standby->port(), "default", 50), 50);
  const std::string standby_data = standby->data_dir();
  ASSERT_EQ(standby->Stop(), 0) << standby->log();
  // Alone after the timeout; the log grows past a few checkpoints.
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(c.Call(BigPush("b-" + std::to_string(i))), "+OK\r\n");
  auto again = StartStandby(rport, standby_data);
  const std::string want = Jobs(FreshInfo(primary->port()));
  std::string last;
  EXPECT_TRUE(WaitHolds(again->port(), want, &last)) << want << "\n" << last << "\n"
                                                     << again->log();
  EXPECT_NE(again->log().find("bootstrapping from its checkpoint"), std::string::npos)
      << again->log() << primary->log();
}

// kill -9 of the standby as soon as its checkpoint is staged (during the
// install or just before it): its next start finishes the install, or
// bootstraps again, and holds the primary's jobs.
// The install's crash point between its two renames, made by hand: the
// shard's log directory is then missing (renamed to .old) and the staged
// checkpoint not yet in its place. The next start finishes the install
// before it checks the data directory's shape.
TEST(Bootstrap, AStartFinishesAnInstallCutBetweenItsRenames) {
  auto first = std::make_unique<WerkdProcess>(WerkdProcess::Options{.args = {"--shards", "1"}});
  const std::string data = first->data_dir();
  MakeJobs(first->port(), 20);
  const std::string want = Jobs(FreshInfo(first->port()));
  ASSERT_EQ(first->Stop(), 0) << first->log();  // ends with a checkpoint
  const std::string live = data + "/wal/shard-000";
  const std::string staged = net::BootstrapStagingDir(data, 0);
  uint64_t lsn = 0;
  for (const auto& e : std::filesystem::directory_iterator(live)) {
    uint64_t l = 0;
    if (wal::ParseCheckpointName(e.path().filename().string(), &l)) lsn = std::max(lsn, l);
  }
  ASSERT_GT(lsn, 0u);
  std::filesystem::create_directories(staged);
  std::filesystem::copy_file(live + "/" + wal::CheckpointName(lsn),
                             staged + "/" + wal::CheckpointName(lsn));
  ASSERT_TRUE(net::WriteBootstrapMarker(data, {{0, core::Lsn(lsn)}}).ok());
  std::filesystem::rename(live, live + ".old");
  WerkdProcess again({.args = {"--shards", "1"}, .data_dir = data});
  EXPECT_EQ(Jobs(FreshInfo(again.port())), want) << again.log();
  EXPECT_FALSE(std::filesystem::exists(data + "/BOOTSTRAP"));
  EXPECT_FALSE(std::filesystem::exists(live + ".old"));
  EXPECT_FALSE(std::filesystem::exists(staged));
}

TEST(Bootstrap, AStandbyKilledDuringTheInstallRecovers) {
  auto first = std::make_unique<WerkdProcess>(WerkdProcess::Options{.args = kSmallLog});
  const std::string data = first->data_dir();
  MakeJobs(first->port(), 600);
  const std::string want = Jobs(FreshInfo(first->port()));
  ASSERT_EQ(first->Stop(), 0) << first->log();
  auto primary = StartPrimary(kSmallLog, data);
  const int rport = ReplicationPort(*primary);
  auto standby = StartStandby(rport);
  const std::string standby_data = standby->data_dir();
  bool staged = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       !staged && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(1ms))
    staged = standby->log().find("is staged and verified") != std::string::npos;
  ASSERT_TRUE(staged) << standby->log();
  standby->KillNine();
  auto again = StartStandby(rport, standby_data);
  std::string last;
  EXPECT_TRUE(WaitHolds(again->port(), want, &last)) << want << "\n" << last << "\n"
                                                     << again->log();
  EXPECT_FALSE(std::filesystem::exists(standby_data + "/BOOTSTRAP"));
  EXPECT_FALSE(std::filesystem::exists(standby_data + "/wal/shard-000.bootstrap"));
  EXPECT_FALSE(std::filesystem::exists(standby_data + "/wal/shard-000.old"));
}

}  // namespace
}  // namespace werk::testing
