// Job sizes Faktory accepts are accepted by default: a job with a 5 MB
// argument (Faktory has no size limit; werk's default is 16 MiB) is stored,
// fetched back byte for byte and survives a crash, also when it does not fit
// in what is left of a log segment or is larger than a whole segment; a
// PUSHB of 1,000 ordinary jobs fits in the default line limit. Above a
// configured limit a job is refused with a clear error and nothing is kept.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

constexpr int kBigReplyMillis = 60000;

// `bytes` of printable text that differs along its length, so a misplaced,
// repeated or dropped chunk shows.
std::string Payload(size_t bytes, uint32_t seed) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:;,!?()[]{}<>/|~^+=*#@%&";
  std::mt19937 rng(seed);
  std::string s(bytes, ' ');
  for (char& c : s) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return s;
}

std::string PushLine(const std::string& jid, const std::string& arg) {
  return R"(PUSH {"jid":")" + jid + R"(","jobtype":"Big","args":[")" + arg + R"("]})";
}

// The next job FETCHed: its jid and its one string argument.
std::pair<std::string, std::string> FetchOne(LineClient& c) {
  const std::string job = BulkBody(c.Call("FETCH default", kBigReplyMillis));
  const std::string jid_key = R"({"jid":")";
  const std::string args_key = R"("args":[")";
  const size_t args_at = job.find(args_key);
  if (job.rfind(jid_key, 0) != 0 || args_at == std::string::npos)
    return {"<not a job: " + job.substr(0, 200) + ">", ""};
  const size_t jid_end = job.find('"', jid_key.size());
  const std::string jid = job.substr(jid_key.size(), jid_end - jid_key.size());
  const size_t begin = args_at + args_key.size();
  const size_t end = job.find("\"]", begin);
  if (end == std::string::npos) return {jid, "<unterminated args>"};
  return {jid, job.substr(begin, end - begin)};
}

class JobSize : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-jobsize-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Pushes each payload as one job, kills werkd with SIGKILL once every push
  // is acknowledged, restarts it on the same data and fetches every one
  // back.
  void PushCrashFetch(const std::vector<std::string>& payloads, std::vector<std::string> args) {
    {
      WerkdProcess server({.args = args, .data_dir = root_ + "/data"});
      LineClient c = ReadyClient(server.port());
      for (size_t i = 0; i < payloads.size(); ++i)
        ASSERT_EQ(c.Call(PushLine("big-job-" + std::to_string(1000 + i), payloads[i]),
                         kBigReplyMillis),
                  "+OK\r\n");
      server.KillNine();
    }
    WerkdProcess server({.args = args, .data_dir = root_ + "/data"});
    LineClient c = ReadyClient(server.port());
    // Jobs live on the shard their jid hashes to: with several shards they
    // come back in any order.
    std::map<std::string, std::string> fetched;
    for (size_t i = 0; i < payloads.size(); ++i) fetched.insert(FetchOne(c));
    ASSERT_EQ(fetched.size(), payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i) {
      const std::string jid = "big-job-" + std::to_string(1000 + i);
      ASSERT_TRUE(fetched.contains(jid)) << jid << " is missing";
      const std::string& arg = fetched[jid];
      ASSERT_EQ(arg.size(), payloads[i].size()) << jid << ": " << arg.substr(0, 200);
      EXPECT_TRUE(arg == payloads[i]) << jid << " differs";
    }
  }

  std::string root_;
};

TEST_F(JobSize, FiveMegabyteJobIsAcceptedByDefaultAndSurvivesACrash) {
  PushCrashFetch({Payload(5'000'000, 1)}, {});
}

// With 8 MiB segments the second job does not fit in what is left of the
// first segment, and the third is larger than a whole segment.
TEST_F(JobSize, RecordsNearAndAboveTheSegmentSize) {
  PushCrashFetch({Payload(5'000'000, 2), Payload(5'000'000, 3), Payload(9'000'000, 4)},
                 {"--segment-bytes", "8388608"});
}

TEST_F(JobSize, PushbOfAThousandJobsFitsByDefault) {
  WerkdProcess server({.data_dir = root_ + "/data"});
  LineClient c = ReadyClient(server.port());
  std::string batch = "PUSHB [";
  for (int i = 0; i < 1000; ++i) {
    if (i > 0) batch += ",";
    batch += R"({"jid":"bulk-job-)" + std::to_string(100000 + i) +
             R"(","jobtype":"SendEmail","queue":"mail","args":[)" + std::to_string(i) +
             R"(,"user@example.com",{"template":"welcome","locale":"en"}],"retry":5})";
  }
  batch += "]";
  ASSERT_GT(batch.size(), 100'000u);
  ASSERT_EQ(c.Call(batch, kBigReplyMillis), "$2\r\n{}\r\n");
  const std::string info = BulkBody(c.Call("INFO"));
  EXPECT_NE(info.find(R"("mail":1000)"), std::string::npos) << info;
}

TEST_F(JobSize, JobOverTheConfiguredLimitIsRefusedAndNotStored) {
  {
    WerkdProcess server({.args = {"--job-bytes-max", "65536"}, .data_dir = root_ + "/data"});
    LineClient c = ReadyClient(server.port());
    const std::string line = PushLine("too-big-0001", Payload(70'000, 5));
    // The size counted is the job's fields: args (["…"], 70,004 bytes), the
    // jid (12) and the jobtype (3).
    EXPECT_EQ(c.Call(line), "-ERR job is too large: 70019 bytes, the limit is 65536\r\n");
    // Under the limit, the same server takes it.
    EXPECT_EQ(c.Call(PushLine("small-job-01", Payload(60'000, 6))), "+OK\r\n");
    // In a PUSHB, the job over the limit gets its entry in the error map.
    const std::string batch = R"(PUSHB [{"jid":"too-big-0003","jobtype":"Big","args":[")" +
                              Payload(70'000, 8) +
                              R"("]},{"jid":"in-batch-01","jobtype":"T","args":[]}])";
    const std::string errors = BulkBody(c.Call(batch));
    EXPECT_EQ(errors.rfind(R"({"too-big-0003":"job is too large: )", 0), 0u) << errors;
    const std::string info = BulkBody(c.Call("INFO"));
    EXPECT_NE(info.find(R"("queues":{"default":2})"), std::string::npos) << info;
    ASSERT_EQ(server.Stop(), 0);
  }
  // Nothing of the refused job reached the log either.
  WerkdProcess server({.data_dir = root_ + "/data"});
  LineClient c = ReadyClient(server.port());
  const std::string jobs = BulkBody(c.Call("FETCH default")) + BulkBody(c.Call("FETCH default"));
  EXPECT_NE(jobs.find("small-job-01"), std::string::npos) << jobs.substr(0, 200);
  EXPECT_NE(jobs.find("in-batch-01"), std::string::npos) << jobs.substr(0, 200);
  EXPECT_EQ(c.Call("FETCH default", 10000), "$-1\r\n");
}

// The [werk] key sets the same limit as the flag.
TEST_F(JobSize, JobLimitFromConfig) {
  WerkdProcess server(
      {.config_toml = "[werk]\njob_bytes_max = 1000\n", .data_dir = root_ + "/data"});
  LineClient c = ReadyClient(server.port());
  EXPECT_EQ(c.Call(PushLine("too-big-0002", Payload(2000, 7))).rfind("-ERR job is too large: ", 0),
            0u);
  EXPECT_EQ(c.Call(PushLine("small-job-02", "x")), "+OK\r\n");
}

}  // namespace
}  // namespace werk::testing
