#include "net/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace werk::net {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-config-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ + "/conf.d");
    ::unsetenv("FAKTORY_PASSWORD");
    ::unsetenv("FAKTORY_SKIP_PASSWORD");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/conf.d/" + name) << text;
  }
  std::string dir_;
};

TEST_F(ConfigTest, ReadsFilesInOrderAsOneDocument) {
  Write("a.toml", "[faktory]\npassword = \"sekrit\"\nbinding = \"127.0.0.1:9000\"\n");
  Write("b.toml", "[werk]\nconnections_max = 10\nline_bytes_max = 4096\nshards = 3\n");
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "sekrit");
  EXPECT_EQ(o.binding, "127.0.0.1:9000");
  EXPECT_EQ(o.connections_max, 10u);
  EXPECT_EQ(o.line_bytes_max, 4096u);
  EXPECT_EQ(o.job_bytes_max, 4096u);  // never above the line limit
  EXPECT_EQ(o.shards, 3u);
}

TEST_F(ConfigTest, ConnectionTimeoutsAndTheHandshakePool) {
  Write("a.toml",
        "[werk]\nhandshake_connections_max = 32\nhandshake_timeout = 5\nidle_timeout = 0\n"
        "heartbeat_timeout = 90\n");
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(HandshakeConnectionsMax(o), 32u);
  EXPECT_EQ(o.handshake_timeout_s, 5);
  EXPECT_EQ(o.idle_timeout_s, 0);  // disabled
  EXPECT_EQ(o.heartbeat_timeout_s, 90);
  // The default pool: a quarter of the connection limit, at least 256.
  ServerOptions d;
  EXPECT_EQ(HandshakeConnectionsMax(d), 500u);
  d.connections_max = 50;
  EXPECT_EQ(HandshakeConnectionsMax(d), 256u);
}

TEST_F(ConfigTest, UnknownOrInvalidWerkSettingsAreRefused) {
  Write("a.toml", "[werk]\nidle_timeout_s = 10\n");
  ServerOptions o;
  o.config_dir = dir_;
  EXPECT_EQ(LoadConfig(&o, {}).message(), "[werk] has no setting 'idle_timeout_s'");
  Write("a.toml", "[werk]\nhandshake_timeout = 0\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(), "[werk] handshake_timeout must be a positive integer");
  Write("a.toml", "[werk]\nidle_timeout = -1\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(), "[werk] idle_timeout must be a non-negative integer");
  // Bounded, so deadlines computed from them cannot overflow.
  Write("a.toml", "[werk]\nheartbeat_timeout = 9223372036854775807\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            "heartbeat_timeout is above the limit of 604800 seconds (7 days)");
}

TEST_F(ConfigTest, FlagsWinOverToml) {
  Write("a.toml", "[faktory]\nbinding = \"127.0.0.1:9000\"\n[werk]\nshards = 8\n");
  ServerOptions o;
  o.config_dir = dir_;
  o.binding = "127.0.0.1:7419";
  o.shards = 2;
  FlagsGiven given;
  given.binding = true;
  given.shards = true;
  ASSERT_TRUE(LoadConfig(&o, given).ok());
  EXPECT_EQ(o.binding, "127.0.0.1:7419");
  EXPECT_EQ(o.shards, 2u);
}

TEST_F(ConfigTest, EnvPasswordAndPasswordFile) {
  std::ofstream(dir_ + "/pw") << "  from-file \n";
  ::setenv("FAKTORY_PASSWORD", (dir_ + "/pw").c_str(), 1);
  Write("a.toml", "[faktory]\npassword = \"toml\"\n");
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "from-file");
  ::unsetenv("FAKTORY_PASSWORD");
}

TEST_F(ConfigTest, Errors) {
  ServerOptions o;
  o.config_dir = dir_;
  o.environment = "prod";
  EXPECT_NE(LoadConfig(&o, {}).message().find("unknown environment"), std::string::npos);
  o.environment = "production";
  EXPECT_NE(LoadConfig(&o, {}).message().find("requires a password"), std::string::npos);
  ::setenv("FAKTORY_SKIP_PASSWORD", "yes", 1);
  EXPECT_TRUE(LoadConfig(&o, {}).ok());
  ::unsetenv("FAKTORY_SKIP_PASSWORD");
  o.environment = "development";
  Write("a.toml", "[faktory\n");
  EXPECT_NE(LoadConfig(&o, {}).message().find("cannot parse"), std::string::npos);
  Write("a.toml", "[werk]\nconnections_max = -1\n");
  EXPECT_NE(LoadConfig(&o, {}).message().find("positive"), std::string::npos);
  Write("a.toml", "");
  o.binding = "nonsense";
  EXPECT_NE(LoadConfig(&o, {}).message().find("invalid binding"), std::string::npos);
}

TEST(SplitHostPort, Forms) {
  std::string h, p;
  ASSERT_TRUE(SplitHostPort(":7419", &h, &p));
  EXPECT_EQ(h, "");
  EXPECT_EQ(p, "7419");
  ASSERT_TRUE(SplitHostPort("[::1]:80", &h, &p));
  EXPECT_EQ(h, "::1");
  EXPECT_FALSE(SplitHostPort("localhost", &h, &p));
  EXPECT_FALSE(SplitHostPort("host:x", &h, &p));
}

TEST(SkipRecord, ParsesShardAndLsn) {
  auto r = ParseRecordRef("3:42");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->shard, 3u);
  EXPECT_EQ(r->lsn, 42u);
  for (const char* bad : {"", "3", ":42", "3:", "3:0", "x:1", "1:x", "-1:5", "1:-5", "64:1",
                          "1:2:3", " 1:2"})
    EXPECT_FALSE(ParseRecordRef(bad).has_value()) << bad;
}

}  // namespace
}  // namespace werk::net
