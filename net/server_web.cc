#include "net/server_web.h"

#include <spdlog/spdlog.h>

#include "net/config.h"
#include "net/server.h"
#include "net/tls_context.h"

#include "core/clock.h"
#include "cron/driver.h"

namespace werk::net {

void ServerWebBackend::SetShards(std::vector<Shard*> shards) {
  shards_ = std::move(shards);
  serving_.store(true, std::memory_order_release);
}

std::vector<ShardSummary> ServerWebBackend::Summaries() const {
  std::vector<ShardSummary> all;
  if (!serving_.load(std::memory_order_acquire)) return all;
  all.reserve(shards_.size());
  for (const Shard* s : shards_)
    if (std::optional<ShardSummary> summary = s->ReadStats()) all.push_back(std::move(*summary));
  return all;
}

std::optional<cron::View> ServerWebBackend::Cron() const {
  if (const cron::Driver* d = group_->cron.load()) return d->Read();
  return std::nullopt;
}

bool ServerWebBackend::Post(uint32_t shard, ShardOp op) {
  if (!serving_.load(std::memory_order_acquire) || shard >= shards_.size()) return false;
  Shard* s = shards_[shard];
  s->runtime().PostFromOtherThread(
      [s, op = std::move(op)] { op(s->service(), s->runtime()); });
  return true;
}

web::ServerPhase ServerWebBackend::Phase() const {
  web::ServerPhase p;
  p.serving = serving_.load(std::memory_order_acquire);
  p.stopping = group_->stop.load();
  p.shard_count = shard_count_;
  return p;
}

core::UnixNanos ServerWebBackend::Now() const {
  return core::SystemClock::Instance().WallNow();
}

absl::Status Server::StartWeb() {
  if (web::WebServer::Disabled(options_.web_binding)) {
    spdlog::info("web UI disabled (-w :0)");
    return absl::OkStatus();
  }
  web_backend_ = std::make_unique<ServerWebBackend>(&group_, shard_count_, started_at_);
  web::WebOptions wo;
  wo.binding = options_.web_binding;
  wo.password = options_.web_password.empty() ? options_.password : options_.web_password;
  if (options_.tls) {  // the UI is HTTPS with the command port's key and certificate
    wo.tls_key_file = options_.tls->key_path();
    wo.tls_cert_file = options_.tls->cert_path();
  }
  web_ = std::make_unique<web::WebServer>(std::move(wo), web_backend_.get());
  if (absl::Status st = web_->Start(); !st.ok()) return st;
  std::string host, unused;
  SplitHostPort(options_.web_binding, &host, &unused);
  if (host.empty()) host = "0.0.0.0";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  spdlog::info("web UI on {}://{}:{}/ (web port {})", options_.tls ? "https" : "http", host,
               web_->port(), web_->port());
  return absl::OkStatus();
}

}  // namespace werk::net
