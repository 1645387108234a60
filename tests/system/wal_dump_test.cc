// werk-wal-dump on a real log: verifies a healthy one, names the first bad
// byte of a damaged one, and changes nothing.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "net/shard_storage.h"
#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

int RunDump(const std::string& args, std::string* out) {
  FILE* p = ::popen((std::string(WAL_DUMP_PATH) + " " + args + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  const int status = ::pclose(p);
  return WEXITSTATUS(status);
}

TEST(WalDump, VerifiesAndFindsTheFirstBadByte) {
  char tmpl[] = "/tmp/werk-dump-XXXXXX";
  const std::string data_dir = std::string(::mkdtemp(tmpl)) + "/data";
  {
    // One shard, so its log is long enough to be damaged in the middle.
    WerkdProcess server(
        {.args = {"--segment-bytes", "1048576", "--shards", "1"}, .data_dir = data_dir});
    LineClient c(server.port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    const std::string big(10000, 'x');
    for (int i = 0; i < 300; ++i)
      ASSERT_EQ(c.Call(R"(PUSH {"jid":"job-)" + std::to_string(10000 + i) +
                       R"(","jobtype":"T","args":[")" + big + R"("]})"),
                "+OK\r\n");
    // A crash, not a clean stop (which would checkpoint and drop the
    // segments): the log must be read as it is.
    server.KillNine();
  }
  std::string out;
  EXPECT_EQ(RunDump(data_dir, &out), 0) << out;
  EXPECT_NE(out.find("verified: OK"), std::string::npos) << out;
  EXPECT_NE(out.find("records (LSN 1.."), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunDump(net::ShardLogDir(data_dir) + " --records", &out), 0);
  EXPECT_NE(out.find("push t="), std::string::npos);
  // Each write's marker: the first follows the segment header.
  EXPECT_NE(out.find("write 1 @64: "), std::string::npos) << out.substr(0, 2000);
  EXPECT_NE(out.find("from LSN 1, issued with LSN 0 durable"), std::string::npos);
  EXPECT_NE(out.find(" writes (the last: write "), std::string::npos);
  // Damage the first segment in the middle.
  const std::string first = net::ShardLogDir(data_dir) + "/00000000000000000001.wal";
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(50000);
    f.put('!');
  }
  out.clear();
  EXPECT_EQ(RunDump(data_dir, &out), 1) << out;
  EXPECT_NE(out.find("00000000000000000001.wal"), std::string::npos);
  EXPECT_NE(out.find("CORRUPT at byte"), std::string::npos) << out;
  // And werkd refuses to start on it, naming the file and offset.
  EXPECT_THROW(WerkdProcess({.args = {"--shards", "1"}, .data_dir = data_dir}), std::runtime_error);
  std::filesystem::remove_all(std::filesystem::path(data_dir).parent_path());
}


// Every shard's checkpoint is verified as that shard's (each names its
// shard): a healthy multi-shard directory once failed verification.
TEST(WalDump, VerifiesEveryShardOfAStoppedServer) {
  char tmpl[] = "/tmp/werk-dump-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  const std::string data_dir = root + "/data";
  {
    WerkdProcess server({.args = {"--shards", "4"}, .data_dir = data_dir});
    LineClient c(server.port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    for (int i = 0; i < 200; ++i)
      ASSERT_EQ(c.Call(R"(PUSH {"jid":"shards-job-)" + std::to_string(10000 + i) +
                       R"(","jobtype":"T","queue":"q)" + std::to_string(i % 16) +
                       R"(","args":[]})"),
                "+OK\r\n");
    // A clean stop writes a checkpoint on every shard.
    ASSERT_EQ(server.Stop(), 0);
  }
  std::string out;
  EXPECT_EQ(RunDump(data_dir, &out), 0) << out;
  EXPECT_NE(out.find("verified: OK"), std::string::npos) << out;
  for (const char* shard : {"shard-000", "shard-001", "shard-002", "shard-003"})
    EXPECT_NE(out.find(std::string(shard) + ": "), std::string::npos) << out;
  EXPECT_EQ(out.find("BAD"), std::string::npos) << out;
  // One shard's directory on its own, too.
  out.clear();
  EXPECT_EQ(RunDump(net::ShardLogDir(data_dir, 3), &out), 0) << out;
  std::filesystem::remove_all(root);
}

// A directory a running werkd holds: the dump says so, reads it, and does
// not take the end the server is writing at for damage.
TEST(WalDump, ALiveDirectoryIsNamedInUseAndItsTailIsNotJudged) {
  WerkdProcess server({.args = {"--shards", "2"}});
  LineClient c(server.port());
  c.ReadOrFail();
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(c.Call(R"(PUSH {"jid":"live-job-)" + std::to_string(10000 + i) +
                     R"(","jobtype":"T","args":[]})"),
              "+OK\r\n");
  // Writes keep coming while the dump reads.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    LineClient w(server.port());
    w.ReadOrFail();
    w.Call(R"(HELLO {"v":2})");
    for (int i = 0; !done && i < 100000; ++i)
      w.Call(R"(PUSH {"jid":"live-more-)" + std::to_string(10000 + i) +
             R"(","jobtype":"T","args":[]})");
  });
  std::string out;
  const int status = RunDump(server.data_dir(), &out);
  done = true;
  writer.join();
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("is in use by a running werkd (pid " + std::to_string(server.pid()) + ")"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("verified: OK (a live directory"), std::string::npos) << out;
  // Stopped, the same directory is not in use any more.
  ASSERT_EQ(server.Stop(), 0);
  out.clear();
  EXPECT_EQ(RunDump(server.data_dir(), &out), 0) << out;
  EXPECT_EQ(out.find("in use"), std::string::npos) << out;
}

}  // namespace
}  // namespace werk::testing
