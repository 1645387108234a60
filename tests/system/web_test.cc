// The web port of a real werkd (docs/running.md "Web UI", "Metrics",
// "Health"): the probes, authentication, /metrics following the server and
// accepted by promtool, /ready only on the primary, a port in use.

#include <httplib.h>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/line_client.h"
#include "tests/support/replication_pair.h"
#include "tests/support/test_certs.h"
#include "tests/support/werkd_process.h"

namespace werk::testing {
namespace {

using namespace std::chrono_literals;

// GET `path` until `done(body)` holds (a bound meant only to end a hang:
// snapshots are published within a loop turn or two). The last answer.
httplib::Result GetUntil(httplib::Client& c, const std::string& path,
                         const std::function<bool(const httplib::Result&)>& done) {
  httplib::Result res = c.Get(path);
  for (auto deadline = std::chrono::steady_clock::now() + kWaitBound;
       !done(res) && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(kWaitStep))
    res = c.Get(path);
  return res;
}

bool Has(const httplib::Result& res, const std::string& text) {
  return res && res->status == 200 && res->body.find(text) != std::string::npos;
}

TEST(Web, MetricsFollowTheServerAndPassPromtool) {
  WerkdProcess w;
  ASSERT_GT(w.web_port(), 0) << w.log();
  LineClient c = ReadyClient(w.port());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(c.Call(Push("metric-" + std::to_string(i), "mq")), "+OK\r\n");
  ASSERT_EQ(c.Call("QUEUE PAUSE mq"), "+OK\r\n");
  httplib::Client http("127.0.0.1", w.web_port());
  httplib::Result res = GetUntil(http, "/metrics", [](const httplib::Result& r) {
    return Has(r, "werk_queue_jobs{queue=\"mq\"} 3\n") && Has(r, "werk_jobs_pushed_total 3\n") &&
           Has(r, "werk_queue_paused{queue=\"mq\"} 1\n");
  });
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("werk_queue_jobs{queue=\"mq\"} 3\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("werk_jobs_pushed_total 3\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("werk_ready 1\n"), std::string::npos) << res->body;

  // promtool (Debian's prometheus) lints the text as Prometheus reads it.
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("CI")) FAIL() << "promtool is missing (the test set-up installs prometheus)";
    GTEST_SKIP() << "promtool is not installed";
  }
  const std::string file = w.dir() + "/metrics.txt";
  std::ofstream(file) << res->body;
  const std::string out = w.dir() + "/promtool.txt";
  const int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  std::ifstream in(out);
  const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << report << "\n" << res->body;
  EXPECT_EQ(report, "") << res->body;
}

TEST(Web, ProbesAnswerAnyoneAndTheRestNeedsThePassword) {
  WerkdProcess w({.env = {{"FAKTORY_PASSWORD", "s3cret"}}});
  httplib::Client http("127.0.0.1", w.web_port());
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_NE(health->body.find("\"description\":\"werk\""), std::string::npos) << health->body;
  auto ready = GetUntil(http, "/ready", [](const httplib::Result& r) { return r && r->status == 200; });
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_NE(ready->body.find("\"role\":\"primary\""), std::string::npos) << ready->body;
  for (const char* path : {"/metrics", "/stats"}) {
    auto res = http.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
  }
  http.set_basic_auth("ops", "s3cret");
  auto stats = http.Get("/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  EXPECT_NE(stats->body.find("\"faktory\":{"), std::string::npos) << stats->body;
}

TEST(Web, TheWebPasswordOfConfDReplacesTheServersForTheUi) {
  WerkdProcess w({.env = {{"FAKTORY_PASSWORD", "s3cret"}},
                  .config_toml = "[web]\npassword = \"for-the-ui\"\n"});
  httplib::Client http("127.0.0.1", w.web_port());
  http.set_basic_auth("ops", "s3cret");
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  http.set_basic_auth("ops", "for-the-ui");
  res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(Web, OnlyThePrimaryIsReadyAndTheStandbyNamesIt) {
  auto primary = StartPrimary();
  const int rport = ReplicationPort(*primary);
  auto standby = StartStandby(rport);
  httplib::Client p("127.0.0.1", primary->web_port());
  httplib::Client s("127.0.0.1", standby->web_port());
  auto pr = GetUntil(p, "/ready", [](const httplib::Result& r) { return r && r->status == 200; });
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->status, 200) << pr->body;
  auto sr = GetUntil(s, "/ready", [](const httplib::Result& r) {
    return r && r->body.find("\"role\":\"standby\"") != std::string::npos;
  });
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->status, 503) << sr->body;
  EXPECT_NE(sr->body.find("\"primary\":\"127.0.0.1:" + std::to_string(rport) + "\""),
            std::string::npos)
      << sr->body;
  auto metrics = GetUntil(s, "/metrics", [](const httplib::Result& r) {
    return Has(r, "werk_role{role=\"standby\"} 1\n");
  });
  EXPECT_TRUE(Has(metrics, "werk_replication_linked{shard=\"0\"}")) << (metrics ? metrics->body : "");
}

TEST(Web, AWebPortInUseStopsTheStartWithTheReason) {
  WerkdProcess first;
  const std::string taken = "127.0.0.1:" + std::to_string(first.web_port());
  try {
    WerkdProcess second({.args = {"-w", taken}});
    FAIL() << "a second werkd started on the web port of the first:\n" << second.log();
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot listen on " + taken + " (web UI)"), std::string::npos) << what;
  }
}

TEST(Web, WithTheTlsFilesTheUiSpeaksHttpsOnly) {
  const TestCerts certs = TestCerts::Make();
  WerkdProcess w({.config_files = {{"../private.key.pem", certs.server_key},
                                   {"../public.cert.pem", certs.server_cert}}});
  EXPECT_NE(w.log().find("web UI on https://"), std::string::npos) << w.log();
  const std::string ca = w.dir() + "/ca.pem";
  std::ofstream(ca) << certs.ca_cert;
  httplib::SSLClient https("127.0.0.1", w.web_port());
  https.set_ca_cert_path(ca.c_str());
  https.enable_server_certificate_verification(true);
  auto res = https.Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  // A client that does not trust the server's CA refuses it.
  const std::string other = w.dir() + "/other.pem";
  std::ofstream(other) << certs.other_ca_cert;
  httplib::SSLClient wrong("127.0.0.1", w.web_port());
  wrong.set_ca_cert_path(other.c_str());
  wrong.enable_server_certificate_verification(true);
  EXPECT_FALSE(wrong.Get("/health"));
  // Plain HTTP gets no answer.
  httplib::Client plain("127.0.0.1", w.web_port());
  plain.set_read_timeout(5, 0);
  auto p = plain.Get("/health");
  EXPECT_TRUE(!p || p->status != 200);
}

TEST(Web, ColonZeroDisablesTheUi) {
  WerkdProcess w({.args = {"-w", ":0"}});
  EXPECT_EQ(w.web_port(), 0);
  EXPECT_NE(w.log().find("web UI disabled"), std::string::npos) << w.log();
}

}  // namespace
}  // namespace werk::testing
