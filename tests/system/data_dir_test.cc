// The data directory knows its shape: a shard's log directory or the whole
// wal/ gone missing makes werkd refuse to start instead of serving what is
// left (it once started with 495 of 1,000 acknowledged jobs).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

namespace fs = std::filesystem;

class DataDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-datadir-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    data_ = root_ + "/data";
    WerkdProcess server({.args = {"--shards", "2"}, .data_dir = data_});
    LineClient c(server.port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    for (int i = 0; i < 200; ++i)
      ASSERT_EQ(c.Call(R"(PUSH {"jid":"shape-job-)" + std::to_string(1000 + i) +
                       R"(","jobtype":"T","args":[]})"),
                "+OK\r\n");
    ASSERT_EQ(server.Stop(), 0);
  }
  void TearDown() override { fs::remove_all(root_); }

  // The start's failure message, or "" if werkd started.
  std::string StartFails(std::vector<std::string> args = {"--shards", "2"}) {
    try {
      WerkdProcess server({.args = args, .data_dir = data_});
      return "";
    } catch (const std::runtime_error& e) {
      return e.what();
    }
  }

  std::string root_, data_;
};

TEST_F(DataDir, MissingShardDirectoryRefusesToStart) {
  fs::remove_all(data_ + "/wal/shard-001");
  for (const char* shards : {"2", "1", "4"}) {
    const std::string why = StartFails({"--shards", shards});
    EXPECT_NE(why.find("missing shard-001"), std::string::npos) << why;
  }
}

TEST_F(DataDir, MissingLogDirectoryRefusesToStart) {
  fs::remove_all(data_ + "/wal");
  const std::string why = StartFails();
  EXPECT_NE(why.find("/wal is missing"), std::string::npos) << why;
  EXPECT_FALSE(fs::exists(data_ + "/wal"));
}

TEST_F(DataDir, ReshardingIsRecordedInTheManifest) {
  {
    WerkdProcess server({.args = {"--shards", "3"}, .data_dir = data_});
    LineClient c(server.port());
    c.ReadOrFail();
    ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
    EXPECT_NE(c.Call("INFO").find("\"default\":200"), std::string::npos);
  }
  std::ifstream in(data_ + "/MANIFEST");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("\nshards 3\n"), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find("\nreshard 2 3 "), std::string::npos) << ss.str();
}

}  // namespace
}  // namespace werk::testing
