// The web server's routes over figures of the test's own (no shards): the
// probes, authentication, /metrics, /stats, bindings. Real HTTP over
// loopback, through cpp-httplib's client.

#include <httplib.h>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "net/web/web_server.h"

namespace werk::net::web {
namespace {

constexpr core::UnixNanos kNow = 1'760'000'000'000'000'000;

class FixedBackend final : public WebBackend {
 public:
  std::vector<ShardSummary> Summaries() const override {
    std::lock_guard<std::mutex> l(mu_);
    return shards_;
  }
  std::optional<cron::View> Cron() const override { return std::nullopt; }
  ServerPhase Phase() const override {
    std::lock_guard<std::mutex> l(mu_);
    return phase_;
  }
  core::UnixNanos Now() const override { return kNow; }
  core::UnixNanos StartedAt() const override { return kNow - 90 * core::kNanosPerSecond; }
  uint32_t shard_count() const override { return 1; }
  bool Post(uint32_t, ShardOp) override { return false; }  // no shards here

  void Set(ServerPhase phase, std::vector<ShardSummary> shards) {
    std::lock_guard<std::mutex> l(mu_);
    phase_ = phase;
    shards_ = std::move(shards);
  }

 private:
  mutable std::mutex mu_;
  ServerPhase phase_;
  std::vector<ShardSummary> shards_;
};

ShardSummary Shard(uint32_t id, uint64_t default_size) {
  ShardSummary s;
  s.id = id;
  s.queues.push_back(QueueSummary{"default", default_size, kNow - 3 * core::kNanosPerSecond, false});
  s.queues.push_back(QueueSummary{"we\"ird\\q", 0, 0, true});
  s.total_processed = 10;
  s.commands = 5;
  s.connections = 2;
  s.has_wal = true;
  s.syncs = 7;
  return s;
}

class WebServerTest : public ::testing::Test {
 protected:
  void Start(std::string password = "") {
    WebOptions o;
    o.binding = "127.0.0.1:0";
    o.password = std::move(password);
    server_ = std::make_unique<WebServer>(o, &backend_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void Serving() { backend_.Set(ServerPhase{true, false, 2}, {Shard(0, 3), Shard(1, 4)}); }

  FixedBackend backend_;
  std::unique_ptr<WebServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(WebServerTest, HealthAnswersWhileStartingAndWithoutAPassword) {
  Start("s3cret");
  auto res = client_->Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\"description\":\"werk\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("\"faktory_version\""), std::string::npos);
}

TEST_F(WebServerTest, ReadyIs503UntilServingThen200) {
  Start("s3cret");
  auto res = client_->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("\"role\":\"starting\""), std::string::npos) << res->body;
  Serving();
  res = client_->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("\"ready\":true"), std::string::npos) << res->body;
}

TEST_F(WebServerTest, AStandbyIsNotReadyAndNamesItsPrimary) {
  Start();
  std::vector<ShardSummary> shards = {Shard(0, 0)};
  shards[0].has_replication = true;
  shards[0].replication.standby = true;
  shards[0].replication.epoch = 4;
  shards[0].replication.peer = "10.0.0.7:7500";
  backend_.Set(ServerPhase{true, false, 1}, shards);
  auto res = client_->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("\"role\":\"standby\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("\"primary\":\"10.0.0.7:7500\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("\"epoch\":4"), std::string::npos) << res->body;
}

TEST_F(WebServerTest, EverythingElseNeedsThePassword) {
  Start("s3cret");
  Serving();
  for (const char* path : {"/metrics", "/stats", "/", "/nowhere"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_NE(res->get_header_value("WWW-Authenticate").find("Basic"), std::string::npos);
  }
  client_->set_basic_auth("anyone", "wrong");
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  client_->set_basic_auth("anyone", "s3cret");
  res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client_->Get("/nowhere");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(WebServerTest, MetricsSumTheShardsAndEscapeQueueNames) {
  Start();
  Serving();
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  const std::string& m = res->body;
  EXPECT_NE(m.find("werk_queue_jobs{queue=\"default\"} 7\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_queue_jobs{queue=\"we\\\"ird\\\\q\"} 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_queue_paused{queue=\"we\\\"ird\\\\q\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_queue_latency_seconds{queue=\"default\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_jobs_processed_total 20\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_wal_syncs_total{shard=\"1\"} 7\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_ready 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("werk_role{role=\"primary\"} 1\n"), std::string::npos) << m;
}

TEST_F(WebServerTest, StatsIsTheInfoDocument) {
  Start();
  Serving();
  auto res = client_->Get("/stats");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\"total_processed\":20"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("\"default\":7"), std::string::npos) << res->body;
}

TEST_F(WebServerTest, AnswersCarryHardeningHeaders) {
  Start();
  auto res = client_->Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_NE(res->get_header_value("Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
}

TEST_F(WebServerTest, EveryPageRendersAndEscapesAClientsStrings) {
  Start();
  Serving();
  for (const char* path : {"/", "/queues", "/cluster", "/storage", "/cron", "/?days=7"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_NE(res->get_header_value("Content-Type").find("text/html"), std::string::npos);
    EXPECT_NE(res->body.find("<ul class=\"summary\">"), std::string::npos) << path;
    EXPECT_NE(res->body.find("id=\"sum-enqueued\">7<"), std::string::npos) << path;
  }
  auto queues = client_->Get("/queues");
  ASSERT_TRUE(queues);
  // The queue name's quote cannot end the attribute it is in.
  EXPECT_NE(queues->body.find("data-queue=\"we&quot;ird\\q\""), std::string::npos) << queues->body;
  EXPECT_EQ(queues->body.find("we\"ird"), std::string::npos);
}

TEST_F(WebServerTest, APageBehindAProxyKeepsItsPrefixAndRefusesABadOne) {
  Start();
  Serving();
  auto res = client_->Get("/queues", {{"X-Script-Name", "/werk"}});
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("href=\"/werk/static/werk.css\""), std::string::npos);
  EXPECT_NE(res->body.find("action=\"/werk/queues\""), std::string::npos);
  res = client_->Get("/queues", {{"X-Script-Name", "/\"><script>"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body.find("<script>"), std::string::npos);
  EXPECT_NE(res->body.find("href=\"/static/werk.css\""), std::string::npos);
}

TEST_F(WebServerTest, AnActionNeedsThePagesTokenAndThisOrigin) {
  Start();
  Serving();
  // No cookie, no token: refused.
  auto res = client_->Post("/queues", "queue=default&action=pause",
                           "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  // The page sets the cookie whose token its forms carry.
  auto page = client_->Get("/queues");
  ASSERT_TRUE(page);
  const std::string cookie = page->get_header_value("Set-Cookie");
  ASSERT_EQ(cookie.rfind("werk_csrf=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  const std::string token = cookie.substr(10, 32);
  EXPECT_NE(page->body.find("name=\"csrf\" value=\"" + token + "\""), std::string::npos);
  const httplib::Headers with_cookie = {{"Cookie", "werk_csrf=" + token}};
  // Another token: refused.
  res = client_->Post("/queues", with_cookie,
                      "csrf=00000000000000000000000000000000&queue=default&action=pause",
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  // The right token from another origin: refused.
  httplib::Headers foreign = with_cookie;
  foreign.emplace("Origin", "http://evil.example");
  res = client_->Post("/queues", foreign, "csrf=" + token + "&queue=default&action=pause",
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  // The right token: accepted, and run on a shard (none here: 503, said).
  res = client_->Post("/queues", with_cookie, "csrf=" + token + "&queue=default&action=pause",
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("not serving"), std::string::npos) << res->body;
  // An unknown action: 400.
  res = client_->Post("/queues", with_cookie, "csrf=" + token + "&queue=default&action=explode",
                      "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(WebServerTest, TheAssetsAreServedFromTheBinary) {
  Start();
  auto css = client_->Get("/static/werk.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_NE(css->get_header_value("Content-Type").find("text/css"), std::string::npos);
  auto js = client_->Get("/static/werk.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_NE(js->body.find("live-chart"), std::string::npos);
}

TEST(WebServerBinding, ColonZeroDisablesIt) {
  FixedBackend backend;
  WebServer server(WebOptions{":0", "", 1}, &backend);
  EXPECT_TRUE(WebServer::Disabled(":0"));
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.port(), 0);
}

TEST(WebServerBinding, APortInUseIsAnErrorNamingTheBinding) {
  FixedBackend backend;
  WebServer first(WebOptions{"127.0.0.1:0", "", 1}, &backend);
  ASSERT_TRUE(first.Start().ok());
  const std::string taken = "127.0.0.1:" + std::to_string(first.port());
  WebServer second(WebOptions{taken, "", 1}, &backend);
  const absl::Status st = second.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find(taken), std::string::npos) << st.message();
}

TEST(WebServerBinding, ABadBindingIsRefused) {
  FixedBackend backend;
  for (const char* bad : {"nohostport", "127.0.0.1:99999", "127.0.0.1:x"}) {
    WebServer server(WebOptions{bad, "", 1}, &backend);
    EXPECT_FALSE(server.Start().ok()) << bad;
  }
}

}  // namespace
}  // namespace werk::net::web
