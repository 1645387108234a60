#pragma once
// What the web server sees of werk (docs/operating-plan.md "Decisions"):
// the shards' published snapshots, the cron view and the server's phase,
// all readable from the web server's threads without a lock on a shard.
// The server implements it over its shards (net/server_web.cc); handler
// tests over figures of their own.

#include <functional>
#include <optional>
#include <vector>

#include "core/job_service.h"
#include "core/shard_runtime.h"
#include "core/types.h"
#include "cron/view.h"
#include "net/info.h"
#include "net/web/probes.h"

namespace werk::net::web {

class WebBackend {
 public:
  virtual ~WebBackend() = default;
  // Every shard's latest snapshot (a shard still starting is missing).
  virtual std::vector<ShardSummary> Summaries() const = 0;
  // The cron view, if the server has a cron driver.
  virtual std::optional<cron::View> Cron() const = 0;
  virtual ServerPhase Phase() const = 0;
  virtual core::UnixNanos Now() const = 0;
  virtual core::UnixNanos StartedAt() const = 0;

  // Operations (net/web/shard_call.h): the shards there are, and running
  // `op` on shard `shard`'s thread with its job service. False (and `op`
  // never runs) when the shards are not serving.
  using ShardOp = std::function<void(core::JobService&, core::ShardRuntime&)>;
  virtual uint32_t shard_count() const = 0;
  virtual bool Post(uint32_t shard, ShardOp op) = 0;
};

}  // namespace werk::net::web
