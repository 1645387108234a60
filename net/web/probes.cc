#include "net/web/probes.h"

#include "core/json_writer.h"
#include "core/time_format.h"
#include "net/version.h"

namespace werk::net::web {

Readiness DecideReadiness(const ServerPhase& phase, const std::vector<ShardSummary>& shards) {
  Readiness r;
  if (phase.stopping) {
    r.role = "stopping";
    r.reason = "werk is stopping";
    return r;
  }
  if (!phase.serving || shards.size() < phase.shard_count || shards.empty()) {
    r.role = "starting";
    r.reason = "werk is recovering its log";
    return r;
  }
  r.role = "primary";
  for (const ShardSummary& s : shards) {
    if (!s.has_replication) continue;
    const ReplicationSummary& rep = s.replication;
    if (rep.epoch > r.epoch) r.epoch = rep.epoch;
    if (rep.deposed) {
      r.role = "deposed";
      r.primary = rep.new_primary;
      r.reason = "deposed by epoch " + std::to_string(rep.deposed_by) +
                 "; another server is the primary";
    } else if (rep.standby && r.role != "deposed") {
      r.role = "standby";
      r.primary = rep.peer;
      r.reason = "a standby takes no writes";
    } else if (rep.state == "refusing" && r.role == "primary") {
      r.reason = "shard " + std::to_string(s.id) +
                 " refuses writes: its standby did not acknowledge in time (standby policy "
                 "required)";
    }
  }
  r.ready = r.role == "primary" && r.reason.empty();
  return r;
}

std::string RenderReady(const Readiness& r) {
  std::string o = "{\"ready\":";
  o.append(r.ready ? "true" : "false");
  o.append(",\"role\":");
  core::AppendJsonString(o, r.role);
  if (r.epoch != 0) {
    o.append(",\"epoch\":");
    core::AppendJsonInt(o, int64_t(r.epoch));
  }
  if (!r.primary.empty()) {
    o.append(",\"primary\":");
    core::AppendJsonString(o, r.primary);
  }
  if (!r.reason.empty()) {
    o.append(",\"reason\":");
    core::AppendJsonString(o, r.reason);
  }
  o.append("}\n");
  return o;
}

std::string RenderHealth(core::UnixNanos now, const std::vector<ShardSummary>& shards) {
  uint64_t connections = 0, commands = 0;
  for (const ShardSummary& s : shards) {
    connections += s.connections;
    commands += s.commands;
  }
  std::string o = "{\"now\":\"";
  core::AppendRfc3339Nano(o, now);
  o.append("\",\"server\":{\"description\":\"werk\",\"faktory_version\":\"");
  o.append(kFaktoryProtocolVersion);
  o.append("\",\"werk_version\":\"");
  o.append(kWerkVersion);
  o.append("\",\"connections\":");
  core::AppendJsonInt(o, int64_t(connections));
  o.append(",\"command_count\":");
  core::AppendJsonInt(o, int64_t(commands));
  o.append("}}\n");
  return o;
}

}  // namespace werk::net::web
