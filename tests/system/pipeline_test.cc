// Deep pipelines against the real werkd: a client that keeps writing
// commands while it reads the replies gets every reply, in order, whatever
// shards the commands run on. What bounds the input a connection buffers is
// a line without its newline, never the replies other shards still owe.

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstdio>
#include <string>
#include <thread>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

class PipelineTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    WerkdProcess::Options o;
    // A small line limit puts the old failure (input counted while waiting
    // for other shards) within reach of a short test.
    o.args = {"--shards", std::to_string(GetParam()), "--line-bytes-max", "1048576"};
    server_ = std::make_unique<WerkdProcess>(o);
  }
  LineClient Connect() {
    LineClient c(server_->port());
    EXPECT_EQ(c.ReadOrFail(), "+HI {\"v\":2}\r\n");
    EXPECT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    return c;
  }
  // Writes `count` commands made by `command(i)` from another thread while
  // this one reads; `expect(i)` is the reply command i must get.
  template <typename Command, typename Expect>
  void PipelineAndCheck(LineClient& c, int count, Command command, Expect expect) {
    std::thread writer([&] {
      std::string chunk;
      for (int i = 0; i < count; ++i) {
        chunk += command(i);
        if (chunk.size() > (64 << 10) || i + 1 == count) {
          if (!c.TrySend(chunk)) return;  // the server closed: the reader reports it
          chunk.clear();
        }
      }
    });
    int i = 0;
    for (; i < count; ++i) {
      const auto reply = c.Read(10000);
      if (!reply) break;
      const std::string want = expect(i);
      if (want.empty()) {
        if (reply->rfind("$", 0) != 0) {
          ADD_FAILURE() << "reply " << i << ": " << *reply;
          break;
        }
      } else if (*reply != want) {
        ADD_FAILURE() << "reply " << i << ": " << *reply << " instead of " << want;
        break;
      }
    }
    if (i < count) {
      c.Close();  // unblocks the writer
      writer.join();
      FAIL() << "only " << i << " of " << count << " replies came back";
    }
    writer.join();
  }
  std::unique_ptr<WerkdProcess> server_;
};

// Every 100th command is a FAIL of an unknown jid: its error names the jid,
// so a reply out of place shows. The PUSHes are forwarded to the shards
// owning their jobs while the connection keeps reading; 50,000 of them
// (about 13 MB) are far past the 1 MiB line limit.
TEST_P(PipelineTest, PushesKeepFlowingWhileRepliesAreOwed) {
  LineClient c = Connect();
  constexpr int kCommands = 50000;
  const std::string pad(200, 'x');
  PipelineAndCheck(
      c, kCommands,
      [&](int i) {
        char jid[32];
        std::snprintf(jid, sizeof jid, "pipe-%07d", i);
        if (i % 100 == 99) return std::string(R"(FAIL {"jid":")") + jid + "\"}\r\n";
        return std::string(R"(PUSH {"jid":")") + jid + R"(","jobtype":"T","args":[")" + pad +
               "\"]}\r\n";
      },
      [](int i) {
        if (i % 100 != 99) return std::string("+OK\r\n");
        char jid[32];
        std::snprintf(jid, sizeof jid, "pipe-%07d", i);
        return std::string("-ERR Job not found ") + jid + "\r\n";
      });
  const std::string info = c.Call("INFO");
  EXPECT_NE(info.find(R"("queues":{"default":49500})"), std::string::npos) << info;
}

// INFO asks every shard; 10,000 of them pipelined, a FAIL of an unknown jid
// after every 100th to check the order.
TEST_P(PipelineTest, PipelinedInfoIsAnsweredInOrder) {
  LineClient c = Connect();
  constexpr int kCommands = 10100;
  PipelineAndCheck(
      c, kCommands,
      [](int i) {
        if (i % 101 == 100) return R"(FAIL {"jid":"unknown-)" + std::to_string(i) + "\"}\r\n";
        return std::string("INFO\r\n");
      },
      [](int i) {
        if (i % 101 == 100) return "-ERR Job not found unknown-" + std::to_string(i) + "\r\n";
        return std::string();  // a bulk INFO reply
      });
}

// A client that writes a deep pipeline and closes its side at once: the
// commands still unread when the end of input arrives (waiting behind an
// INFO or behind forwarded PUSHes) run, and every reply comes back.
TEST_P(PipelineTest, HalfCloseAfterADeepPipelineGetsEveryReply) {
  LineClient c = Connect();
  constexpr int kCommands = 3000;
  std::string batch;
  for (int i = 0; i < kCommands; ++i) {
    if (i % 3 == 0) batch += "INFO\r\n";
    else if (i % 3 == 1) batch += R"(PUSH {"jid":"half-job-)" + std::to_string(i) + R"(","jobtype":"T","args":[]})" "\r\n";
    else batch += R"(FAIL {"jid":"unknown-)" + std::to_string(i) + "\"}\r\n";
  }
  c.Send(batch);
  ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
  for (int i = 0; i < kCommands; ++i) {
    const auto reply = c.Read(10000);
    ASSERT_TRUE(reply.has_value()) << "only " << i << " of " << kCommands << " replies came back";
    if (i % 3 == 0) ASSERT_EQ(reply->rfind("$", 0), 0u) << "reply " << i << ": " << *reply;
    else if (i % 3 == 1) ASSERT_EQ(*reply, "+OK\r\n") << "reply " << i;
    else ASSERT_EQ(*reply, "-ERR Job not found unknown-" + std::to_string(i) + "\r\n") << "reply " << i;
  }
  EXPECT_TRUE(c.WaitClosed());
}

INSTANTIATE_TEST_SUITE_P(Shards, PipelineTest, ::testing::Values(1, 2, 4),
                         [](const auto& info) { return std::to_string(info.param); });

}  // namespace
}  // namespace werk::testing
