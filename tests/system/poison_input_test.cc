// Commands that once crashed werkd, or made a record that crashed every
// restart after it (issue: nothing a client does may crash werk). Each runs
// against the real binary with the suite's shard count, then restarts on
// the same data directory.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

std::string Push(const std::string& jid, const std::string& queue, const std::string& extra = "") {
  return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[],"queue":")" + queue + "\"" +
         extra + "}";
}

class PoisonInput : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-poison-XXXXXX";
    data_ = std::string(::mkdtemp(tmpl)) + "/data";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(data_).parent_path(), ec);
  }
  WerkdProcess::Options Opts() { return {.data_dir = data_}; }

  std::string data_;
};

// QUEUE REMOVE with a queue named twice freed the queue twice (SIGSEGV or
// SIGILL); with several shards the logged global operation crashed every
// restart after it.
TEST_F(PoisonInput, QueueNamedTwice) {
  {
    WerkdProcess server(Opts());
    LineClient c = ReadyClient(server.port());
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(c.Call(Push("q2-job-" + std::to_string(1000 + i), "q2")), "+OK\r\n");
      ASSERT_EQ(c.Call(Push("keep-job-" + std::to_string(1000 + i), "keep")), "+OK\r\n");
    }
    EXPECT_EQ(c.Call("QUEUE PAUSE q2 q2 keep keep"), "+OK\r\n");
    EXPECT_EQ(c.Call("QUEUE RESUME keep q2 keep"), "+OK\r\n");
    EXPECT_EQ(c.Call("QUEUE REMOVE q2 q2"), "+OK\r\n");
    EXPECT_EQ(c.Call("QUEUE REMOVE q2 nope q2 nope"), "+OK\r\n");
    EXPECT_TRUE(server.Alive()) << server.log();
    server.KillNine();
  }
  WerkdProcess again(Opts());
  LineClient c = ReadyClient(again.port());
  EXPECT_EQ(c.Call("FETCH q2"), "$-1\r\n");
  EXPECT_NE(c.Call("FETCH keep").find("keep-job-"), std::string::npos);
  EXPECT_TRUE(again.Alive()) << again.log();
}

// A job scheduled after 2109 (wall-clock milliseconds past the timer
// wheel's top level) was placed at a level that does not exist: one PUSH
// crashed werkd.
TEST_F(PoisonInput, JobScheduledFarInTheFuture) {
  {
    WerkdProcess server(Opts());
    LineClient c = ReadyClient(server.port());
    EXPECT_EQ(c.Call(Push("far-job-0001", "q", R"(,"at":"2110-01-01T00:00:00Z")")), "+OK\r\n");
    EXPECT_EQ(c.Call(Push("far-job-0002", "q", R"(,"at":"2261-12-31T23:59:59Z")")), "+OK\r\n");
    EXPECT_EQ(c.Call(Push("now-job-0001", "q")), "+OK\r\n");
    EXPECT_NE(c.Call("FETCH q").find("now-job-0001"), std::string::npos);
    EXPECT_TRUE(server.Alive()) << server.log();
    server.KillNine();
  }
  WerkdProcess again(Opts());
  LineClient c = ReadyClient(again.port());
  const std::string info = c.Call("INFO");
  EXPECT_NE(info.find("\"scheduled\":2"), std::string::npos) << info;
  EXPECT_TRUE(again.Alive()) << again.log();
}

// A MUTATE whose glob would cost pattern × job bytes per job froze every
// shard for seconds; the pattern is now bounded and matched in linear time.
TEST_F(PoisonInput, MutateWithAHostileGlob) {
  WerkdProcess server(Opts());
  LineClient c = ReadyClient(server.port());
  const std::string big_arg(100'000, 'a');
  ASSERT_EQ(c.Call(R"(PUSH {"jid":"big-job-0001","jobtype":"T","args":[")" + big_arg +
                   R"("],"at":"2100-01-01T00:00:00Z"})"),
            "+OK\r\n");
  const std::string hostile = "*" + std::string(50'000, 'a') + "b";
  EXPECT_EQ(c.Call(R"(MUTATE {"cmd":"kill","target":"scheduled","filter":{"regexp":")" +
                   hostile + "\"}}"),
            "-ERR regexp is longer than 1024 bytes\r\n");
  // The longest pattern allowed, over the 100 KB job, answers.
  const std::string longest = "*" + std::string(1022, 'a') + "b";
  EXPECT_EQ(c.Call(R"(MUTATE {"cmd":"kill","target":"scheduled","filter":{"regexp":")" +
                   longest + "\"}}"),
            "+OK\r\n");
  EXPECT_EQ(c.Call(R"(MUTATE {"cmd":"kill","target":"scheduled","filter":{"regexp":"*aaaa*"}})"),
            "+OK\r\n");
  const std::string info = c.Call("INFO");
  EXPECT_NE(info.find("\"dead\":1"), std::string::npos) << info;
}

}  // namespace
}  // namespace werk::testing
