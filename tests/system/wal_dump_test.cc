// werk-wal-dump on a real log: verifies a healthy one, names the first bad
// byte of a damaged one, and changes nothing.

#include <gtest/gtest.h>

#include <array>
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

}  // namespace
}  // namespace werk::testing
