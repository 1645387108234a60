// The WERK extension commands against the real werkd on three shards
// (net/shard_werk.cc, docs/compatibility.md "The WERK extension"): pages of
// the sets and queues across shards, a job by jid, the worker processes,
// quiet through WERK WORKER as the next BEAT reports it, and clear errors
// for bad input.

#include <gtest/gtest.h>

#include <simdjson.h>

#include <set>
#include <string>
#include <vector>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

// The payload of a bulk reply ("$n\r\n<payload>\r\n"), or the reply as is.
std::string Bulk(const std::string& reply) {
  if (reply.empty() || reply[0] != '$') return reply;
  const size_t nl = reply.find("\r\n");
  return reply.substr(nl + 2, reply.size() - nl - 4);
}

WerkdProcess::Options ThreeShards() {
  WerkdProcess::Options o;
  o.args = {"--shards", "3"};
  return o;
}

std::string Jid(int i) { return "werkjob-" + std::to_string(100000 + i); }

void Push(LineClient& c, const std::string& jid, const std::string& queue,
          const std::string& extra = "") {
  ASSERT_EQ(c.Call(R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","queue":")" + queue +
                   R"(","args":[1])" + extra + "}"),
            "+OK\r\n");
}

TEST(WerkCommands, PagesOfTheScheduledSetCoverEveryJobOnce) {
  WerkdProcess server(ThreeShards());
  LineClient c = ReadyClient(server.port());
  std::set<std::string> pushed;
  for (int i = 0; i < 30; ++i) {
    // Three times, ten jobs each: ties across shards.
    Push(c, Jid(i), "q", R"(,"at":"2099-01-0)" + std::to_string(1 + i % 3) + R"(T00:00:00Z")");
    pushed.insert(Jid(i));
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  simdjson::dom::parser parser;
  std::string last_at;
  while (true) {
    const std::string req = R"({"target":"scheduled","limit":7)" +
                            (cursor.empty() ? "" : R"(,"cursor":")" + cursor + "\"") + "}";
    const std::string page = Bulk(c.Call("WERK JOBS " + req));
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(page).get(doc), simdjson::SUCCESS) << page;
    EXPECT_EQ(int64_t(doc["size"]), 30);
    for (simdjson::dom::element row : doc["jobs"].get_array()) {
      const std::string jid{std::string_view(row["job"]["jid"])};
      EXPECT_TRUE(seen.insert(jid).second) << jid;
      const std::string at{std::string_view(row["sort_at"])};
      EXPECT_LE(last_at, at);
      last_at = at;
    }
    ++pages;
    if (doc["cursor"].is_null()) break;
    cursor = std::string(std::string_view(doc["cursor"]));
    ASSERT_LT(pages, 20);
  }
  EXPECT_EQ(seen, pushed);
  EXPECT_EQ(pages, 5);
  // A filter: by jid, and by a glob over the JSON.
  const std::string one = Bulk(c.Call(R"(WERK JOBS {"target":"scheduled","filter":{"jids":[")" +
                                      Jid(4) + R"("]}})"));
  EXPECT_NE(one.find(Jid(4)), std::string::npos) << one;
  EXPECT_EQ(one.find(Jid(5)), std::string::npos) << one;
  const std::string glob = Bulk(c.Call(
      R"(WERK JOBS {"target":"scheduled","limit":100,"filter":{"regexp":"*2099-01-02*"}})"));
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(glob).get(doc), simdjson::SUCCESS) << glob;
  EXPECT_EQ(doc["jobs"].get_array().size(), 10u);
}

TEST(WerkCommands, AQueuePageAndOneJobWhereverItIs) {
  WerkdProcess server(ThreeShards());
  LineClient c = ReadyClient(server.port());
  for (int i = 0; i < 5; ++i) Push(c, Jid(i), "work");
  const std::string page = Bulk(c.Call(R"(WERK JOBS {"target":"queue","queue":"work"})"));
  EXPECT_NE(page.find(R"("size":5)"), std::string::npos) << page;
  EXPECT_NE(page.find(R"("cursor":null)"), std::string::npos) << page;

  std::string job = Bulk(c.Call("WERK JOB " + Jid(0)));
  EXPECT_NE(job.find(R"("where":"queue","queue":"work")"), std::string::npos) << job;

  LineClient w(server.port());
  ASSERT_TRUE(w.Read());
  ASSERT_EQ(w.Call(R"(HELLO {"v":2,"wid":"wid-werk-test1","hostname":"h1","pid":7,"labels":["x"]})"),
            "+OK\r\n");
  const std::string fetched = Bulk(w.Call("FETCH work"));
  const size_t at = fetched.find("\"jid\":\"");
  ASSERT_NE(at, std::string::npos) << fetched;
  const std::string jid = fetched.substr(at + 7, fetched.find('"', at + 7) - at - 7);
  job = Bulk(c.Call("WERK JOB " + jid));
  EXPECT_NE(job.find(R"("where":"working")"), std::string::npos) << job;
  EXPECT_NE(job.find(R"("wid":"wid-werk-test1")"), std::string::npos) << job;

  const std::string workers = Bulk(c.Call("WERK WORKERS"));
  EXPECT_NE(workers.find(R"("wid":"wid-werk-test1","hostname":"h1","pid":7,"labels":["x"])"),
            std::string::npos)
      << workers;
  EXPECT_NE(workers.find(R"("state":"running")"), std::string::npos) << workers;
  EXPECT_NE(workers.find("\"reserved\":[{\"jid\":\"" + jid + "\",\"queue\":\"work\""),
            std::string::npos)
      << workers;

  ASSERT_EQ(w.Call(R"(FAIL {"jid":")" + jid + R"(","errtype":"Boom","message":"it broke","backtrace":["a.rb:1"]})"),
            "+OK\r\n");
  job = Bulk(c.Call("WERK JOB " + jid));
  EXPECT_NE(job.find(R"("where":"retries")"), std::string::npos) << job;
  EXPECT_NE(job.find(R"("errtype":"Boom")"), std::string::npos) << job;
  EXPECT_NE(job.find(R"("message":"it broke")"), std::string::npos) << job;
  const std::string retries = Bulk(c.Call(R"(WERK JOBS {"target":"retries"})"));
  EXPECT_NE(retries.find(jid), std::string::npos) << retries;

  // Quiet from the operator: the next BEAT says so, and FETCH gets nothing.
  EXPECT_EQ(Bulk(c.Call(R"(WERK WORKER {"wid":"wid-werk-test1","state":"quiet"})")),
            R"({"moved":1})");
  EXPECT_EQ(Bulk(w.Call(R"(BEAT {"wid":"wid-werk-test1"})")), R"({"state":"quiet"})");
  EXPECT_EQ(w.Call("FETCH work", 10000), "$-1\r\n");
  EXPECT_EQ(Bulk(c.Call(R"(WERK WORKER {"wid":"all","state":"terminate"})")), R"({"moved":1})");
  EXPECT_EQ(Bulk(w.Call(R"(BEAT {"wid":"wid-werk-test1"})")), R"({"state":"terminate"})");
}

TEST(WerkCommands, BadInputGetsAClearError) {
  WerkdProcess server(ThreeShards());
  LineClient c = ReadyClient(server.port());
  auto starts = [](const std::string& reply, const std::string& prefix) {
    return reply.rfind(prefix, 0) == 0;
  };
  EXPECT_TRUE(starts(c.Call("WERK"), "-ERR WERK needs a subcommand"));
  EXPECT_TRUE(starts(c.Call("WERK NOPE"), "-ERR no such WERK subcommand: NOPE"));
  EXPECT_TRUE(starts(c.Call("WERK JOBS"), "-ERR WERK JOBS needs"));
  EXPECT_TRUE(starts(c.Call("WERK JOBS {nope"), "-ERR "));
  EXPECT_TRUE(starts(c.Call("WERK JOBS [1]"), "-ERR "));
  EXPECT_TRUE(starts(c.Call(R"(WERK JOBS {"target":"elsewhere"})"), "-ERR target must be"));
  EXPECT_TRUE(starts(c.Call(R"(WERK JOBS {"target":"retries","limit":5000})"), "-ERR limit must"));
  EXPECT_TRUE(starts(c.Call(R"(WERK JOBS {"target":"retries","limit":"x"})"), "-ERR "));
  EXPECT_TRUE(starts(c.Call(R"(WERK JOBS {"target":"retries","cursor":"zz"})"), "-ERR bad cursor"));
  EXPECT_TRUE(starts(c.Call(R"(WERK JOBS {"target":"queue"})"), "-ERR a queue listing needs"));
  EXPECT_TRUE(starts(c.Call("WERK JOB"), "-ERR WERK JOB needs one jid"));
  EXPECT_TRUE(starts(c.Call("WERK JOB nosuch-jid-1"), "-ERR "));
  EXPECT_TRUE(starts(c.Call("WERK WORKERS x"), "-ERR WERK WORKERS takes no argument"));
  EXPECT_TRUE(starts(c.Call(R"(WERK WORKER {"wid":"w-12345678","state":"running"})"),
                     "-ERR state must be quiet or terminate"));
  EXPECT_TRUE(starts(c.Call(R"(WERK WORKER {"wid":"w-12345678","state":"quiet"})"),
                     "-ERR unknown worker"));
  // The connection still works.
  EXPECT_EQ(Bulk(c.Call("WERK WORKERS")), R"({"workers":[]})");
}

}  // namespace
}  // namespace werk::testing
