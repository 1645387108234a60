#include "net/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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
  const std::string file = dir_ + "/conf.d/a.toml: ";
  EXPECT_EQ(LoadConfig(&o, {}).message(), file + "[werk] has no setting 'idle_timeout_s'");
  Write("a.toml", "[werk]\nhandshake_timeout = 0\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            file + "[werk] handshake_timeout must be a positive integer");
  Write("a.toml", "[werk]\nidle_timeout = -1\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            file + "[werk] idle_timeout must be a non-negative integer");
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
  o.password_file_fallback = dir_ + "/no-such-password";
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

TEST_F(ConfigTest, DefaultLimitsAcceptWhatFaktoryAccepts) {
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.job_bytes_max, size_t(16) << 20);  // a job with a few MB of arguments
  EXPECT_EQ(o.line_bytes_max, size_t(16) << 20);
  Write("a.toml", "[werk]\njob_bytes_max = 2048\nline_bytes_max = 8192\n");
  std::vector<std::string> warnings;
  ASSERT_TRUE(LoadConfig(&o, {}, &warnings).ok());
  EXPECT_EQ(o.job_bytes_max, 2048u);
  EXPECT_EQ(o.line_bytes_max, 8192u);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(ConfigTest, AJobLimitAboveTheLineLimitIsCutAndSaid) {
  Write("a.toml", "[werk]\njob_bytes_max = 9000\nline_bytes_max = 8192\n");
  ServerOptions o;
  o.config_dir = dir_;
  std::vector<std::string> warnings;
  ASSERT_TRUE(LoadConfig(&o, {}, &warnings).ok());
  EXPECT_EQ(o.job_bytes_max, 8192u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "job_bytes_max (9000) is above line_bytes_max (8192): jobs are limited to 8192 bytes");
  Write("a.toml", "[werk]\nline_bytes_max = 99999999999\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(), "line_bytes_max is above the hard limit of 268435456");
}

TEST_F(ConfigTest, TablesWerkDoesNotImplementAreWarnedAboutWithTheirFile) {
  Write("a.toml", "[faktory]\npassword = \"pw\"\n");
  Write("cron.toml",
        "[[cron]]\nschedule = \"*/5 * * * *\"\n  [cron.job]\n  type = \"FiveMinuteReport\"\n\n"
        "[[cron]]\nschedule = \"12 * * * *\"\n  [cron.job]\n  type = \"HourlyReport\"\n");
  Write("statsd.toml", "[statsd]\nlocation = \"localhost:8125\"\n");
  Write("throttles.toml", "[throttles]\nbulk = { concurrency = 2, timeout = 60 }\n");
  Write("zz.toml", "[mystery]\nx = 1\n[[more]]\ny = 2\n");
  ServerOptions o;
  o.config_dir = dir_;
  std::vector<std::string> warnings;
  ASSERT_TRUE(LoadConfig(&o, {}, &warnings).ok());
  EXPECT_EQ(o.password, "pw");
  const std::string confd = dir_ + "/conf.d/";
  // [[cron]] is implemented: loaded, not warned about.
  ASSERT_EQ(warnings.size(), 4u);
  EXPECT_EQ(warnings[0], confd +
                             "statsd.toml: [statsd] is not implemented by werk yet (no metrics are "
                             "sent to statsd)");
  EXPECT_EQ(warnings[1], confd +
                             "throttles.toml: [throttles] is not implemented by werk yet (queues "
                             "are not throttled)");
  EXPECT_EQ(warnings[2], confd + "zz.toml: [mystery] is not a Faktory or werk setting (ignored)");
  EXPECT_EQ(warnings[3], confd + "zz.toml: [[more]] is not a Faktory or werk setting (ignored)");
  ASSERT_NE(o.cron, nullptr);
  ASSERT_EQ(o.cron->entries.size(), 2u);
  EXPECT_EQ(o.cron->entries[0].job.jobtype, "FiveMinuteReport");
  EXPECT_EQ(o.cron->entries[0].origin, confd + "cron.toml:1");
  EXPECT_EQ(o.cron->entries[1].schedule.expression(), "12 * * * *");
  EXPECT_EQ(o.cron->entries[1].origin, confd + "cron.toml:6");
}

TEST_F(ConfigTest, NoCronEntriesIsAnEmptyTable) {
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  ASSERT_NE(o.cron, nullptr);
  EXPECT_TRUE(o.cron->entries.empty());
  ServerOptions none;  // no config directory at all
  ASSERT_TRUE(LoadConfig(&none, {}).ok());
  ASSERT_NE(none.cron, nullptr);
  EXPECT_TRUE(none.cron->entries.empty());
}

TEST_F(ConfigTest, ACronEntryWerkCannotRunRefusesTheStartWithItsFileAndLine) {
  Write("a.toml", "[faktory]\npassword = \"pw\"\n");
  Write("cron.toml",
        "[[cron]]\nschedule = \"0 12 27 * *\"\n  [cron.job]\n  type = \"Invoice\"\n\n"
        "[[cron]]\nschedule = \"0 12 32 * *\"\n  [cron.job]\n  type = \"Broken\"\n");
  ServerOptions o;
  o.config_dir = dir_;
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            dir_ + "/conf.d/cron.toml:7: [[cron]] entry 2 (0 12 32 * *): schedule: day-of-month: "
                   "32 is out of range 1-31");
}

TEST_F(ConfigTest, CronJobsAreValidatedAgainstTheJobLimit) {
  Write("a.toml", "[werk]\njob_bytes_max = 200\n");
  Write("cron.toml",
        "[[cron]]\nschedule = \"@daily\"\n  [cron.job]\n  type = \"Big\"\n  args = [\"" +
            std::string(200, 'x') + "\"]\n");
  ServerOptions o;
  o.config_dir = dir_;
  const std::string message(LoadConfig(&o, {}).message());
  EXPECT_EQ(message.rfind(dir_ + "/conf.d/cron.toml:3: [[cron]] entry 1 (@daily): job: job is "
                                 "too large: ",
                          0),
            0u)
      << message;
}

TEST_F(ConfigTest, LoadCronTableRereadsConfD) {
  Write("cron.toml",
        "[[cron]]\nschedule = \"@hourly\"\n  [cron.job]\n  type = \"A\"\n  priority = 3\n");
  std::vector<std::string> warnings;
  auto table = LoadCronTable(dir_, {}, &warnings);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ((*table)->entries.size(), 1u);
  EXPECT_EQ((*table)->entries[0].job.jobtype, "A");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], dir_ + "/conf.d/cron.toml:5: [[cron]] entry 1 (@hourly): job.priority "
                                "has no effect (Faktory's jobs have no priority)");
  Write("cron.toml", "[[cron]]\nschedule = \"@hourly\"\n");
  table = LoadCronTable(dir_, {}, nullptr);
  EXPECT_EQ(table.status().message(),
            dir_ + "/conf.d/cron.toml:1: [[cron]] entry 1 (@hourly): job: missing (a [cron.job] "
                   "table with the job's type)");
  auto none = LoadCronTable(dir_ + "/nowhere", {}, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)->entries.empty());
}

TEST_F(ConfigTest, UnknownKeysOfFaktoryAndWebAreWarnedAbout) {
  Write("a.toml", "top = 1\n");
  Write("b.toml",
        "[faktory]\nbinding = \"127.0.0.1:9000\"\npasword = \"typo\"\n"
        "[web]\nbinding = \"127.0.0.1:9001\"\npassword = \"web\"\ntheme = \"dark\"\n");
  ServerOptions o;
  o.config_dir = dir_;
  std::vector<std::string> warnings;
  ASSERT_TRUE(LoadConfig(&o, {}, &warnings).ok());
  EXPECT_EQ(o.binding, "127.0.0.1:9000");
  EXPECT_EQ(o.web_binding, "127.0.0.1:9001");
  const std::string confd = dir_ + "/conf.d/";
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], confd + "a.toml: top is not a Faktory or werk setting (ignored)");
  EXPECT_EQ(warnings[1],
            confd + "b.toml: [faktory] pasword is not implemented by werk (ignored)");
  EXPECT_EQ(warnings[2], confd + "b.toml: [web] theme is not implemented by werk (ignored)");
  // A setting of the wrong type is an error, not a silent default.
  Write("b.toml", "[faktory]\nbinding = 7419\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(), confd + "b.toml: [faktory] binding must be a string");
  Write("b.toml", "faktory = \"x\"\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            confd + "b.toml: faktory must be a table ([faktory])");
}

TEST_F(ConfigTest, ParseErrorsNameTheFileAndItsLine) {
  Write("a.toml", "[faktory]\npassword = \"pw\"\n");
  Write("b.toml", "\n\n[werk\n");
  ServerOptions o;
  o.config_dir = dir_;
  const std::string message(LoadConfig(&o, {}).message());
  EXPECT_EQ(message.rfind("cannot parse " + dir_ + "/conf.d/b.toml: ", 0), 0u) << message;
  EXPECT_NE(message.find("at line 3 "), std::string::npos) << message;
}

TEST_F(ConfigTest, PasswordFileFallbackOutsideDevelopment) {
  const std::string fallback = dir_ + "/password";
  ServerOptions o;
  o.config_dir = dir_;
  o.environment = "production";
  o.password_file_fallback = fallback;
  // Absent: production still requires a password, and says where it looked.
  const std::string message(LoadConfig(&o, {}).message());
  EXPECT_NE(message.find("requires a password"), std::string::npos) << message;
  EXPECT_NE(message.find(fallback), std::string::npos) << message;
  // Present: used, trimmed.
  std::ofstream(fallback) << "  from-fallback\n";
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "from-fallback");
  o.environment = "staging";
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "from-fallback");
  // [faktory] password wins over it.
  Write("a.toml", "[faktory]\npassword = \"toml\"\n");
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "toml");
  // FAKTORY_PASSWORD wins over both.
  ::setenv("FAKTORY_PASSWORD", "env", 1);
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "env");
  ::unsetenv("FAKTORY_PASSWORD");
  // Development ignores the fallback.
  Write("a.toml", "");
  o.environment = "development";
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.password, "");
}

TEST_F(ConfigTest, FaktorysRedisDataInTheDataDirectoryIsWarnedAbout) {
  ServerOptions o;
  o.config_dir = dir_;
  o.data_dir = dir_ + "/db";
  std::filesystem::create_directories(o.data_dir);
  std::vector<std::string> warnings;
  ASSERT_TRUE(LoadConfig(&o, {}, &warnings).ok());
  EXPECT_TRUE(warnings.empty());
  std::ofstream(o.data_dir + "/faktory.rdb") << "REDIS0009";
  ASSERT_TRUE(LoadConfig(&o, {}, &warnings).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], o.data_dir +
                             "/faktory.rdb is Faktory's Redis data: werk does not read it, and "
                             "the jobs it holds are not served");
}

TEST_F(ConfigTest, ReplicationSettingsFromTomlAndTheirChecks) {
  Write("a.toml", "[werk]\nreplica_of = \"127.0.0.1:7500\"\n");
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.replica_of, "127.0.0.1:7500");
  // A flag wins.
  ServerOptions f;
  f.config_dir = dir_;
  f.replica_of = "127.0.0.1:7600";
  FlagsGiven given;
  given.replica_of = true;
  ASSERT_TRUE(LoadConfig(&f, given).ok());
  EXPECT_EQ(f.replica_of, "127.0.0.1:7600");
  const std::string file = dir_ + "/conf.d/a.toml: ";
  Write("a.toml", "[werk]\nreplication_bind = 7500\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            file + "[werk] replication_bind must be a \"host:port\" string");
  // Both at once: a standby's address for a standby of its own once
  // promoted. And a non-loopback address without a password.
  Write("a.toml", "[werk]\nreplication_bind = \"127.0.0.1:7501\"\n");
  ServerOptions both;
  both.config_dir = dir_;
  both.replica_of = "127.0.0.1:7500";
  EXPECT_TRUE(LoadConfig(&both, {}).ok());
  EXPECT_EQ(both.replication_binding, "127.0.0.1:7501");
  Write("a.toml", "[werk]\nreplication_bind = \"0.0.0.0:7501\"\n");
  ServerOptions open;
  open.config_dir = dir_;
  EXPECT_NE(LoadConfig(&open, {}).message().find("needs a password"), absl::string_view::npos);
  ::setenv("FAKTORY_PASSWORD", "pw", 1);
  ServerOptions with_password;
  with_password.config_dir = dir_;
  EXPECT_TRUE(LoadConfig(&with_password, {}).ok());
  ::unsetenv("FAKTORY_PASSWORD");
}

TEST_F(ConfigTest, StandbyPolicyAndTimeoutFromToml) {
  ServerOptions d;
  d.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&d, {}).ok());
  EXPECT_EQ(d.standby_policy, wal::StandbyPolicy::kRequired);
  EXPECT_EQ(d.standby_timeout_ms, 10'000);
  Write("a.toml", "[werk]\nstandby_policy = \"degrade\"\nstandby_timeout = 2.5\n");
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_EQ(o.standby_policy, wal::StandbyPolicy::kDegrade);
  EXPECT_EQ(o.standby_timeout_ms, 2500);
  // Flags win.
  ServerOptions f;
  f.config_dir = dir_;
  f.standby_timeout_ms = 700;
  FlagsGiven given;
  given.standby_policy = given.standby_timeout = true;
  ASSERT_TRUE(LoadConfig(&f, given).ok());
  EXPECT_EQ(f.standby_policy, wal::StandbyPolicy::kRequired);
  EXPECT_EQ(f.standby_timeout_ms, 700);
  const std::string file = dir_ + "/conf.d/a.toml: ";
  Write("a.toml", "[werk]\nstandby_policy = \"sometimes\"\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            file + "[werk] standby_policy must be \"required\" or \"degrade\"");
  for (const char* bad : {"0", "-1", "\"10s\"", "100000"}) {
    Write("a.toml", std::string("[werk]\nstandby_timeout = ") + bad + "\n");
    EXPECT_EQ(LoadConfig(&o, {}).message(),
              file + "[werk] standby_timeout must be a number of seconds from 0.1 to 3600")
        << bad;
  }
  EXPECT_EQ(ParseStandbyPolicy("degrade"), wal::StandbyPolicy::kDegrade);
  EXPECT_EQ(ParseStandbyPolicy("Degrade"), std::nullopt);
}

TEST_F(ConfigTest, DiscardDiverged) {
  ServerOptions d;
  d.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&d, {}).ok());
  EXPECT_FALSE(d.discard_diverged);
  Write("a.toml", "[werk]\ndiscard_diverged = true\n");
  ServerOptions o;
  o.config_dir = dir_;
  ASSERT_TRUE(LoadConfig(&o, {}).ok());
  EXPECT_TRUE(o.discard_diverged);
  // The flag, given, wins (it can only say true).
  Write("a.toml", "[werk]\ndiscard_diverged = false\n");
  ServerOptions f;
  f.config_dir = dir_;
  f.discard_diverged = true;
  FlagsGiven given;
  given.discard_diverged = true;
  ASSERT_TRUE(LoadConfig(&f, given).ok());
  EXPECT_TRUE(f.discard_diverged);
  Write("a.toml", "[werk]\ndiscard_diverged = \"yes\"\n");
  EXPECT_EQ(LoadConfig(&o, {}).message(),
            dir_ + "/conf.d/a.toml: [werk] discard_diverged must be true or false");
}

TEST(DefaultDirs, FaktorysPathsOutsideDevelopment) {
  EXPECT_EQ(DefaultDataDir("development"), "werk-data");
  EXPECT_EQ(DefaultConfigDir("development"), "werk-config");
  for (const char* env : {"staging", "production"}) {
    EXPECT_EQ(DefaultDataDir(env), "/var/lib/faktory/db");
    EXPECT_EQ(DefaultConfigDir(env), "/etc/faktory");
  }
  EXPECT_EQ(ServerOptions{}.password_file_fallback, "/etc/faktory/password");
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
