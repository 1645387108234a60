// Long commands run in slices (issue: no command stalls the server): FLUSH
// and QUEUE REMOVE leave their jobs to be freed between commands, MUTATE and
// big PUSHB work a slice at a time. Each is checked for what it does, for
// the commands of other clients running meanwhile, and across kill -9 and
// restart, with 1, 2 and 4 shards. (How long a shard is held is measured by
// werkstall, docs/benchmarks.md: timing is never a test's pass/fail.)

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

std::string Job(int i, const std::string& queue, const std::string& extra = "") {
  return R"({"jid":"long-)" + std::to_string(1'000'000 + i) + R"(","jobtype":"Long","queue":")" +
         queue + R"(","args":["payload-)" + std::to_string(i) + R"("])" + extra + "}";
}

std::string Batch(int from, int n, const std::string& queue, const std::string& extra = "") {
  std::string b = "PUSHB [";
  for (int i = from; i < from + n; ++i) {
    if (i > from) b += ",";
    b += Job(i, queue, extra);
  }
  return b + "]";
}

// INFO's count for one field, e.g. "scheduled" (-1 if absent).
long InfoCount(LineClient& c, const std::string& field) {
  const std::string info = c.Call("INFO");
  const std::string key = "\"" + field + "\":";
  const size_t at = info.find(key);
  return at == std::string::npos ? -1 : std::stol(info.substr(at + key.size()));
}

long QueueSize(LineClient& c, const std::string& queue) {
  const std::string info = c.Call("INFO");
  const std::string key = "\"" + queue + "\":";
  const size_t q = info.find("\"queues\":");
  if (q == std::string::npos) return -1;
  const size_t at = info.find(key, q);
  return at == std::string::npos ? 0 : std::stol(info.substr(at + key.size()));
}

class LongCommands : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-long-XXXXXX";
    data_ = std::string(::mkdtemp(tmpl)) + "/data";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(data_).parent_path(), ec);
  }
  WerkdProcess::Options Opts() {
    return {.args = {"--shards", std::to_string(GetParam())}, .data_dir = data_};
  }
  // Another client pushing and fetching while a long command runs: every
  // one of its commands is answered, and correctly.
  struct Bystander {
    explicit Bystander(int port) : thread([this, port] { Run(port); }) {}
    ~Bystander() {
      stop = true;
      thread.join();
    }
    void Run(int port) {
      LineClient c = ReadyClient(port);
      for (int i = 0; !stop; ++i) {
        const std::string jid = "bystander-" + std::to_string(100000 + i);
        if (c.Call(R"(PUSH {"jid":")" + jid + R"(","jobtype":"B","args":[],"queue":"by"})") !=
            "+OK\r\n") {
          ++errors;
          return;
        }
        const std::string job = c.Call("FETCH by");
        if (job.find(jid) == std::string::npos ||
            c.Call(R"(ACK {"jid":")" + jid + "\"}") != "+OK\r\n") {
          ++errors;
          return;
        }
        ++done;
      }
    }
    std::atomic<bool> stop{false};
    std::atomic<int> done{0}, errors{0};
    std::thread thread;
  };
  std::string data_;
};

// A PUSHB over 256 KiB is decoded and stored in slices; one bad element
// anywhere still refuses the whole batch, as Faktory does.
TEST_P(LongCommands, BigPushbIsStoredWholeOrRefusedWhole) {
  constexpr int kJobs = 20'000;  // about 1.6 MB
  {
    WerkdProcess server(Opts());
    LineClient c = ReadyClient(server.port());
    Bystander by(server.port());
    std::string bad = Batch(kJobs, kJobs, "refused");
    bad.insert(bad.size() - 1, R"(,{"jid":"long-bad-0001","args":[1,})");
    EXPECT_EQ(c.Call(bad, 60'000).rfind("-ERR invalid JSON", 0), 0u);
    EXPECT_EQ(c.Call(Batch(0, kJobs, "bulk"), 60'000), "$2\r\n{}\r\n");
    // A batch with invalid jobs and duplicates: those are named, the rest stored.
    std::string mixed = Batch(kJobs * 2, 5000, "bulk");
    mixed.insert(mixed.size() - 1, R"(,{"jid":"long-1000000","jobtype":"Long","args":[]},)"
                                   R"({"jid":"long-nojobtype","args":[]})");
    const std::string reply = c.Call(mixed, 60'000);
    EXPECT_NE(reply.find("\"long-1000000\":"), std::string::npos) << reply.substr(0, 300);
    EXPECT_NE(reply.find("\"long-nojobtype\":\"jobs must have a jobtype"), std::string::npos)
        << reply.substr(0, 300);
    EXPECT_EQ(QueueSize(c, "bulk"), kJobs + 5000);
    EXPECT_EQ(QueueSize(c, "refused"), 0);
    by.stop = true;
    EXPECT_EQ(by.errors.load(), 0);
    server.KillNine();
  }
  WerkdProcess again(Opts());
  LineClient c = ReadyClient(again.port());
  EXPECT_EQ(QueueSize(c, "bulk"), kJobs + 5000);
  const std::string job = c.Call("FETCH bulk");
  EXPECT_NE(job.find("\"jobtype\":\"Long\""), std::string::npos) << job.substr(0, 200);
}

// A PUSHB decoded in slices counts its Faktory Enterprise job fields in
// INFO, as one decoded at once does (net/enterprise_fields.h); a refused
// batch counts nothing.
TEST_P(LongCommands, BigPushbCountsEnterpriseJobFields) {
  constexpr int kJobs = 5'000;  // about 500 KB: decoded in slices
  WerkdProcess server(Opts());
  LineClient c = ReadyClient(server.port());
  const std::string custom = R"(,"custom":{"expires_in":60,"track":1})";
  std::string bad = Batch(kJobs, kJobs, "refused", custom);
  bad.insert(bad.size() - 1, R"(,{"jid":"long-bad-0001","retry":"x"})");
  EXPECT_EQ(c.Call(bad, 60'000).rfind("-ERR invalid JSON", 0), 0u);
  EXPECT_EQ(c.Call(Batch(0, kJobs, "bulk", custom), 60'000), "$2\r\n{}\r\n");
  EXPECT_EQ(InfoCount(c, "custom.expires_in"), kJobs);
  EXPECT_EQ(InfoCount(c, "custom.track"), kJobs);
  EXPECT_EQ(InfoCount(c, "custom.unique_for"), 0);
  EXPECT_NE(c.Call("FETCH bulk").find(R"("custom":{"expires_in":60,"track":1})"),
            std::string::npos);
}

// MUTATE over many jobs runs in slices on every shard: each job is acted on
// once, jobs that do not match are left, and other clients are served.
TEST_P(LongCommands, MutateOverManyJobs) {
  constexpr int kJobs = 30'000;
  const std::string at = R"(,"at":"2100-01-01T00:00:00Z")";
  {
    WerkdProcess server(Opts());
    LineClient c = ReadyClient(server.port());
    for (int i = 0; i < kJobs; i += 5000)
      ASSERT_EQ(c.Call(Batch(i, 5000, "q", at), 60'000), "$2\r\n{}\r\n");
    ASSERT_EQ(InfoCount(c, "scheduled"), kJobs);
    Bystander by(server.port());
    // Every job whose JSON holds "payload-1" (1, 10-19, 100-199, ...): a glob
    // scan of every job, in slices.
    EXPECT_EQ(
        c.Call(R"(MUTATE {"cmd":"kill","target":"scheduled","filter":{"regexp":"*payload-1*"}})",
               60'000),
        "+OK\r\n");
    int matched = 0;
    for (int i = 0; i < kJobs; ++i) matched += std::to_string(i).rfind("1", 0) == 0;
    EXPECT_EQ(InfoCount(c, "dead"), matched);
    EXPECT_EQ(InfoCount(c, "scheduled"), kJobs - matched);
    // Killing what is dead meets each job once and ends.
    EXPECT_EQ(c.Call(R"(MUTATE {"cmd":"kill","target":"dead"})", 60'000), "+OK\r\n");
    EXPECT_EQ(InfoCount(c, "dead"), matched);
    EXPECT_EQ(c.Call(R"(MUTATE {"cmd":"requeue","target":"dead"})", 60'000), "+OK\r\n");
    EXPECT_EQ(QueueSize(c, "q"), matched);
    by.stop = true;
    EXPECT_EQ(by.errors.load(), 0);
    EXPECT_GT(by.done.load(), 0);
    server.KillNine();
  }
  WerkdProcess again(Opts());
  LineClient c = ReadyClient(again.port());
  int matched = 0;
  for (int i = 0; i < kJobs; ++i) matched += std::to_string(i).rfind("1", 0) == 0;
  EXPECT_EQ(QueueSize(c, "q"), matched);
  EXPECT_EQ(InfoCount(c, "dead"), 0);
  EXPECT_EQ(InfoCount(c, "scheduled"), kJobs - matched);
  EXPECT_EQ(c.Call(R"(MUTATE {"cmd":"clear","target":"scheduled"})", 60'000), "+OK\r\n");
  EXPECT_EQ(InfoCount(c, "scheduled"), 0);
}

// QUEUE REMOVE and FLUSH answer at once and free their jobs afterwards: the
// same jids can be pushed again straight away, and a restart sees only them.
TEST_P(LongCommands, RemovedJobsAreGoneAtOnce) {
  constexpr int kJobs = 30'000;
  {
    WerkdProcess server(Opts());
    LineClient c = ReadyClient(server.port());
    for (int i = 0; i < kJobs; i += 5000)
      ASSERT_EQ(c.Call(Batch(i, 5000, "big"), 60'000), "$2\r\n{}\r\n");
    ASSERT_EQ(QueueSize(c, "big"), kJobs);
    EXPECT_EQ(c.Call("QUEUE REMOVE big"), "+OK\r\n");
    EXPECT_EQ(QueueSize(c, "big"), 0);
    // The removed jids are free again, though their jobs may not be freed yet.
    EXPECT_EQ(c.Call(Batch(0, 100, "big"), 60'000), "$2\r\n{}\r\n");
    EXPECT_EQ(QueueSize(c, "big"), 100);
    for (int i = 0; i < kJobs; i += 5000)
      ASSERT_EQ(c.Call(Batch(kJobs + i, 5000, "other"), 60'000), "$2\r\n{}\r\n");
    EXPECT_EQ(c.Call("FLUSH"), "+OK\r\n");
    EXPECT_EQ(InfoCount(c, "total_enqueued"), 0);
    EXPECT_EQ(c.Call(Batch(kJobs, 10, "other"), 60'000), "$2\r\n{}\r\n");
    EXPECT_TRUE(server.Alive()) << server.log();
    server.KillNine();
  }
  WerkdProcess again(Opts());
  LineClient c = ReadyClient(again.port());
  EXPECT_EQ(QueueSize(c, "big"), 0);
  EXPECT_EQ(QueueSize(c, "other"), 10);
}

INSTANTIATE_TEST_SUITE_P(Shards, LongCommands, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return std::to_string(info.param); });

}  // namespace
}  // namespace werk::testing
