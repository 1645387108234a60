// A server that could not run for a while (SIGSTOP here; a VM pause or a
// stalled host looks the same) reads what its clients sent meanwhile before
// it fires the deadlines that passed (issue 11, point 7): a BEAT or an ACK
// that reached the socket in time counts.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

class StallTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    WerkdProcess::Options o;
    // Deadlines of seconds, so the stall outlasts them in a short test.
    o.args = {"--shards", std::to_string(GetParam()), "--heartbeat-timeout", "2",
              "--reserve-for-min", "1"};
    server_ = std::make_unique<WerkdProcess>(o);
  }
  LineClient Connect(const std::string& hello) {
    LineClient c(server_->port());
    EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    EXPECT_EQ(c.Call("HELLO " + hello), "+OK\r\n");
    return c;
  }
  std::unique_ptr<WerkdProcess> server_;
};

// Stops the server, and returns only once every one of its threads is
// stopped: SIGSTOP takes effect asynchronously, and input sent before it
// did would be read before the stall instead of during it. Resumes the
// server however the test ends.
struct Stopped {
  explicit Stopped(pid_t pid) : pid(pid) {
    ::kill(pid, SIGSTOP);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!AllThreadsStopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Stopped() { ::kill(pid, SIGCONT); }
  bool AllThreadsStopped() const {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& t : std::filesystem::directory_iterator(tasks)) {
      std::ifstream in(t.path() / "stat");
      std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // "pid (comm) S ...": the state follows the last ')'.
      const size_t paren = stat.rfind(')');
      if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'T')
        return false;
    }
    return true;
  }
  pid_t pid;
};

// A worker holds 8 jobs reserved for 2 s and has a 2 s heartbeat deadline.
// The server stops; the worker's BEAT and its ACKs reach the socket; the
// server stays stopped for 3.5 s, past both deadlines, then resumes. The
// ACKs win (no job is retried) and the worker is still there. With several
// shards the jobs, the worker's heartbeat and its connection live on
// different shards, so BEAT and ACK cross shards before they count.
TEST_P(StallTest, InputThatArrivedDuringAStallIsReadBeforeItsDeadlinesFire) {
  LineClient producer = Connect(R"({"v":2})");
  LineClient worker = Connect(R"({"v":2,"wid":"stalled-worker","pid":1,"hostname":"h"})");
  constexpr int kJobs = 8;
  std::vector<std::string> jids;
  for (int i = 0; i < kJobs; ++i) {
    jids.push_back("stalled-job-" + std::to_string(i));
    ASSERT_EQ(producer.Call(R"(PUSH {"jid":")" + jids.back() +
                            R"(","jobtype":"T","args":[],"reserve_for":2})"),
              "+OK\r\n");
  }
  for (int i = 0; i < kJobs; ++i) {
    const std::string job = worker.Call("FETCH default");
    ASSERT_EQ(job.rfind("$", 0), 0u) << job;
  }
  {
    Stopped stopped(server_->pid());
    std::string input = "BEAT {\"wid\":\"stalled-worker\"}\r\n";
    for (const std::string& jid : jids) input += R"(ACK {"jid":")" + jid + "\"}\r\n";
    worker.Send(input);
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  }
  const std::string info_after = producer.Call("INFO");
  EXPECT_EQ(worker.ReadOrFail(), "+OK\r\n") << "the BEAT\n" << info_after;
  for (int i = 0; i < kJobs; ++i)
    ASSERT_EQ(worker.ReadOrFail(), "+OK\r\n") << "ACK " << i << "\n" << server_->log();
  // The worker was not dropped: its connection is open and its BEAT known.
  EXPECT_EQ(worker.Call(R"(BEAT {"wid":"stalled-worker"})"), "+OK\r\n");
  const std::string info = producer.Call("INFO");
  EXPECT_NE(info.find(R"("total_failures":0,"total_processed":8)"), std::string::npos)
      << info << server_->log();
  EXPECT_NE(info.find(R"("sets":{"dead":0,"retries":0,"scheduled":0,"working":0})"),
            std::string::npos)
      << info;
}

INSTANTIATE_TEST_SUITE_P(Shards, StallTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return std::to_string(info.param); });

}  // namespace
}  // namespace werk::testing
