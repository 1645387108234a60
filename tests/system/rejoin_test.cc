// Rejoin after a failover, on real processes (docs/replication.md "Rejoin"):
// the old primary, restarted with --replica-of its successor, hears that
// its log diverged, drops its tail (kept aside in a copy) and follows. In
// required mode that tail was never acknowledged, so it goes without asking;
// in degrade mode it may hold acknowledged writes, so the rejoin refuses,
// naming how many records it would drop, until --discard-diverged.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/rejoin.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/subprocess.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

namespace fs = std::filesystem;

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// `part` appears `times` times in the log (false if not within a bound
// meant only to end a hang).
bool WaitLog(const WerkdProcess& p, const std::string& part, size_t times = 1) {
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep))
    if (Count(p.log(), part) >= times) return true;
  return false;
}

ProcessResult WerkctlPromote(int port) {
  return RunProcess({WERKCTL_PATH, "promote"},
                    {{"FAKTORY_URL", "tcp://127.0.0.1:" + std::to_string(port)}}, {"FAKTORY_"});
}

// The forensic copies in a data directory: diverged-e<E>-<time>/shard-NNN.
std::vector<std::string> Copies(const std::string& data_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("diverged-e", 0) != 0) continue;
    for (const auto& s : fs::directory_iterator(e.path(), ec))
      out.push_back(name + "/" + s.path().filename().string());
  }
  return out;
}

// A primary with `policy` whose standby is linked through a proxy, and
// listens for a standby of its own once promoted.
struct Pair {
  explicit Pair(const std::string& policy, const std::string& timeout)
      : primary(StartPrimary({"--standby-policy", policy, "--standby-timeout", timeout})),
        link(uint16_t(ReplicationPort(*primary))),
        standby(StartStandby(link.port(), {}, {"--replication-bind", "127.0.0.1:0"})) {}
  std::unique_ptr<WerkdProcess> primary;  // kept to the end: it owns the data directory
  FaultProxy link;
  std::unique_ptr<WerkdProcess> standby;
};

// The standby is promoted and the primary dies; returns the new primary's
// replication port.
int FailOver(Pair& pair) {
  const ProcessResult r = WerkctlPromote(pair.standby->port());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << pair.standby->log();
  pair.primary->KillNine();
  return ReplicationPort(*pair.standby);
}

// The old primary's second run is up, on the port its first run bound.
void ExpectRestartedAndLinked(const WerkdProcess& p) {
  ASSERT_TRUE(WaitLog(p, "the rejoin's cuts are done")) << p.log();
  ASSERT_TRUE(WaitLog(p, "werk listening on", 2)) << p.log();
  const std::string log = p.log();
  const std::regex port_re("\\(port ([0-9]+)\\)");
  std::vector<int> ports;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), port_re);
       it != std::sregex_iterator(); ++it)
    ports.push_back(std::stoi((*it)[1]));
  ASSERT_GE(ports.size(), 2u) << log;
  EXPECT_EQ(ports.front(), ports.back()) << log;
  EXPECT_TRUE(WaitAllLinked(p.port())) << log;
}

// The records of the log in `data_dir` as werk-wal-dump prints them.
std::string DumpRecords(const std::string& data_dir) {
  std::string out;
  FILE* p = ::popen((std::string(WAL_DUMP_PATH) + " " + data_dir + " --records 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Sends `n` pushes named `prefix`<i> on `c` to a primary with no standby
// to acknowledge them, and waits until its log files hold them all; none
// may be acknowledged. Returns the log's records as last dumped.
std::string PushUnacknowledged(LineClient& c, const std::string& data_dir,
                               const std::string& prefix, size_t n) {
  std::string batch;
  for (size_t i = 0; i < n; ++i) batch += Push(prefix + std::to_string(i)) + "\r\n";
  c.Send(batch);
  std::string dump;
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline &&
       Count(dump = DumpRecords(data_dir), "jid=job-of-" + prefix) < n;)
    std::this_thread::sleep_for(kWaitStep);
  EXPECT_FALSE(c.Read(0)) << "a write acknowledged without its standby";
  return dump;
}

TEST(Rejoin, RequiredModeTheOldPrimaryDropsItsUnacknowledgedTailAndFollows) {
  Pair pair("required", "600");
  auto& [primary, link, standby] = pair;
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  LineClient c = ReadyClient(primary->port());
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(c.Call(Push("acked-" + std::to_string(i)), 60'000), "+OK\r\n");
  ASSERT_EQ(WaitQueueSize(standby->port(), "default", 4), 4);

  // The link stalls: these are logged on the primary and wait for the
  // standby — never acknowledged. Once the primary's log files hold them,
  // it dies.
  link.Pause();
  const std::string dump = PushUnacknowledged(c, primary->data_dir(), "never-acked-", 6);
  ASSERT_EQ(Count(dump, "jid=job-of-never-acked-"), 6u) << dump;
  const int new_primary = FailOver(pair);

  auto rejoined = StartStandby(new_primary, primary->data_dir());
  ExpectRestartedAndLinked(*rejoined);
  const std::string log = rejoined->log();
  EXPECT_NE(log.find("none was acknowledged"), std::string::npos) << log;
  EXPECT_NE(log.find("cut the log after LSN"), std::string::npos) << log;
  EXPECT_FALSE(Copies(primary->data_dir()).empty()) << log;
  EXPECT_FALSE(fs::exists(primary->data_dir() + "/REJOIN"));

  // Both hold what was acknowledged, and nothing else.
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 4), 4);
  EXPECT_EQ(WaitQueueSize(rejoined->port(), "default", 4), 4);
  // It follows the new primary.
  LineClient s = ReadyClient(standby->port());
  ASSERT_EQ(s.Call(Push("after-rejoin"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(rejoined->port(), "default", 5), 5) << rejoined->log();
  // The jobs the old primary never acknowledged were not resurrected.
  for (int i = 0; i < 5; ++i) {
    const std::string job = s.Call("FETCH default", 10'000);
    EXPECT_EQ(job.find("never-acked"), std::string::npos) << job;
    EXPECT_NE(job.find("job-of-"), std::string::npos) << job;
  }
  EXPECT_EQ(s.Call("FETCH default", 10'000), "$-1\r\n");
}

TEST(Rejoin, DegradeModeRefusesToDropWhatMayHaveBeenAcknowledgedUnlessTold) {
  Pair pair("degrade", "1");
  auto& [primary, link, standby] = pair;
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  LineClient c = ReadyClient(primary->port());
  ASSERT_EQ(c.Call(Push("synced"), 60'000), "+OK\r\n");
  ASSERT_EQ(WaitQueueSize(standby->port(), "default", 1), 1);

  // Acknowledged by the primary alone, after the standby timeout.
  link.Pause();
  ASSERT_EQ(c.Call(Push("alone-1"), 60'000), "+OK\r\n");
  ASSERT_EQ(c.Call(Push("alone-2"), 60'000), "+OK\r\n");
  const int new_primary = FailOver(pair);

  // Without the flag: it stops, naming the count, the range and the flag,
  // and changes nothing.
  auto refused = StartStandby(new_primary, primary->data_dir());
  ASSERT_TRUE(Exited(*refused)) << refused->log();
  EXPECT_EQ(WEXITSTATUS(refused->exit_status()), 1);
  const std::string why = refused->log();
  EXPECT_TRUE(std::regex_search(why, std::regex("[0-9]+ records? \\(LSN [0-9]+\\.\\.[0-9]+\\)")))
      << why;
  EXPECT_NE(why.find("--discard-diverged"), std::string::npos) << why;
  EXPECT_NE(why.find("may have been acknowledged"), std::string::npos) << why;
  EXPECT_TRUE(Copies(primary->data_dir()).empty());
  EXPECT_FALSE(fs::exists(primary->data_dir() + "/REJOIN"));

  // With it: the tail goes (a copy is kept), and it follows.
  auto rejoined = StartStandby(new_primary, primary->data_dir(), {"--discard-diverged"});
  ExpectRestartedAndLinked(*rejoined);
  EXPECT_NE(rejoined->log().find("as --discard-diverged asks"), std::string::npos)
      << rejoined->log();
  EXPECT_FALSE(Copies(primary->data_dir()).empty());
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 1), 1);
  EXPECT_EQ(WaitQueueSize(rejoined->port(), "default", 1), 1);
  LineClient s = ReadyClient(standby->port());
  ASSERT_EQ(s.Call(Push("after-rejoin"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(rejoined->port(), "default", 2), 2) << rejoined->log();
}

// A crash during the copy leaves an incomplete copy and a REJOIN file that
// does not record it: the next start makes the copy again, cuts, and
// removes the file. (FinishPendingCuts is what a start with --replica-of
// runs before recovery.)
TEST(Rejoin, APendingCutInterruptedDuringTheCopyIsFinishedByTheNextStart) {
  auto first = std::make_unique<WerkdProcess>(WerkdProcess::Options{.args = {"--shards", "1"}});
  const std::string data = first->data_dir();
  LineClient c = ReadyClient(first->port());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.Call(Push("logged-" + std::to_string(i))), "+OK\r\n");
  first->KillNine();  // LSNs 1..3 in shard 0's log, no checkpoint

  const net::RejoinPlan plan{"diverged-e1-100", {{0, core::Lsn(2), false}}};
  ASSERT_TRUE(net::WriteRejoinMarker(data, plan).ok());
  fs::create_directories(data + "/diverged-e1-100/shard-000");
  { std::ofstream(data + "/diverged-e1-100/shard-000/half-copied") << "x"; }

  // Without --replica-of a pending cut is refused, naming the file.
  try {
    WerkdProcess refused(WerkdProcess::Options{.args = {"--shards", "1"}, .data_dir = data});
    ADD_FAILURE() << "started with a pending cut:\n" << refused.log();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("REJOIN"), std::string::npos) << e.what();
  }

  std::vector<std::string> notes;
  ASSERT_TRUE(net::FinishPendingCuts(data, &notes).ok());
  EXPECT_FALSE(fs::exists(data + "/REJOIN"));
  EXPECT_FALSE(fs::exists(data + "/diverged-e1-100/shard-000/half-copied"));
  EXPECT_FALSE(fs::is_empty(data + "/diverged-e1-100/shard-000"));
  // Run again, it finds nothing to do.
  ASSERT_TRUE(net::FinishPendingCuts(data, &notes).ok());

  // The log keeps LSN 1 only: one job.
  WerkdProcess after(WerkdProcess::Options{.args = {"--shards", "1"}, .data_dir = data});
  EXPECT_EQ(WaitQueueSize(after.port(), "default", 1), 1) << after.log();
}


// The old primary restarted as a primary before it heard of the promotion:
// its restart is a new run of its old epoch, which the new primary never
// had, so a later rejoin cuts everything from where the two logs part —
// even where both logs reach the same LSNs with records of one epoch
// number (docs/replication.md "Epochs": runs, not numbers, tell logs apart).
TEST(Rejoin, AnOldPrimaryRestartedBeforeItHeardOfThePromotionIsCutWhereTheLogsPart) {
  Pair pair("required", "600");
  auto& [primary, link, standby] = pair;
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  LineClient c = ReadyClient(primary->port());
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(c.Call(Push("acked-" + std::to_string(i)), 60'000), "+OK\r\n");
  ASSERT_EQ(WaitQueueSize(standby->port(), "default", 4), 4);

  // Cut off for good (the promoted server's notice never arrives), then
  // the failover; the new primary takes writes alone.
  link.Cut(FaultProxy::NewConnections::kRefuse);
  const int new_primary = FailOver(pair);
  LineClient s = ReadyClient(standby->port());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(s.Call(Push("new-" + std::to_string(i)), 60'000), "+OK\r\n");

  // The old primary comes back as a primary, writes (none acknowledged:
  // it has no standby) and dies again.
  {
    auto again = StartPrimary({"--standby-policy", "required"}, primary->data_dir());
    LineClient a = ReadyClient(again->port());
    const std::string dump = PushUnacknowledged(a, primary->data_dir(), "restart-", 8);
    ASSERT_EQ(Count(dump, "jid=job-of-restart-"), 8u) << dump;
    // Two runs of epoch 1 (the first start and this one), each with its own
    // id, on every shard.
    const std::regex run_re("epoch=1 from LSN [0-9]+ node=[^ ]* run=([0-9a-f]{16})");
    std::set<std::string> runs;
    for (auto it = std::sregex_iterator(dump.begin(), dump.end(), run_re);
         it != std::sregex_iterator(); ++it)
      runs.insert((*it)[1]);
    EXPECT_EQ(runs.size(), 2u) << dump;
    again->KillNine();
  }

  // It rejoins: the restart's records go, and it holds the new primary's.
  auto rejoined = StartStandby(new_primary, primary->data_dir());
  ExpectRestartedAndLinked(*rejoined);
  EXPECT_NE(rejoined->log().find("cut the log after LSN"), std::string::npos) << rejoined->log();
  EXPECT_EQ(WaitQueueSize(rejoined->port(), "default", 7), 7) << rejoined->log();
  ASSERT_EQ(s.Call(Push("after-rejoin"), 60'000), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(rejoined->port(), "default", 8), 8) << rejoined->log();
  LineClient r = ReadyClient(rejoined->port());
  const std::string info = r.Call("INFO");
  EXPECT_NE(info.find("\"role\":\"standby\""), std::string::npos) << info;
  for (int i = 0; i < 8; ++i) {
    const std::string job = s.Call("FETCH default", 10'000);
    EXPECT_EQ(job.find("restart-"), std::string::npos) << job;
    EXPECT_NE(job.find("job-of-"), std::string::npos) << job;
  }
}

}  // namespace
}  // namespace werk::testing
