// Every werkctl subcommand beyond info/cron/promote against the real werkd
// (tools/werkctl/*_commands.cc): queues, pause/resume/clear, jobs, job,
// retry/kill/delete, workers, quiet/terminate and wal dump/verify, as
// tables and with --json.

#include <gtest/gtest.h>

#include <simdjson.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/subprocess.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

class WerkctlAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    WerkdProcess::Options o;
    o.args = {"--shards", "3"};
    server_ = std::make_unique<WerkdProcess>(o);
    client_ = ReadyClient(server_->port());
  }
  ProcessResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {WERKCTL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv,
                      {{"FAKTORY_URL", "tcp://127.0.0.1:" + std::to_string(server_->port())}},
                      {"FAKTORY_"});
  }
  void Push(const std::string& jid, const std::string& queue, const std::string& extra = "") {
    ASSERT_EQ(client_.Call(R"(PUSH {"jid":")" + jid + R"(","jobtype":"Mail","queue":")" + queue +
                           R"(","args":["a"])" + extra + "}"),
              "+OK\r\n");
  }
  static std::string Diagnose(const ProcessResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
  }
  static bool Has(const ProcessResult& r, const std::string& s) {
    return r.out.find(s) != std::string::npos;
  }
  std::unique_ptr<WerkdProcess> server_;
  LineClient client_;
};

TEST_F(WerkctlAdmin, QueuesPauseResumeAndClear) {
  Push("queued-job-1", "alpha");
  Push("queued-job-2", "alpha");
  Push("queued-job-3", "beta");
  ProcessResult r = Ctl({"queues"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "QUEUE  SIZE  LATENCY\nalpha  2")) << r.out;
  r = Ctl({"queues", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, R"("alpha":{"size":2,"latency":)")) << r.out;
  r = Ctl({"pause", "alpha"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  // A paused queue gives nothing to FETCH.
  LineClient w = ReadyClient(server_->port());
  EXPECT_EQ(w.Call("FETCH alpha", 10000), "$-1\r\n");
  r = Ctl({"resume", "alpha"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_NE(w.Call("FETCH alpha", 10000), "$-1\r\n");
  r = Ctl({"clear", "beta"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  r = Ctl({"queues"});
  EXPECT_FALSE(Has(r, "beta")) << r.out;
  // An unknown queue is ignored, as Faktory does.
  EXPECT_EQ(Ctl({"resume", "nosuchqueue"}).exit_code, 0);
}

TEST_F(WerkctlAdmin, JobsPagesAndActionsByJid) {
  for (int i = 0; i < 12; ++i)
    Push("sched-job-" + std::to_string(10 + i), "q", R"(,"at":"2099-01-01T00:00:00Z")");
  ProcessResult r = Ctl({"jobs", "scheduled", "--limit", "5"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "RUN AT")) << r.out;
  EXPECT_TRUE(Has(r, "2099-01-01 00:00:00  sched-job-")) << r.out;
  EXPECT_TRUE(Has(r, "5 shown, 12 in scheduled; next page: --cursor ")) << r.out;
  const std::string cursor = r.out.substr(r.out.find("--cursor ") + 9);
  r = Ctl({"jobs", "scheduled", "--limit", "5", "--cursor", cursor.substr(0, cursor.find('\n'))});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "5 shown, 12 in scheduled; next page")) << r.out;
  r = Ctl({"jobs", "scheduled", "--json", "--filter", "*sched-job-15*"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  simdjson::dom::parser parser;
  simdjson::dom::element page;
  ASSERT_EQ(parser.parse(r.out).get(page), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(page["jobs"].get_array().size(), 1u);
  EXPECT_EQ(Ctl({"jobs", "scheduled", "--jobtype", "Other"}).out.find("sched-job"),
            std::string::npos);
  EXPECT_EQ(Ctl({"jobs", "scheduled", "--cursor", "garbage"}).exit_code, 1);
  EXPECT_EQ(Ctl({"jobs", "nowhere"}).exit_code, 2);

  r = Ctl({"job", "sched-job-10"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "where:       scheduled")) << r.out;
  r = Ctl({"job", "sched-job-10", "--json"});
  EXPECT_TRUE(Has(r, R"("where":"scheduled")")) << r.out;

  // kill: scheduled -> dead; retry: dead -> queue; delete: gone.
  r = Ctl({"kill", "sched-job-10", "sched-job-11", "queued-nope-1"});
  EXPECT_EQ(r.exit_code, 1) << Diagnose(r);  // one was not found
  EXPECT_TRUE(Has(r, "sched-job-10: killed (from scheduled)")) << r.out;
  EXPECT_TRUE(Has(r, "queued-nope-1: not found")) << r.out;
  r = Ctl({"jobs", "dead"});
  EXPECT_TRUE(Has(r, "sched-job-11")) << r.out;
  EXPECT_TRUE(Has(r, "2 shown, 2 in dead")) << r.out;
  r = Ctl({"retry", "sched-job-10", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, R"x({"sched-job-10":"enqueued (from dead)"})x")) << r.out;
  r = Ctl({"jobs", "queue", "q"});
  EXPECT_TRUE(Has(r, "sched-job-10")) << r.out;
  r = Ctl({"delete", "sched-job-11", "sched-job-12"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_EQ(Ctl({"job", "sched-job-12"}).exit_code, 1);
  r = Ctl({"kill", "sched-job-10"});  // queued now: not in a set
  EXPECT_TRUE(Has(r, "left alone: it is in queue")) << r.out;
}

TEST_F(WerkctlAdmin, WorkersQuietAndTerminate) {
  Push("busy-job-100", "q");
  LineClient w(server_->port());
  ASSERT_TRUE(w.Read());
  ASSERT_EQ(w.Call(R"(HELLO {"v":2,"wid":"wid-ctl-0001","hostname":"box1","pid":4242,"labels":["ruby"]})"),
            "+OK\r\n");
  ASSERT_NE(w.Call("FETCH q"), "$-1\r\n");
  ProcessResult r = Ctl({"workers"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "wid-ctl-0001  box1      4242  running")) << r.out;
  EXPECT_TRUE(Has(r, "wid-ctl-0001  busy-job-100  q      Mail")) << r.out;
  r = Ctl({"workers", "--json"});
  EXPECT_TRUE(Has(r, R"("reserved_count":1)")) << r.out;
  r = Ctl({"quiet", "wid-ctl-0001"});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "quiet: 1 process moved")) << r.out;
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"wid-ctl-0001"})"), "$17\r\n{\"state\":\"quiet\"}\r\n");
  r = Ctl({"terminate", "all", "--json"});
  EXPECT_TRUE(Has(r, R"({"moved":1})")) << r.out;
  EXPECT_EQ(w.Call(R"(BEAT {"wid":"wid-ctl-0001"})"), "$21\r\n{\"state\":\"terminate\"}\r\n");
  EXPECT_EQ(Ctl({"quiet", "wid-nosuch-1"}).exit_code, 1);
}

TEST_F(WerkctlAdmin, WalVerifyAndDump) {
  Push("wal-job-0001", "q");
  ProcessResult r = Ctl({"wal", "verify", server_->data_dir()});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "verified: OK")) << r.out;
  r = Ctl({"wal", "dump", server_->data_dir()});
  ASSERT_EQ(r.exit_code, 0) << Diagnose(r);
  EXPECT_TRUE(Has(r, "wal-job-0001")) << r.out;
  EXPECT_EQ(Ctl({"wal", "verify", server_->data_dir() + "/nothing-here"}).exit_code, 2);
}

}  // namespace
}  // namespace werk::testing
