// One server per data directory and per port, and a default shard count
// that follows the CPUs the process may use: what a rolling update, a stuck
// pod or a container limit would otherwise get wrong.

#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>
#include <stdexcept>
#include <string>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

// The start's failure message, or "" if werkd started.
std::string StartFails(WerkdProcess::Options o) {
  try {
    WerkdProcess server(std::move(o));
    return "";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
}

void PushOk(LineClient& c, const std::string& jid) {
  ASSERT_EQ(c.Call(R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[]})"), "+OK\r\n");
}

TEST(OneServer, ASecondServerOnTheSameDataDirectoryExitsNamingTheHolder) {
  WerkdProcess first;
  LineClient c(first.port());
  c.ReadOrFail();
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  PushOk(c, "one-dir-job-1");
  const std::string why = StartFails({.data_dir = first.data_dir()});
  EXPECT_NE(why.find("exit status 1"), std::string::npos) << why;
  EXPECT_NE(why.find("the data directory " + first.data_dir() + " is in use"), std::string::npos)
      << why;
  EXPECT_NE(why.find("(pid " + std::to_string(first.pid()) + ")"), std::string::npos) << why;
  // The first one never noticed.
  PushOk(c, "one-dir-job-2");
  EXPECT_NE(c.Call("INFO").find("\"total_enqueued\":2"), std::string::npos);
}

TEST(OneServer, TheLockGoesWithAKilledServer) {
  std::string data_dir;
  {
    WerkdProcess first;
    data_dir = first.data_dir();
    LineClient c(first.port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    PushOk(c, "one-dir-kill-1");
    first.KillNine();
    // A restart right after a crash starts (no stale lock to clean up).
    WerkdProcess second({.data_dir = data_dir});
    LineClient d(second.port());
    d.ReadOrFail();
    ASSERT_EQ(d.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    EXPECT_NE(d.Call("INFO").find("\"total_enqueued\":1"), std::string::npos);
  }
}

TEST(OneServer, ASecondProcessCannotJoinThePortWhateverTheShardCount) {
  for (const char* shards : {"1", "2", "4"}) {
    WerkdProcess first({.args = {"--shards", shards}});
    const std::string why = StartFails(
        {.args = {"--shards", shards}, .binding = "127.0.0.1:" + std::to_string(first.port())});
    EXPECT_NE(why.find("exit status 1"), std::string::npos) << shards << ": " << why;
    EXPECT_NE(why.find("Address already in use"), std::string::npos) << shards << ": " << why;
    // Every connection still reaches the first server, on every shard.
    for (int i = 0; i < 8; ++i) {
      LineClient c(first.port());
      c.ReadOrFail();
      ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
      PushOk(c, "one-port-" + std::string(shards) + "-" + std::to_string(i));
    }
    LineClient c(first.port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    EXPECT_NE(c.Call("INFO").find("\"total_enqueued\":8"), std::string::npos);
  }
}

// Connections are dealt to the shards in turn, whichever accepted them.
TEST(OneServer, ConnectionsAreSpreadOverTheShards) {
  WerkdProcess server({.args = {"--shards", "2"}});
  std::vector<LineClient> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back(server.port());
    clients.back().ReadOrFail();
    ASSERT_EQ(clients.back().Call(R"(HELLO {"v":2})"), "+OK\r\n");
  }
  // Each shard's summary counts the connections it holds (refreshed at
  // least every 100 ms: asked until all 8 are counted).
  std::string info;
  std::vector<int> per_shard;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    info = clients[0].Call("INFO");
    per_shard.clear();
    const size_t shards_at = info.find("\"shards\":[");
    ASSERT_NE(shards_at, std::string::npos) << info;
    const std::string tail = info.substr(shards_at);
    const std::regex conns("\"connections\":([0-9]+)");
    for (auto it = std::sregex_iterator(tail.begin(), tail.end(), conns);
         it != std::sregex_iterator(); ++it)
      per_shard.push_back(std::stoi((*it)[1]));
  } while (per_shard.size() == 2 && per_shard[0] + per_shard[1] < 8 &&
           std::chrono::steady_clock::now() < give_up &&
           (std::this_thread::sleep_for(std::chrono::milliseconds(50)), true));
  ASSERT_EQ(per_shard.size(), 2u) << info;
  EXPECT_EQ(per_shard[0], 4) << info;
  EXPECT_EQ(per_shard[1], 4) << info;
}

// Without --shards, one shard per CPU the process may run on: started under
// a one-CPU affinity mask, werkd runs one shard.
TEST(OneServer, TheDefaultShardCountFollowsTheAffinityMask) {
  cpu_set_t saved, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  int first_cpu = 0;
  while (!CPU_ISSET(first_cpu, &saved)) ++first_cpu;
  CPU_ZERO(&one);
  CPU_SET(first_cpu, &one);
  // The child inherits this thread's mask at fork.
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  std::string log;
  std::string info;
  try {
    WerkdProcess server({.args = {"--shards", "0"}});
    LineClient c(server.port());
    c.ReadOrFail();
    EXPECT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    info = c.Call("INFO");
    log = server.log();
  } catch (...) {
    sched_setaffinity(0, sizeof saved, &saved);
    throw;
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_NE(log.find("1 shard(s): 1 CPUs in this process's affinity mask"), std::string::npos)
      << log;
  EXPECT_NE(log.find(", 1 shard\n"), std::string::npos) << log;
  // And with the whole mask: one per CPU (capped by a cgroup quota if any).
  WerkdProcess server({.args = {"--shards", "0"}});
  const std::string all = server.log();
  EXPECT_NE(all.find(" CPUs in this process's affinity mask"), std::string::npos) << all;
  const int cpus = CPU_COUNT(&saved);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(all, m, std::regex("([0-9]+) shard\\(s\\): ([0-9]+) CPUs")))
      << all;
  EXPECT_EQ(std::stoi(m[2]), cpus);
  EXPECT_LE(std::stoi(m[1]), cpus);
  EXPECT_GE(std::stoi(m[1]), 1);
}

}  // namespace
}  // namespace werk::testing
