#include "net/web/web_server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>

#include "net/config.h"
#include "net/info.h"
#include "net/web/basic_auth.h"
#include "net/web/metrics.h"
#include "net/web/probes.h"
#include "net/web/ui.h"

namespace werk::net::web {
namespace {

// Faktory's web server timeouts: a slow client holds a thread this long.
constexpr time_t kReadTimeoutSeconds = 5;
constexpr time_t kWriteTimeoutSeconds = 30;
// Forms are small; a larger body is refused before it is read.
constexpr size_t kBodyMax = 1 << 20;

constexpr const char* kJson = "application/json";
constexpr const char* kPrometheus = "text/plain; version=0.0.4; charset=utf-8";

// Headers every answer carries: nothing is cached, sniffed, framed or sent
// elsewhere, and only the page's own scripts and styles run.
void Harden(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "same-origin");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                 "form-action 'self'; base-uri 'none'");
}

}  // namespace

WebServer::WebServer(WebOptions options, WebBackend* backend)
    : options_(std::move(options)), backend_(backend) {}

WebServer::~WebServer() { Stop(); }

bool WebServer::Disabled(const std::string& binding) { return binding == ":0"; }

absl::Status WebServer::Start() {
  if (Disabled(options_.binding)) return absl::OkStatus();
  std::string host, port_text;
  if (!SplitHostPort(options_.binding, &host, &port_text))
    return absl::InvalidArgumentError("invalid web binding '" + options_.binding +
                                      "' (expected host:port)");
  int port = 0;
  for (const char c : port_text) {
    if (c < '0' || c > '9' || port > 65535)
      return absl::InvalidArgumentError("invalid web binding '" + options_.binding +
                                        "': bad port");
    port = port * 10 + (c - '0');
  }
  if (port_text.empty() || port > 65535)
    return absl::InvalidArgumentError("invalid web binding '" + options_.binding + "': bad port");
  if (host.empty()) host = "0.0.0.0";
  if (!options_.tls_cert_file.empty()) {
    const std::string key = options_.tls_key_file, cert = options_.tls_cert_file;
    std::string error;
    auto https = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
      if (SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) != 1) {
        error = cert + ": not a usable certificate";
        return false;
      }
      if (SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(&ctx) != 1) {
        error = key + ": not the key of " + cert;
        return false;
      }
      return true;
    });
    ERR_clear_error();
    if (!https->is_valid())
      return absl::FailedPreconditionError("web UI (HTTPS): " +
                                           (error.empty() ? std::string("no TLS context") : error));
    http_ = std::move(https);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  http_->set_read_timeout(kReadTimeoutSeconds);
  http_->set_write_timeout(kWriteTimeoutSeconds);
  http_->set_payload_max_length(kBodyMax);
  // SO_REUSEADDR only: cpp-httplib's default, SO_REUSEPORT, would let a
  // second werkd on the same host bind the same port and take half the
  // probes meant for this one.
  http_->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Route();
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
    if (port_ <= 0) port_ = 0;
  } else if (http_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ == 0) {
    http_.reset();
    return absl::FailedPreconditionError("cannot listen on " + options_.binding +
                                         " (web UI): " + std::strerror(errno) +
                                         " (another server on the port? -w :0 disables the UI)");
  }
  thread_ = std::thread([this] {
    http_->listen_after_bind();
    ended_ = true;
  });
  // stop() before the loop runs would be lost: wait until it runs (or ended
  // at once, which only a failing socket does).
  while (!http_->is_running() && !ended_.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return absl::OkStatus();
}

void WebServer::Stop() {
  if (!http_) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

bool WebServer::Authorized(const httplib::Request& req, httplib::Response& res) const {
  if (BasicAuthAccepts(req.get_header_value("Authorization"), options_.password)) return true;
  res.status = 401;
  res.set_header("WWW-Authenticate", "Basic realm=\"werk\", charset=\"UTF-8\"");
  res.set_content("authentication required\n", "text/plain; charset=utf-8");
  return false;
}

void WebServer::Route() {
  httplib::Server& h = *http_;
  h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    Harden(res);
    // The probes answer anyone (a kubelet has no password); the rest needs it.
    if (req.path == "/health" || req.path == "/ready") return httplib::Server::HandlerResponse::Unhandled;
    return Authorized(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                : httplib::Server::HandlerResponse::Handled;
  });
  h.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                             std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("web UI: {} {} failed: {}", req.method, req.path, what);
    res.status = 500;
    res.set_content("internal error\n", "text/plain; charset=utf-8");
  });
  h.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty())
      res.set_content(std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
  });

  RouteAssets(h);
  RouteDashboard(h, backend_);
  RouteQueues(h, backend_);
  RouteServerPages(h, backend_);
  RouteSets(h, backend_);
  RouteJobs(h, backend_);
  RouteBusy(h, backend_);
  h.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(RenderHealth(backend_->Now(), backend_->Summaries()), kJson);
  });
  h.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    const Readiness r = DecideReadiness(backend_->Phase(), backend_->Summaries());
    res.status = r.ready ? 200 : 503;
    res.set_content(RenderReady(r), kJson);
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const std::vector<ShardSummary> shards = backend_->Summaries();
    const std::optional<cron::View> cron = backend_->Cron();
    MetricsInput in;
    in.now = backend_->Now();
    in.started_at = backend_->StartedAt();
    in.shards = &shards;
    in.cron = cron ? &*cron : nullptr;
    in.readiness = DecideReadiness(backend_->Phase(), shards);
    res.set_content(RenderMetrics(in), kPrometheus);
  });
  h.Get("/stats", [this](const httplib::Request&, httplib::Response& res) {
    const std::optional<cron::View> cron = backend_->Cron();
    res.set_content(RenderInfo(InfoContext{backend_->Now(), backend_->StartedAt(),
                                           cron ? &*cron : nullptr},
                               backend_->Summaries()),
                    kJson);
  });
}

}  // namespace werk::net::web
