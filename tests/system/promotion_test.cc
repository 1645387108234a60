// Promotion on real processes (docs/replication.md "Promotion"): the
// primary dies, PROMOTE makes its standby the primary, and what the old
// primary acknowledged goes on there — a fetched job is ACKed, reservations
// expire and scheduled jobs fire on the new primary (never while it is a
// standby), and the new primary writes alone until a standby of its own
// attaches.

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/subprocess.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

// INFO once `want(info)` holds (the last one read if it never does within
// a bound meant only to end a hang).
std::string WaitInfo(int port, const std::function<bool(const std::string&)>& want) {
  LineClient c = ReadyClient(port);
  std::string info;
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep)) {
    info = c.Call("INFO");
    if (want(info)) return info;
  }
  return info;
}

bool Has(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

// The epoch every shard's INFO shows (-1 if they differ or none does).
int Epoch(const std::string& info) {
  const std::regex re("\"epoch\":([0-9]+)");
  int epoch = -1;
  for (auto it = std::sregex_iterator(info.begin(), info.end(), re); it != std::sregex_iterator();
       ++it) {
    const int e = std::stoi((*it)[1]);
    if (epoch >= 0 && e != epoch) return -1;
    epoch = e;
  }
  return epoch;
}

ProcessResult WerkctlPromote(int port) {
  return RunProcess({WERKCTL_PATH, "promote"},
                    {{"FAKTORY_URL", "tcp://127.0.0.1:" + std::to_string(port)}}, {"FAKTORY_"});
}

// A job whose `at` is `seconds` from now (whole seconds, RFC 3339).
std::string ScheduledPush(const std::string& name, const std::string& queue, int seconds,
                          std::chrono::system_clock::time_point* at) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) +
                        seconds;
  *at = std::chrono::system_clock::from_time_t(t);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return R"(PUSH {"jid":"job-of-)" + name + R"(","jobtype":"T","args":[],"queue":")" + queue +
         R"(","at":")" + when + R"("})";
}

const std::vector<std::string> kTwoShards = {"--shards", "2"};

TEST(Promotion, AJobFetchedOnTheDeadPrimaryIsAckedOnThePromotedStandby) {
  auto primary = StartPrimary(kTwoShards);
  auto standby = StartStandby(ReplicationPort(*primary));
  LineClient p = ReadyClient(primary->port());
  for (int i = 0; i < 40; ++i) ASSERT_EQ(p.Call(Push("pushed-" + std::to_string(i))), "+OK\r\n");
  // A worker holds one job when the primary dies.
  const std::string fetched = p.Call("FETCH default");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(fetched, m, std::regex("\"jid\":\"(job-of-pushed-[0-9]+)\"")))
      << fetched;
  const std::string jid = m[1];
  primary->KillNine();

  const ProcessResult r = WerkctlPromote(standby->port());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << standby->log();
  EXPECT_NE(r.out.find("OK\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is now the primary, epoch "), std::string::npos) << r.out;

  LineClient s = ReadyClient(standby->port());
  EXPECT_EQ(s.Call(R"(ACK {"jid":")" + jid + R"("})"), "+OK\r\n");
  // Every acknowledged job is there, and the new primary takes writes.
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 39), 39);
  EXPECT_EQ(s.Call(Push("after-promotion")), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(standby->port(), "default", 40), 40);
  const std::string info = WaitInfo(standby->port(), [](const std::string& i) {
    return i.find("\"working\":0") != std::string::npos;
  });
  EXPECT_NE(info.find("\"role\":\"primary\""), std::string::npos) << info;
  EXPECT_EQ(info.find("\"role\":\"standby\""), std::string::npos) << info;
  EXPECT_NE(info.find("\"working\":0"), std::string::npos) << info;
  const std::string log = standby->log();
  EXPECT_NE(log.find("werk is now the PRIMARY"), std::string::npos) << log;
  EXPECT_NE(log.find("NO STANDBY"), std::string::npos) << log;
}

TEST(Promotion, AReservationOfTheDeadPrimaryExpiresOnlyOnceTheStandbyIsPromoted) {
  // The shortest reservation allowed here: a second.
  const std::vector<std::string> args = {"--shards", "2", "--reserve-for-min", "1"};
  auto primary = StartPrimary(args);
  auto standby = StartStandby(ReplicationPort(*primary), {}, args);
  LineClient p = ReadyClient(primary->port());
  ASSERT_EQ(p.Call(R"(PUSH {"jid":"job-of-held","jobtype":"T","args":[],"queue":"held",)"
                   R"("reserve_for":1})"),
            "+OK\r\n");
  ASSERT_NE(p.Call("FETCH held").find("job-of-held"), std::string::npos);
  const auto fetched_at = std::chrono::steady_clock::now();
  primary->KillNine();
  // The reservation is overdue, and the standby keeps it as it is.
  std::this_thread::sleep_until(fetched_at + std::chrono::seconds(2));
  LineClient s = ReadyClient(standby->port());
  std::string info = s.Call("INFO");
  EXPECT_NE(info.find("\"working\":1"), std::string::npos) << info;
  EXPECT_NE(info.find("\"total_failures\":0"), std::string::npos) << info;

  ASSERT_EQ(s.Call("PROMOTE"), "+OK\r\n") << standby->log();
  // Expired: a failure, as on the primary (the job goes to the retries).
  info = WaitInfo(standby->port(), [](const std::string& i) {
    return i.find("\"total_failures\":1") != std::string::npos &&
           i.find("\"working\":0") != std::string::npos;
  });
  EXPECT_NE(info.find("\"total_failures\":1"), std::string::npos) << info;
  EXPECT_NE(info.find("\"working\":0"), std::string::npos) << info;
  // Fetchable again once retried (the retry is requeued at once, unless it
  // has fired already).
  ASSERT_EQ(s.Call(R"(MUTATE {"cmd":"requeue","target":"retries"})"), "+OK\r\n");
  EXPECT_NE(s.Call("FETCH held").find("job-of-held"), std::string::npos);
}

TEST(Promotion, AScheduledJobFiresOnlyOnceTheStandbyIsPromoted) {
  auto primary = StartPrimary(kTwoShards);
  auto standby = StartStandby(ReplicationPort(*primary));
  LineClient p = ReadyClient(primary->port());
  std::chrono::system_clock::time_point at;
  ASSERT_EQ(p.Call(ScheduledPush("later", "later", 3, &at)), "+OK\r\n");
  primary->KillNine();
  // Due, and still scheduled on the standby.
  std::this_thread::sleep_until(at + std::chrono::seconds(1));
  LineClient s = ReadyClient(standby->port());
  const std::string before = s.Call("INFO");
  EXPECT_NE(before.find("\"scheduled\":1"), std::string::npos) << before;
  EXPECT_FALSE(Has(before, "\"later\":[1-9]")) << before;

  ASSERT_EQ(s.Call("PROMOTE"), "+OK\r\n") << standby->log();
  EXPECT_EQ(WaitQueueSize(standby->port(), "later", 1), 1);
  EXPECT_NE(s.Call("FETCH later").find("job-of-later"), std::string::npos);
}

TEST(Promotion, APrimaryRefusesPromote) {
  WerkdProcess plain({.args = kTwoShards});
  LineClient c = ReadyClient(plain.port());
  EXPECT_EQ(c.Call("PROMOTE"), "-ERR werk is already the primary (epoch 1)\r\n");
  EXPECT_EQ(c.Call("PROMOTE now"), "-ERR PROMOTE takes no argument\r\n");
  // A primary with a standby: its epoch is its run's.
  auto primary = StartPrimary(kTwoShards);
  LineClient p = ReadyClient(primary->port());
  const std::string reply = p.Call("PROMOTE");
  EXPECT_TRUE(Has(reply, "^-ERR werk is already the primary \\(epoch [0-9]+\\)\r\n$")) << reply;
  // werkctl says so and fails.
  const ProcessResult r = WerkctlPromote(plain.port());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the server refused PROMOTE: ERR werk is already the primary (epoch 1)"),
            std::string::npos)
      << r.err;
}

TEST(Promotion, TwiceAndAfterARestartThePromotedNodeStaysPrimary) {
  auto primary = StartPrimary(kTwoShards);
  auto standby = StartStandby(ReplicationPort(*primary));
  LineClient p = ReadyClient(primary->port());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p.Call(Push("kept-" + std::to_string(i))), "+OK\r\n");
  const std::string old_info = WaitInfo(standby->port(), [](const std::string& i) {
    return i.find("\"default\":10") != std::string::npos;
  });
  const int old_epoch = Epoch(old_info);
  ASSERT_GT(old_epoch, 0) << old_info;
  primary->KillNine();

  LineClient s = ReadyClient(standby->port());
  ASSERT_EQ(s.Call("PROMOTE"), "+OK\r\n") << standby->log();
  // Each shard's INFO figures are published on its own next turn, so they
  // may agree a moment after the +OK.
  const int epoch = Epoch(WaitInfo(standby->port(), [&](const std::string& i) {
    return Epoch(i) == old_epoch + 1;
  }));
  EXPECT_EQ(epoch, old_epoch + 1);
  const std::string again = "-ERR werk is already the primary (epoch " + std::to_string(epoch) +
                            ")\r\n";
  EXPECT_EQ(s.Call("PROMOTE"), again);
  ASSERT_EQ(s.Call(Push("after-promotion")), "+OK\r\n");

  // Restarted as a primary (without --replica-of): still there, same epoch.
  const std::string data = standby->data_dir();
  s.Close();
  EXPECT_EQ(standby->Stop(), 0) << standby->log();
  // As a standby again (deposed), it follows only a primary of a newer
  // epoch than its promotion's (docs/replication.md "Rejoin").
  {
    WerkdProcess as_standby({.args = {"--shards", "2", "--replica-of", "127.0.0.1:1"},
                             .data_dir = data});
    const std::string log = as_standby.log();
    EXPECT_NE(log.find("this data directory was promoted to primary at epoch " +
                       std::to_string(epoch)),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("follows only a primary of epoch " + std::to_string(epoch + 1)),
              std::string::npos)
        << log;
    EXPECT_EQ(as_standby.Stop(), 0) << as_standby.log();
  }
  WerkdProcess restarted({.args = kTwoShards, .data_dir = data});
  EXPECT_EQ(WaitQueueSize(restarted.port(), "default", 11), 11);
  LineClient r = ReadyClient(restarted.port());
  EXPECT_EQ(r.Call("PROMOTE"), again);
  EXPECT_EQ(r.Call(Push("after-restart")), "+OK\r\n");
}

TEST(Promotion, APromotedStandbyTakesAStandbyOfItsOwn) {
  auto primary = StartPrimary(kTwoShards);
  auto standby = StartStandby(ReplicationPort(*primary), {},
                              {"--replication-bind", "127.0.0.1:0"});
  LineClient p = ReadyClient(primary->port());
  ASSERT_EQ(p.Call(Push("before")), "+OK\r\n");
  primary->KillNine();
  LineClient s = ReadyClient(standby->port());
  ASSERT_EQ(s.Call("PROMOTE"), "+OK\r\n") << standby->log();
  // Alone: acknowledged from its own log.
  ASSERT_EQ(s.Call(Push("alone")), "+OK\r\n");
  auto second = StartStandby(ReplicationPort(*standby));
  EXPECT_TRUE(WaitAllLinked(second->port())) << second->log();
  // Linked: writes wait for the new standby again, and it has everything.
  ASSERT_EQ(s.Call(Push("linked")), "+OK\r\n");
  EXPECT_EQ(WaitQueueSize(second->port(), "default", 3), 3);
  const std::string info = s.Call("INFO");
  EXPECT_NE(info.find("\"linked\":true"), std::string::npos) << info;
  // Once caught up, the promoted primary waits for its standby again.
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline &&
       s.Call("INFO").find("\"standby_state\":\"sync\"") == std::string::npos;)
    std::this_thread::sleep_for(kWaitStep);
  EXPECT_NE(s.Call("INFO").find("\"standby_state\":\"sync\""), std::string::npos);
  const std::string log = standby->log();
  EXPECT_NE(log.find("writes wait for it again"), std::string::npos) << log;
}

}  // namespace
}  // namespace werk::testing
