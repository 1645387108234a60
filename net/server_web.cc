#include "net/server_web.h"

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

}  // namespace werk::net
