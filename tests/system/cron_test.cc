// Cron on the real werkd (docs/cron.md): an every-minute entry across kill
// -9 just after and just before minute boundaries, with a worker ACKing
// every tick's job (so a tick fired twice would be a second job, not a
// refused jid); SIGHUP reloads; INFO's block; `werkctl cron`.
//
// The kill test waits for real minute boundaries (about two minutes): it
// runs in the main suites, not again in each shard-count pass.

#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/subprocess.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

using Clock = std::chrono::system_clock;

constexpr char kEveryMinute[] = R"([[cron]]
  name = "tick"
  schedule = "* * * * *"
  [cron.job]
    type = "Tick"
    queue = "cron"
)";

LineClient Connect(int port) {
  LineClient c(port);
  c.ReadOrFail();
  EXPECT_EQ(c.Call(R"(HELLO {"v":2,"wid":"cron-test-worker","hostname":"h","pid":1})"),
            "+OK\r\n");
  return c;
}

// Fetches and ACKs every job of the cron queue; returns their jids. FETCH
// waits up to 2 s when the queue is empty, which ends the drain.
std::vector<std::string> Drain(int port) {
  LineClient c = Connect(port);
  std::vector<std::string> jids;
  for (;;) {
    const std::string reply = c.Call("FETCH cron", 60'000);
    if (reply == "$-1\r\n") break;
    const size_t at = reply.find("\"jid\":\"");
    if (at == std::string::npos) {
      ADD_FAILURE() << "FETCH answered " << reply;
      break;
    }
    const std::string jid = reply.substr(at + 7, reply.find('"', at + 7) - at - 7);
    jids.push_back(jid);
    EXPECT_EQ(c.Call(R"(ACK {"jid":")" + jid + R"("})", 60'000), "+OK\r\n");
  }
  return jids;
}

// The tick of a cron jid ("cron-<id>-<tick>").
int64_t TickOf(const std::string& jid) { return std::stoll(jid.substr(jid.rfind('-') + 1)); }

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}
void SleepUntil(int64_t unix_s, int64_t plus_ms = 0) {
  std::this_thread::sleep_until(Clock::time_point(std::chrono::seconds(unix_s)) +
                                std::chrono::milliseconds(plus_ms));
}

// "2026-12-03T17:00:00" for a tick (INFO's times, without the zone).
std::string Iso(int64_t tick) {
  char buf[32];
  const time_t t = tick;
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&t));
  return buf;
}

// Waits until INFO says `tick` is the entry's latest fired (a bound meant
// only to end a hang: a slow start under a sanitizer fires it late).
bool WaitFired(int port, int64_t tick) {
  LineClient c = Connect(port);
  for (int i = 0; i < 1200; ++i) {
    if (c.Call("INFO", 60'000).find("\"last\":\"" + Iso(tick)) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(CronClock, KillNineAroundMinuteBoundariesFiresEachTickExactlyOnce) {
  char tmpl[] = "/tmp/werk-cron-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  const WerkdProcess::Options opts{.config_files = {{"cron.toml", kEveryMinute}},
                                   .data_dir = root + "/data"};
  // Start well inside a minute, so the first tick is the next boundary.
  while (NowS() % 60 < 3 || NowS() % 60 > 50) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto server = std::make_unique<WerkdProcess>(opts);
  const int64_t b0 = (NowS() / 60 + 1) * 60, b1 = b0 + 60;
  std::map<int64_t, int> fetched;  // tick -> times fetched
  auto count = [&](int port) {
    for (const std::string& jid : Drain(port)) ++fetched[TickOf(jid)];
  };

  // Just after a boundary: the tick's record may or may not be durable.
  SleepUntil(b0, 50);
  server->KillNine();
  server = std::make_unique<WerkdProcess>(opts);
  SleepUntil(b0, 2500);
  ASSERT_TRUE(WaitFired(server->port(), b0)) << server->log();
  count(server->port());

  // Just before the next one: the restarted server fires it, on time or
  // late within the grace.
  SleepUntil(b1, -300);
  server->KillNine();
  server = std::make_unique<WerkdProcess>(opts);
  SleepUntil(b1, 2500);
  ASSERT_TRUE(WaitFired(server->port(), b1)) << server->log();
  count(server->port());

  EXPECT_EQ(fetched, (std::map<int64_t, int>{{b0, 1}, {b1, 1}}));
  server.reset();
  std::filesystem::remove_all(root);
}

// Only the primary fires; its standby, promoted just after a tick whose
// record may or may not have reached it, fires that tick if it did not:
// exactly once either way.
TEST(CronClock, APromotedStandbyFiresTheTickInFlightExactlyOnce) {
  const ConfigFiles files = {{"cron.toml", kEveryMinute}};
  while (NowS() % 60 < 3 || NowS() % 60 > 45) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto primary = StartPrimary({}, {}, files);
  auto standby = StartStandby(ReplicationPort(*primary), {}, {}, files);
  ASSERT_TRUE(WaitAllLinked(primary->port())) << primary->log();
  const int64_t b0 = (NowS() / 60 + 1) * 60;
  {
    LineClient s = Connect(standby->port());
    EXPECT_NE(s.Call("INFO").find(R"("cron":{"active":false,)"), std::string::npos);
  }
  SleepUntil(b0, 50);
  primary->KillNine();
  {
    LineClient s = Connect(standby->port());
    ASSERT_EQ(s.Call("PROMOTE", 60'000), "+OK\r\n") << standby->log();
  }
  SleepUntil(b0, 2500);
  ASSERT_TRUE(WaitFired(standby->port(), b0)) << standby->log();
  std::map<int64_t, int> fetched;
  for (const std::string& jid : Drain(standby->port())) ++fetched[TickOf(jid)];
  EXPECT_EQ(fetched, (std::map<int64_t, int>{{b0, 1}})) << standby->log();
  LineClient s = Connect(standby->port());
  EXPECT_NE(s.Call("INFO").find(R"("cron":{"active":true,)"), std::string::npos);
}

TEST(Cron, InfoShowsTheTableAndWerkctlListsIt) {
  WerkdProcess server({.config_files = {{"cron.toml", R"([[cron]]
  name = "monthly-invoices"
  schedule = "0 12 27 * *"
  timezone = "America/Chicago"
  [cron.job]
    type = "Invoice"
    args = [1, "two"]
    retry = 3
)"}}});
  LineClient c = Connect(server.port());
  const std::string info = c.Call("INFO");
  EXPECT_NE(info.find(R"("cron":{"active":true,)"), std::string::npos) << info;
  EXPECT_NE(info.find(R"("name":"monthly-invoices","schedule":"0 12 27 * *","timezone":"America/Chicago")"),
            std::string::npos)
      << info;
  const ProcessResult r =
      RunProcess({WERKCTL_PATH, "cron"}, {{"FAKTORY_URL", "tcp://127.0.0.1:" + std::to_string(server.port())}},
                 {"FAKTORY_"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cron: firing, 1 entries"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("monthly-invoices"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("America/Chicago"), std::string::npos) << r.out;
}

TEST(Cron, ABadEntryRefusesTheStartNamingFileEntryAndField) {
  try {
    WerkdProcess server({.config_files = {{"cron.toml", R"([[cron]]
  schedule = "0 12 32 * *"
  [cron.job]
    type = "Invoice"
)"}}});
    FAIL() << "werkd started with a bad cron entry";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cron.toml:2: [[cron]] entry 1 (0 12 32 * *): schedule: day-of-month"), std::string::npos) << what;
    EXPECT_NE(what.find("day-of-month"), std::string::npos) << what;
  }
}

// Waits (bounded) until INFO contains `text`.
bool InfoShows(int port, const std::string& text) {
  LineClient c = Connect(port);
  for (int i = 0; i < 600; ++i) {
    if (c.Call("INFO").find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST(Cron, SighupReloadsTheTableAndKeepsItWhenTheNewOneIsBad) {
  WerkdProcess server({.config_files = {{"cron.toml", kEveryMinute}}});
  ASSERT_TRUE(InfoShows(server.port(), R"("name":"tick")"));
  const std::string file = server.dir() + "/config/conf.d/cron.toml";
  std::ofstream(file) << std::string(kEveryMinute) + R"([[cron]]
  name = "nightly"
  schedule = "30 2 * * *"
  timezone = "Europe/Berlin"
  [cron.job]
    type = "Nightly"
)";
  ::kill(server.pid(), SIGHUP);
  ASSERT_TRUE(InfoShows(server.port(), R"("name":"nightly")")) << server.log();
  // A bad table: logged with its file and entry; the one in use stays.
  std::ofstream(file) << "[[cron]]\n  schedule = \"* * * *\"\n  [cron.job]\n    type = \"T\"\n";
  ::kill(server.pid(), SIGHUP);
  for (int i = 0; i < 600 && server.log().find("was not reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::string log = server.log();
  EXPECT_NE(log.find("was not reloaded"), std::string::npos) << log;
  EXPECT_NE(log.find("cron.toml:2: [[cron]] entry 1 (* * * *): schedule:"), std::string::npos) << log;
  EXPECT_TRUE(InfoShows(server.port(), R"("name":"nightly")"));
  EXPECT_TRUE(server.Alive());
}

}  // namespace
}  // namespace werk::testing
