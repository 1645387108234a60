#pragma once
// /health and /ready: what a Kubernetes probe or a load balancer asks.
//
// /health says the process answers (alive), with Faktory's small JSON
// document. /ready says this server takes writes: every shard recovered and
// serving, the primary (not a standby, not deposed), and no shard refusing
// writes for want of its standby. Anything else is 503 with the role and,
// where there is one, the address of the server that takes writes, so a
// Service or a load balancer sends clients only to the primary.

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "net/info.h"

namespace werk::net::web {

// What the server itself knows beyond the shards' snapshots.
struct ServerPhase {
  bool serving = false;   // every shard built, recovered and running
  bool stopping = false;  // a stop began
  uint32_t shard_count = 0;
};

struct Readiness {
  bool ready = false;
  // "primary", "standby", "deposed", "starting" or "stopping".
  std::string role;
  uint64_t epoch = 0;
  std::string primary;  // where writes go instead (a standby's or a deposed server's)
  std::string reason;   // why not ready (empty when ready)
};

Readiness DecideReadiness(const ServerPhase& phase, const std::vector<ShardSummary>& shards);

// The /ready body (JSON).
std::string RenderReady(const Readiness& r);

// The /health body, Faktory's: {"now":…,"server":{"description","faktory_version",
// "connections","command_count"}} (plus werk_version).
std::string RenderHealth(core::UnixNanos now, const std::vector<ShardSummary>& shards);

}  // namespace werk::net::web
