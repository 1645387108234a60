// A conf.d written for Faktory (Enterprise) starts werk, and whatever werk
// does not act on is said at start with the file it came from, never
// silently ignored.

#include <gtest/gtest.h>

#include <string>

#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

TEST(ConfigWarnings, UnimplementedTablesAreNamedWithTheirFile) {
  WerkdProcess server({.config_files = {
                           {"cron.toml",
                            "[[cron]]\nschedule = \"*/5 * * * *\"\n  [cron.job]\n"
                            "  type = \"FiveMinuteReport\"\n"},
                           {"faktory.toml", "[faktory]\nbinding = \"127.0.0.1:0\"\n"},
                           {"statsd.toml", "[statsd]\nlocation = \"localhost:8125\"\n"},
                       }});
  LineClient c = ReadyClient(server.port());  // serves all the same
  const std::string log = server.log();
  EXPECT_NE(log.find("W "), std::string::npos) << log;
  // [[cron]] is werk's own now: loaded, nothing to warn about.
  EXPECT_EQ(log.find("cron.toml"), std::string::npos) << log;
  EXPECT_NE(log.find("/config/conf.d/statsd.toml: [statsd] is not implemented by werk yet"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("faktory.toml"), std::string::npos) << log;
}

}  // namespace
}  // namespace werk::testing
