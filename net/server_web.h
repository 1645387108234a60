#pragma once
// The web server's view of a running Server (net/web/web_backend.h): the
// shards' published snapshots and the cron view, read from the web
// server's threads. The shards are handed over once, when they are built
// and recovered (SetShards); before that the server is "starting".

#include <atomic>
#include <optional>
#include <vector>

#include "net/shard.h"
#include "net/web/web_backend.h"

namespace werk::net {

class ServerWebBackend final : public web::WebBackend {
 public:
  ServerWebBackend(const GroupShared* group, uint32_t shard_count, core::UnixNanos started_at)
      : group_(group), shard_count_(shard_count), started_at_(started_at) {}

  // Once, before the shards run: they stay alive until Stop of the web
  // server (the Server stops it before it releases them).
  void SetShards(std::vector<Shard*> shards);

  std::vector<ShardSummary> Summaries() const override;
  std::optional<cron::View> Cron() const override;
  web::ServerPhase Phase() const override;
  core::UnixNanos Now() const override;
  core::UnixNanos StartedAt() const override { return started_at_; }
  uint32_t shard_count() const override { return shard_count_; }
  bool Post(uint32_t shard, ShardOp op) override;

 private:
  const GroupShared* group_;
  const uint32_t shard_count_;
  const core::UnixNanos started_at_;
  std::vector<Shard*> shards_;  // written once, before serving_
  std::atomic<bool> serving_{false};
};

}  // namespace werk::net
