// A failover under load on real processes (docs/replication.md "Failover
// runbook"): pushers and workers run against a primary with its standby in
// required mode; the primary is killed (-9) while they run, and the standby
// is promoted. Against what every client was told before the crash:
//   - no acknowledged push is lost (I1): each is queued on the new primary,
//     or reserved there by a FETCH whose reply the crash swallowed (at most
//     one per worker);
//   - no acknowledged ACK's job is delivered again (I2);
//   - every job a worker held at the crash is reserved on the new primary,
//     and ACKing it there takes its reservation away (I3).
// The crash comes once enough has happened (counts, not time).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/subprocess.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

// What the clients were told, and what was still in flight when the
// primary died.
struct Ledger {
  std::mutex mu;
  std::set<std::string> pushed;          // PUSH answered +OK
  std::set<std::string> acked;           // ACK answered +OK
  std::set<std::string> held;            // fetched and kept, never ACKed
  std::set<std::string> ack_in_flight;   // ACK sent, no answer: ACKed or not
  int fetches_in_flight = 0;             // FETCH sent, no answer: a job may be reserved
  size_t Count(const std::set<std::string>& s) {
    std::lock_guard<std::mutex> l(mu);
    return s.size();
  }
};

// Sends `line`, returns its answer (nullopt once the server is gone).
std::optional<std::string> Ask(LineClient& c, const std::string& line) {
  if (!c.TrySend(line + "\r\n")) return std::nullopt;
  return c.Read(60'000);
}

void Pusher(int port, int id, Ledger& ledger, const std::atomic<bool>* stop) {
  LineClient c = ReadyClient(port);
  for (int i = 0; !(stop && stop->load()); ++i) {
    const std::string name = "p" + std::to_string(id) + "-" + std::to_string(i);
    const std::optional<std::string> r = Ask(c, Push(name));
    if (!r || *r != "+OK\r\n") return;  // the primary is gone
    std::lock_guard<std::mutex> l(ledger.mu);
    ledger.pushed.insert("job-of-" + name);
  }
}

// Fetches and ACKs, keeping every fifth job fetched (up to 8) unACKed.
void Worker(int port, Ledger& ledger) {
  LineClient c = ReadyClient(port);
  const std::regex jid_re("\"jid\":\"([^\"]+)\"");
  int kept = 0;
  for (int i = 0;; ++i) {
    const std::optional<std::string> job = Ask(c, "FETCH default");
    if (!job) {
      std::lock_guard<std::mutex> l(ledger.mu);
      ++ledger.fetches_in_flight;
      return;
    }
    std::smatch m;
    if (!std::regex_search(*job, m, jid_re)) {
      if (*job == "$-1\r\n") continue;
      return;  // an error: the primary is going
    }
    const std::string jid = m[1];
    if (i % 5 == 0 && kept < 8) {
      ++kept;
      std::lock_guard<std::mutex> l(ledger.mu);
      ledger.held.insert(jid);
      continue;
    }
    const std::optional<std::string> ack = Ask(c, R"(ACK {"jid":")" + jid + R"("})");
    std::lock_guard<std::mutex> l(ledger.mu);
    if (!ack) {
      ledger.ack_in_flight.insert(jid);
      return;
    }
    if (*ack != "+OK\r\n") return;
    ledger.acked.insert(jid);
  }
}

// INFO's count of reserved jobs once `want(count)` holds (the last seen
// otherwise, after a bound meant only to end a hang).
int WaitWorking(int port, const std::function<bool(int)>& want) {
  LineClient c = ReadyClient(port);
  const std::regex re("\"working\":([0-9]+)");
  int last = -1;
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(kWaitStep)) {
    const std::string info = c.Call("INFO", 60'000);
    std::smatch m;
    last = std::regex_search(info, m, re) ? std::stoi(m[1]) : -1;
    if (want(last)) break;
  }
  return last;
}

TEST(Failover, UnderLoadNothingAcknowledgedIsLostAndEveryHeldJobIsAckable) {
  auto primary = StartPrimary({"--shards", "2"});
  auto standby = StartStandby(ReplicationPort(*primary));
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();

  Ledger ledger;
  constexpr int kPushers = 4, kWorkers = 2;
  std::vector<std::thread> clients;
  for (int i = 0; i < kPushers; ++i)
    clients.emplace_back(Pusher, primary->port(), i, std::ref(ledger),
                         static_cast<const std::atomic<bool>*>(nullptr));
  for (int i = 0; i < kWorkers; ++i) clients.emplace_back(Worker, primary->port(), std::ref(ledger));
  // Enough of everything has happened: the primary dies under the load.
  for (auto deadline = std::chrono::steady_clock::now() + 4 * kWaitBound;
       std::chrono::steady_clock::now() < deadline &&
       (ledger.Count(ledger.pushed) < 3000 || ledger.Count(ledger.acked) < 400 ||
        ledger.Count(ledger.held) < 2 * 8);
       std::this_thread::sleep_for(kWaitStep)) {
  }
  primary->KillNine();
  for (std::thread& t : clients) t.join();
  ASSERT_GE(ledger.pushed.size(), 3000u);
  ASSERT_EQ(ledger.held.size(), size_t(2 * 8));

  const ProcessResult r = RunProcess(
      {WERKCTL_PATH, "promote"},
      {{"FAKTORY_URL", "tcp://127.0.0.1:" + std::to_string(standby->port())}}, {"FAKTORY_"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << standby->log();

  // Every queued job, once: none of them was ACKed before the crash.
  LineClient s = ReadyClient(standby->port());
  const std::regex jid_re("\"jid\":\"([^\"]+)\"");
  std::set<std::string> queued;
  for (;;) {
    const std::string job = s.Call("FETCH default", 60'000);
    std::smatch m;
    if (!std::regex_search(job, m, jid_re)) {
      ASSERT_EQ(job, "$-1\r\n");
      break;
    }
    EXPECT_TRUE(queued.insert(m[1]).second) << "delivered twice: " << m[1];
    EXPECT_EQ(ledger.acked.count(m[1]), 0u) << "I2: an ACKed job is delivered again: " << m[1];
    EXPECT_EQ(ledger.held.count(m[1]), 0u) << "I3: a held job is queued again: " << m[1];
  }
  // Every acknowledged push is queued, or reserved by a fetch the crash
  // left unanswered.
  std::vector<std::string> missing;
  for (const std::string& jid : ledger.pushed)
    if (!ledger.acked.count(jid) && !ledger.ack_in_flight.count(jid) && !ledger.held.count(jid) &&
        !queued.count(jid))
      missing.push_back(jid);
  EXPECT_LE(missing.size(), size_t(ledger.fetches_in_flight))
      << "I1: acknowledged pushes lost, e.g. " << missing.front();

  // The reservations: every job just fetched here, every held job, the
  // unanswered fetches' and the unanswered ACKs' (ACKed or not). ACKing
  // the held jobs here takes exactly theirs away.
  const int held = int(ledger.held.size());
  const int drained = int(queued.size());
  const int low = drained + held + int(missing.size());
  const int high =
      drained + held + int(ledger.ack_in_flight.size()) + ledger.fetches_in_flight;
  const int working =
      WaitWorking(standby->port(), [&](int n) { return n >= low && n <= high; });
  EXPECT_GE(working, low);
  EXPECT_LE(working, high);
  for (const std::string& jid : ledger.held)
    EXPECT_EQ(s.Call(R"(ACK {"jid":")" + jid + R"("})", 60'000), "+OK\r\n");
  EXPECT_EQ(WaitWorking(standby->port(), [&](int n) { return n == working - held; }),
            working - held);
  EXPECT_EQ(s.Call(Push("after-failover"), 60'000), "+OK\r\n");
  std::printf("failover: %zu pushes and %zu ACKs acknowledged, %d held, %zu ACKs and %d "
              "fetches unanswered; %d queued and %d reserved on the new primary\n",
              ledger.pushed.size(), ledger.acked.size(), held, ledger.ack_in_flight.size(),
              ledger.fetches_in_flight, drained, working - drained);
}

// The standby killed (-9) and restarted while pushers run: writes wait for
// it meanwhile (required mode), and once it is back and caught up it holds
// every acknowledged push, as the primary does.
TEST(Failover, AStandbyRestartedUnderLoadCatchesUpWithEverythingAcknowledged) {
  auto primary = StartPrimary({"--shards", "2"});
  auto standby = StartStandby(ReplicationPort(*primary));
  ASSERT_TRUE(WaitAllLinked(standby->port())) << standby->log();
  const std::string standby_dir = standby->data_dir();

  Ledger ledger;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pushers;
  for (int i = 0; i < 4; ++i)
    pushers.emplace_back(Pusher, primary->port(), i, std::ref(ledger), &stop);
  auto wait_pushed = [&](size_t n) {
    for (auto deadline = std::chrono::steady_clock::now() + 4 * kWaitBound;
         std::chrono::steady_clock::now() < deadline && ledger.Count(ledger.pushed) < n;
         std::this_thread::sleep_for(kWaitStep)) {
    }
  };
  wait_pushed(1000);
  standby->KillNine();
  const size_t at_kill = ledger.Count(ledger.pushed);
  auto again = StartStandby(ReplicationPort(*primary), standby_dir);
  wait_pushed(at_kill + 2000);
  stop = true;
  for (std::thread& t : pushers) t.join();
  const int pushed = int(ledger.pushed.size());
  ASSERT_GE(pushed, int(at_kill) + 2000);

  EXPECT_EQ(WaitQueueSize(primary->port(), "default", pushed), pushed);
  EXPECT_EQ(WaitQueueSize(again->port(), "default", pushed), pushed) << again->log();
  std::printf("standby restart: %zu pushes acknowledged before the kill, %d in all\n", at_kill,
              pushed);
}

}  // namespace
}  // namespace werk::testing
