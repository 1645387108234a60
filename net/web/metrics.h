#pragma once
// /metrics: the server's figures in the Prometheus text format, rendered
// from what the shards publish (net/stats_publisher.h) and the cron view.
// A pure function of its input: no registry, no second copy of a counter.
// The names are listed in docs/running.md "Metrics".

#include <string>
#include <vector>

#include "core/types.h"
#include "cron/view.h"
#include "net/info.h"
#include "net/web/probes.h"

namespace werk::net::web {

struct MetricsInput {
  core::UnixNanos now = 0;
  core::UnixNanos started_at = 0;
  const std::vector<ShardSummary>* shards = nullptr;
  const cron::View* cron = nullptr;  // none without a cron driver
  Readiness readiness;
};

std::string RenderMetrics(const MetricsInput& in);

}  // namespace werk::net::web
