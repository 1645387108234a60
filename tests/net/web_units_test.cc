// The web server's pure parts: Basic credentials, readiness, the
// Prometheus text writer.

#include <gtest/gtest.h>

#include "net/web/basic_auth.h"
#include "net/web/probes.h"
#include "net/web/prometheus_text.h"

namespace werk::net::web {
namespace {

TEST(BasicAuth, DecodesThePasswordOfAnyUser) {
  // base64("user:pa:ss") — the password may hold a colon.
  EXPECT_EQ(BasicPassword("Basic dXNlcjpwYTpzcw=="), "pa:ss");
  EXPECT_EQ(BasicPassword("basic OnNlY3JldA=="), "secret");  // ":secret"
  EXPECT_TRUE(BasicAuthAccepts("Basic OnNlY3JldA==", "secret"));
  EXPECT_FALSE(BasicAuthAccepts("Basic OnNlY3JldA==", "secrets"));
  EXPECT_FALSE(BasicAuthAccepts("", "secret"));
  EXPECT_TRUE(BasicAuthAccepts("", ""));
}

TEST(BasicAuth, RefusesWhatIsNotBasicBase64WithAColon) {
  for (const char* bad : {"Bearer OnNlY3JldA==", "Basic", "Basic ", "Basic !!!!",
                          "Basic c2VjcmV0", /* "secret": no colon */ "Basic OnNlY3JldA=",
                          "Basic =OnNlY3JldA=", "Basic OnNl\nY3JldA=="}) {
    EXPECT_FALSE(BasicPassword(bad).has_value()) << bad;
  }
  EXPECT_FALSE(BasicPassword("Basic " + std::string(10000, 'A')).has_value());
}

TEST(Readiness, OnlyAServingPrimaryThatTakesWritesIsReady) {
  ShardSummary s;
  s.has_replication = true;
  s.replication.epoch = 2;
  Readiness r = DecideReadiness(ServerPhase{true, false, 1}, {s});
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.role, "primary");
  EXPECT_EQ(r.epoch, 2u);

  EXPECT_EQ(DecideReadiness(ServerPhase{false, false, 1}, {s}).role, "starting");
  EXPECT_EQ(DecideReadiness(ServerPhase{true, false, 2}, {s}).role, "starting");  // one missing
  EXPECT_EQ(DecideReadiness(ServerPhase{true, true, 1}, {s}).role, "stopping");

  s.replication.state = "refusing";
  r = DecideReadiness(ServerPhase{true, false, 1}, {s});
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.role, "primary");
  EXPECT_NE(r.reason.find("refuses writes"), std::string::npos);

  s.replication.state.clear();
  s.replication.deposed = true;
  s.replication.deposed_by = 3;
  s.replication.new_primary = "10.1.1.1:7500";
  r = DecideReadiness(ServerPhase{true, false, 1}, {s});
  EXPECT_FALSE(r.ready);
  EXPECT_EQ(r.role, "deposed");
  EXPECT_EQ(r.primary, "10.1.1.1:7500");
  EXPECT_NE(RenderReady(r).find("\"ready\":false"), std::string::npos);
}

TEST(PrometheusText, WritesFamiliesSamplesAndHistograms) {
  PrometheusText p;
  p.Family("x_total", "counter", "a\\b\nc");
  p.Sample("x_total", {{"q", "a\"b\\c\nd"}}, uint64_t{3});
  p.Family("lat_seconds", "histogram", "latency");
  const double bounds[] = {100, 1000};
  const uint64_t counts[] = {1, 2, 3};
  p.Histogram("lat_seconds", {{"cmd", "PUSH"}}, bounds, counts, 2, 5000.0, 1e-6);
  EXPECT_EQ(p.text(),
            "# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\n"
            "x_total{q=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP lat_seconds latency\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{cmd=\"PUSH\",le=\"0.0001\"} 1\n"
            "lat_seconds_bucket{cmd=\"PUSH\",le=\"0.001\"} 3\n"
            "lat_seconds_bucket{cmd=\"PUSH\",le=\"+Inf\"} 6\n"
            "lat_seconds_sum{cmd=\"PUSH\"} 0.005\n"
            "lat_seconds_count{cmd=\"PUSH\"} 6\n");
}

}  // namespace
}  // namespace werk::net::web
