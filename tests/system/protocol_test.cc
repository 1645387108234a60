// The Faktory protocol against the real werkd binary over TCP: every command,
// its replies and its error strings (reference §2).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <vector>
#include <thread>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

// Every test runs against 1, 2 and 4 shards: connections land on shards as
// the kernel spreads them, jobs live on the shard their jid hashes to, so the
// same commands cross shards in every way.
class ProtocolTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    WerkdProcess::Options o;
    o.args = {"--shards", std::to_string(GetParam())};
    server_ = std::make_unique<WerkdProcess>(o);
    c_ = Connect();
  }
  LineClient Connect(const std::string& hello = R"({"v":2})") {
    LineClient c(server_->port());
    EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    EXPECT_EQ(c.Call("HELLO " + hello), "+OK\r\n");
    return c;
  }
  static std::string Job(const std::string& jid, const std::string& extra = "") {
    return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[1,"two"])" + extra + "}";
  }
  std::unique_ptr<WerkdProcess> server_;
  LineClient c_;
};

TEST_P(ProtocolTest, PushFetchAck) {
  ASSERT_EQ(c_.Call(Job("job-00001")), "+OK\r\n");
  const std::string job = BulkBody(c_.Call("FETCH default"));
  EXPECT_EQ(job.rfind(R"({"jid":"job-00001","queue":"default","jobtype":"T","args":[1,"two"],"created_at":")", 0), 0u) << job;
  EXPECT_NE(job.find(R"("enqueued_at":")"), std::string::npos);
  EXPECT_NE(job.find(R"("retry":25})"), std::string::npos);
  EXPECT_EQ(c_.Call(R"(ACK {"jid":"job-00001"})"), "+OK\r\n");
  const std::string info = BulkBody(c_.Call("INFO"));
  EXPECT_NE(info.find(R"("total_processed":1)"), std::string::npos) << info;
  EXPECT_NE(info.find(R"("sets":{"dead":0,"retries":0,"scheduled":0,"working":0})"), std::string::npos);
}

TEST_P(ProtocolTest, LfOnlyLineEndingsAreAccepted) {
  c_.Send(Job("job-00001") + "\n");
  EXPECT_EQ(c_.ReadOrFail(), "+OK\r\n");
  c_.Send("FETCH default\n");
  EXPECT_NE(c_.ReadOrFail().find("job-00001"), std::string::npos);
}

TEST_P(ProtocolTest, PushErrors) {
  EXPECT_EQ(c_.Call("PUSH {not json").rfind("-ERR invalid JSON: ", 0), 0u);
  EXPECT_EQ(c_.Call(R"(PUSH {"jid":"abc","jobtype":"T","args":[]})"),
            "-ERR jobs must have a reasonable jid parameter\r\n");
  EXPECT_EQ(c_.Call(R"(PUSH {"jid":"abcdefgh","args":[]})"),
            "-ERR jobs must have a jobtype parameter\r\n");
  EXPECT_EQ(c_.Call(R"(PUSH {"jid":"abcdefgh","jobtype":"T"})"),
            "-ERR jobs must have an args parameter\r\n");
  EXPECT_EQ(c_.Call(Job("abcdefgh", R"(,"reserve_for":100000)")),
            "-ERR jobs cannot be reserved for more than one day\r\n");
  EXPECT_EQ(c_.Call(Job("abcdefgh", R"(,"queue":"no spaces")")),
            "-ERR cannot get \"no spaces\" queue: queue names must match \\A[a-zA-Z0-9._-]+\\z\r\n");
  EXPECT_EQ(c_.Call(Job("abcdefgh", R"(,"at":"nope")")).rfind("-ERR invalid timestamp for 'at': \"nope\": ", 0), 0u);
  // A live jid cannot be pushed twice (docs/compatibility.md).
  ASSERT_EQ(c_.Call(Job("abcdefgh")), "+OK\r\n");
  EXPECT_EQ(c_.Call(Job("abcdefgh")), "-ERR jid abcdefgh is already in use by a live job\r\n");
}

TEST_P(ProtocolTest, PushBulk) {
  EXPECT_EQ(c_.Call(R"(PUSHB [{"jid":"bulk-0001","jobtype":"T","args":[]},{"jid":"bulk-0002","jobtype":"T","args":[]}])"),
            "$2\r\n{}\r\n");
  EXPECT_EQ(c_.Call(R"(PUSHB [{"jid":"bulk-0003","jobtype":"T","args":[]},{"jid":"short","jobtype":"T","args":[]},{"jid":"bulk-0004","args":[]}])"),
            "$102\r\n{\"bulk-0004\":\"jobs must have a jobtype parameter\",\"short\":\"jobs must have a reasonable jid parameter\"}\r\n");
  EXPECT_NE(BulkBody(c_.Call("INFO")).find(R"("queues":{"default":3})"), std::string::npos);
  EXPECT_EQ(c_.Call("PUSHB {}").rfind("-ERR invalid JSON: ", 0), 0u);
  EXPECT_EQ(c_.Call("PUSHB []"), "$2\r\n{}\r\n");
}

TEST_P(ProtocolTest, FetchErrorsAndEmpty) {
  EXPECT_EQ(c_.Call("FETCH"), "-ERR must call fetch with at least one queue\r\n");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c_.Call("FETCH nothing-here"), "$-1\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1900));
}

// Queue names that are all empty could never match a job (PUSH refuses a
// queue without a name): refused at once too, where Faktory would wait on
// queue "". An empty name beside a real one is harmless.
TEST_P(ProtocolTest, FetchWithOnlyEmptyQueueNamesIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(c_.Call("FETCH "), "-ERR must call fetch with at least one queue\r\n");
  EXPECT_EQ(c_.Call("FETCH   "), "-ERR must call fetch with at least one queue\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  ASSERT_EQ(c_.Call(Job("job-00001")), "+OK\r\n");
  EXPECT_NE(c_.Call("FETCH  default").find("job-00001"), std::string::npos);
}

TEST_P(ProtocolTest, FetchWakesAsSoonAsAJobArrives) {
  LineClient producer = Connect();
  c_.Send("FETCH default\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(producer.Call(Job("job-00001")), "+OK\r\n");
  const std::string reply = c_.ReadOrFail();
  EXPECT_NE(reply.find("job-00001"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
}

// Faktory's strict priority by the order of the queues in FETCH holds on
// every shard count: the jobs of each queue are spread over every shard.
TEST_P(ProtocolTest, FetchKeepsQueuePriorityAcrossShards) {
  constexpr int kJobs = 20;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_EQ(c_.Call(Job("low-job-" + std::to_string(1000 + i), R"(,"queue":"default")")), "+OK\r\n");
    ASSERT_EQ(c_.Call(Job("high-job-" + std::to_string(1000 + i), R"(,"queue":"critical")")), "+OK\r\n");
  }
  LineClient worker = Connect();
  for (int i = 0; i < 2 * kJobs; ++i) {
    const std::string job = BulkBody(worker.Call("FETCH critical default"));
    const std::string want = i < kJobs ? R"("queue":"critical")" : R"("queue":"default")";
    ASSERT_NE(job.find(want), std::string::npos) << "fetch " << i << ": " << job;
  }
}

TEST_P(ProtocolTest, FailGoesToRetries) {
  ASSERT_EQ(c_.Call(Job("job-00001")), "+OK\r\n");
  ASSERT_NE(c_.Call("FETCH default").find("job-00001"), std::string::npos);
  EXPECT_EQ(c_.Call(R"(FAIL {"jid":"job-00001","errtype":"RuntimeError","message":"boom","backtrace":["a.rb:1"]})"), "+OK\r\n");
  EXPECT_EQ(c_.Call(R"(FAIL {"jid":"job-00001"})"), "-ERR Job not found job-00001\r\n");
  EXPECT_EQ(c_.Call(R"(FAIL {"errtype":"x"})"), "-ERR missing JID\r\n");
  EXPECT_EQ(c_.Call("FAIL {bad"), "-ERR invalid FAIL {bad\r\n");
  const std::string info = BulkBody(c_.Call("INFO"));
  EXPECT_NE(info.find(R"("retries":1)"), std::string::npos) << info;
  EXPECT_NE(info.find(R"("total_failures":1,"total_processed":1)"), std::string::npos) << info;
}

TEST_P(ProtocolTest, AckOfUnknownJobIsOk) {
  EXPECT_EQ(c_.Call(R"(ACK {"jid":"never-seen"})"), "+OK\r\n");
  EXPECT_EQ(c_.Call("ACK"), "-ERR invalid ACK \r\n");
  EXPECT_EQ(c_.Call("ACK {}"), "-ERR invalid ACK {}\r\n");
}

TEST_P(ProtocolTest, Beat) {
  LineClient w = Connect(R"({"v":2,"wid":"proc-1","hostname":"h","pid":1,"labels":["x"]})");
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"proc-1"})"), "+OK\r\n");
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"proc-2"})"), "-ERR unknown worker proc-2\r\n");
  EXPECT_EQ(w.Call("BEAT nope"), "-ERR invalid BEAT nope\r\n");
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"proc-1","current_state":"terminate"})"),
            "$21\r\n{\"state\":\"terminate\"}\r\n");
}

TEST_P(ProtocolTest, QueueCommands) {
  ASSERT_EQ(c_.Call(Job("job-00001", R"(,"queue":"q1")")), "+OK\r\n");
  ASSERT_EQ(c_.Call(Job("job-00002", R"(,"queue":"q2")")), "+OK\r\n");
  const std::string lat = BulkBody(c_.Call("QUEUE LATENCY q1 missing"));
  EXPECT_EQ(lat.rfind(R"({"missing":0,"q1":)", 0), 0u) << lat;
  EXPECT_EQ(c_.Call("QUEUE LATENCY *"), "-ERR QUEUE LATENCY does not support wildcards\r\n");
  EXPECT_EQ(c_.Call("QUEUE pause q1"), "+OK\r\n");  // sub-commands are case-insensitive
  EXPECT_EQ(c_.Call("QUEUE FROB q1"), "-ERR no such QUEUE subcommand: FROB\r\n");
  EXPECT_EQ(c_.Call("QUEUE").rfind("-ERR QUEUE needs a subcommand", 0), 0u);
  EXPECT_EQ(c_.Call("QUEUE PAUSE").rfind("-ERR QUEUE PAUSE needs at least one queue", 0), 0u);
  EXPECT_EQ(c_.Call("QUEUE REMOVE *"), "+OK\r\n");
  EXPECT_NE(BulkBody(c_.Call("INFO")).find(R"("queues":{})"), std::string::npos);
}

TEST_P(ProtocolTest, PauseHoldsForJobsPushedLaterOnAnyShard) {
  ASSERT_EQ(c_.Call(Job("job-00000", R"(,"queue":"q1")")), "+OK\r\n");
  ASSERT_EQ(c_.Call(Job("job-10000", R"(,"queue":"q2")")), "+OK\r\n");
  EXPECT_EQ(c_.Call("QUEUE PAUSE q1 never-seen"), "+OK\r\n");
  EXPECT_EQ(c_.Call("QUEUE PAUSE *"), "+OK\r\n");
  EXPECT_EQ(c_.Call("QUEUE RESUME q2"), "+OK\r\n");
  // Jobs pushed after the pause, over several connections, land on every shard.
  std::vector<LineClient> producers;
  for (int i = 0; i < 3; ++i) producers.push_back(Connect());
  for (int i = 1; i <= 24; ++i) {
    char jid[16];
    std::snprintf(jid, sizeof jid, "job-%05d", i);
    ASSERT_EQ(producers[i % 3].Call(Job(jid, R"(,"queue":"q1")")), "+OK\r\n");
  }
  LineClient worker = Connect();
  EXPECT_NE(worker.Call("FETCH q1 q2").find("job-10000"), std::string::npos);
  // Paused everywhere: fetchers on every shard (eight connections spread over
  // the shards) get nothing.
  std::vector<LineClient> fetchers;
  for (int i = 0; i < 8; ++i) fetchers.push_back(Connect());
  for (auto& f : fetchers) f.Send("FETCH q1\r\n");
  for (auto& f : fetchers) EXPECT_EQ(f.ReadOrFail(), "$-1\r\n");
  const std::string info = BulkBody(c_.Call("INFO"));
  // A paused name that no shard knew stays unknown (as in Faktory).
  EXPECT_NE(info.find(R"("queues":{"q1":25,"q2":0})"), std::string::npos) << info;
  const std::string lat = BulkBody(c_.Call("QUEUE LATENCY q1 q2"));
  EXPECT_EQ(lat.rfind(R"({"q1":)", 0), 0u) << lat;
  EXPECT_EQ(lat.find(R"("q1":0,)"), std::string::npos) << lat;
  EXPECT_EQ(c_.Call("QUEUE RESUME q1"), "+OK\r\n");
  for (int i = 0; i < 25; ++i) {
    const std::string job = worker.Call("FETCH q1");
    ASSERT_EQ(job.find("$-1"), std::string::npos) << i;
  }
}

TEST_P(ProtocolTest, MutateCommands) {
  ASSERT_EQ(c_.Call(Job("job-00001", R"(,"at":"2099-01-01T00:00:00Z")")), "+OK\r\n");
  ASSERT_EQ(c_.Call(Job("job-00002", R"(,"at":"2099-01-01T00:00:00Z")")), "+OK\r\n");
  EXPECT_EQ(c_.Call(R"(MUTATE {"cmd":"kill","target":"scheduled","filter":{"jids":["job-00001"]}})"), "+OK\r\n");
  EXPECT_EQ(c_.Call(R"(MUTATE {"cmd":"requeue","target":"scheduled","filter":{"regexp":"*job-00002*"}})"), "+OK\r\n");
  const std::string info = BulkBody(c_.Call("INFO"));
  EXPECT_NE(info.find(R"("sets":{"dead":1,"retries":0,"scheduled":0,"working":0})"), std::string::npos) << info;
  EXPECT_NE(info.find(R"("queues":{"default":1})"), std::string::npos) << info;
  EXPECT_EQ(c_.Call(R"(MUTATE {"cmd":"kill","target":"queues"})"),
            "-ERR invalid target for mutation command\r\n");
  EXPECT_EQ(c_.Call(R"(MUTATE {"cmd":"explode","target":"dead"})"), "-ERR unknown mutate operation\r\n");
  EXPECT_EQ(c_.Call("MUTATE"), "-ERR invalid format\r\n");
  EXPECT_EQ(c_.Call("MUTATE {").rfind("-ERR ", 0), 0u);
  EXPECT_EQ(c_.Call(R"(MUTATE {"cmd":"clear","target":"dead"})"), "+OK\r\n");
}

TEST_P(ProtocolTest, FlushAndEnterpriseVerbs) {
  ASSERT_EQ(c_.Call(Job("job-00001")), "+OK\r\n");
  EXPECT_EQ(c_.Call("FLUSH"), "+OK\r\n");
  EXPECT_NE(BulkBody(c_.Call("INFO")).find(R"("total_enqueued":0)"), std::string::npos);
  EXPECT_EQ(c_.Call("BATCH NEW {}").rfind("-ERR BATCH is not supported yet", 0), 0u);
  EXPECT_EQ(c_.Call("TRACK GET x").rfind("-ERR TRACK is not supported yet", 0), 0u);
}

// Jobs with Faktory Enterprise fields werk does not act on are accepted and
// delivered unchanged, as Faktory OSS does; INFO counts them, and the log
// says so once per field.
TEST_P(ProtocolTest, EnterpriseJobFieldsAreKeptCountedAndLoggedOnce) {
  const std::string custom = R"("custom":{"unique_for":60, "bid":"b-1","note":"x"})";
  ASSERT_EQ(c_.Call(Job("ent-00001", "," + custom)), "+OK\r\n");
  LineClient other = Connect();  // maybe another shard
  ASSERT_EQ(other.Call(Job("ent-00002", "," + custom)), "+OK\r\n");
  ASSERT_EQ(c_.Call(R"(PUSHB [{"jid":"ent-00003","jobtype":"T","args":[],"custom":{"unique_for":1}},)"
                    R"({"jid":"ent-00004","jobtype":"T","args":[],"custom":{"other":1}}])"),
            "$2\r\n{}\r\n");
  for (int i = 0; i < 4; ++i) {
    const std::string job = BulkBody(c_.Call("FETCH default"));
    if (job.find("ent-00001") != std::string::npos || job.find("ent-00002") != std::string::npos) {
      EXPECT_NE(job.find(custom), std::string::npos) << job;
    }
  }
  const std::string counts =
      R"("unimplemented_job_fields":{"custom.unique_for":3,"custom.unique_until":0,)"
      R"("custom.expires_at":0,"custom.expires_in":0,"custom.bid":2,"custom.track":0})";
  std::string info = BulkBody(c_.Call("INFO"));
  EXPECT_NE(info.find(counts), std::string::npos) << info;
  const auto count = [&](const std::string& text) {
    const std::string log = server_->log();
    size_t n = 0;
    for (size_t at = 0; (at = log.find(text, at)) != std::string::npos; at += text.size()) ++n;
    return n;
  };
  EXPECT_EQ(count("job field custom.unique_for is a Faktory Enterprise feature werk does not "
                  "implement yet: the job is treated as an ordinary job"),
            1u)
      << server_->log();
  EXPECT_EQ(count("job field custom.bid is a Faktory Enterprise"), 1u);
  EXPECT_EQ(count("job field custom."), 2u);
}

TEST_P(ProtocolTest, UnknownVerbsAndEnd) {
  EXPECT_EQ(c_.Call("ping"), "-ERR unknown command ping\r\n");
  EXPECT_EQ(c_.Call("HELLO {}"), "-ERR unknown command HELLO\r\n");
  EXPECT_EQ(c_.Call(""), "-ERR unknown command \r\n");
  c_.Send("END\r\n");
  EXPECT_TRUE(c_.WaitClosed());
}

TEST_P(ProtocolTest, InfoShape) {
  const std::string info = BulkBody(c_.Call("INFO"));
  for (const char* key : {"\"now\":\"", "\"server_utc_time\":\"", "\"faktory\":{\"queues\":{",
                          "\"sets\":{", "\"tasks\":{\"Busy\":", "\"total_failures\":",
                          "\"total_processed\":", "\"total_enqueued\":", "\"total_queues\":",
                          "\"server\":{\"description\":\"werk\",\"faktory_version\":\"1.9.4\"",
                          "\"uptime\":", "\"connections\":1", "\"command_count\":",
                          "\"used_memory_mb\":"}) {
    EXPECT_NE(info.find(key), std::string::npos) << key << " in " << info;
  }
  // Cross-shard traffic per shard, when there is more than one.
  size_t mailboxes = 0;
  for (size_t at = 0; (at = info.find("\"mailbox\":{\"sent\":", at)) != std::string::npos; ++at)
    ++mailboxes;
  EXPECT_EQ(mailboxes, GetParam() > 1 ? size_t(GetParam()) : 0u) << info;
  EXPECT_EQ(info.find("\"wakeups\":") != std::string::npos, GetParam() > 1) << info;
}

// Pipelined commands whose jobs live on different shards: the ones for other
// shards are forwarded while the rest run, and every reply — errors included
// — comes back in request order.
TEST_P(ProtocolTest, PipelinedCommandsAcrossShardsAnswerInOrder) {
  std::string batch;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    char jid[32];
    std::snprintf(jid, sizeof jid, "job-%05d", i);
    batch += Job(jid) + "\r\n";
    expected.push_back("+OK\r\n");
    if (i % 7 == 3) {
      char again[32];
      std::snprintf(again, sizeof again, "job-%05d", i - 1);
      batch += Job(again) + "\r\n";
      expected.push_back(std::string("-ERR jid ") + again + " is already in use by a live job\r\n");
    }
    if (i % 11 == 5) {
      batch += R"(FAIL {"jid":"unknown-)" + std::to_string(i) + "\"}\r\n";
      expected.push_back("-ERR Job not found unknown-" + std::to_string(i) + "\r\n");
      batch += R"(ACK {"jid":"unknown-)" + std::to_string(i) + "\"}\r\n";
      expected.push_back("+OK\r\n");
    }
    if (i % 50 == 49) {
      batch += "PUSH {bad\r\n";
      expected.push_back("");  // a decode error; its text is checked below
    }
  }
  c_.Send(batch);
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string reply = c_.ReadOrFail();
    if (expected[i].empty()) {
      EXPECT_EQ(reply.rfind("-ERR ", 0), 0u) << "reply " << i << ": " << reply;
    } else {
      ASSERT_EQ(reply, expected[i]) << "reply " << i;
    }
  }
  const std::string info = BulkBody(c_.Call("INFO"));
  EXPECT_NE(info.find(R"("queues":{"default":300})"), std::string::npos) << info;
}

// A FETCH pipelined right behind the PUSH of its job gets that job, even
// when the PUSH is still on its way to the job's shard as the FETCH runs.
TEST_P(ProtocolTest, PipelinedPushThenFetchGetsTheJob) {
  for (int i = 0; i < 20; ++i) {
    const std::string jid = "pipelined-" + std::to_string(i);
    c_.Send(Job(jid) + "\r\nFETCH default\r\n");
    EXPECT_EQ(c_.ReadOrFail(), "+OK\r\n");
    const std::string job = c_.ReadOrFail();
    ASSERT_NE(job.find("\"jid\":\"" + jid + "\""), std::string::npos) << job;
    EXPECT_EQ(c_.Call(R"(ACK {"jid":")" + jid + "\"}"), "+OK\r\n");
  }
}

// A client that sends its commands and then closes its side still gets
// every reply, including those of commands forwarded to other shards.
TEST_P(ProtocolTest, RepliesOutliveTheClientsHalfClose) {
  for (int round = 0; round < 5; ++round) {
    LineClient c = Connect();
    std::string batch;
    for (int i = 0; i < 40; ++i)
      batch += Job("half-" + std::to_string(round) + "-" + std::to_string(i)) + "\r\n";
    c.Send(batch);
    ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
    for (int i = 0; i < 40; ++i) ASSERT_EQ(c.ReadOrFail(), "+OK\r\n") << "round " << round << " reply " << i;
  }
  const std::string info = BulkBody(c_.Call("INFO"));
  EXPECT_NE(info.find(R"("queues":{"default":200})"), std::string::npos) << info;
}

TEST_P(ProtocolTest, SigtermShutsDownCleanly) {
  ASSERT_EQ(c_.Call(Job("job-00001")), "+OK\r\n");
  const int status = server_->Stop();
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(server_->log().find("werk stopped"), std::string::npos) << server_->log();
}

INSTANTIATE_TEST_SUITE_P(Shards, ProtocolTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return std::to_string(info.param); });

}  // namespace
}  // namespace werk::testing
