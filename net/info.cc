#include "net/info.h"

#include <unistd.h>

#include <cstdio>
#include <map>

#include "core/json_writer.h"
#include "core/time_format.h"
#include "net/version.h"

namespace werk::net {

namespace {

uint64_t ResidentMegabytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE)) / (1024 * 1024);
}

// One timer task in Faktory's `tasks` block.
void AppendTask(std::string& o, const char* name, uint64_t cycles, const char* counter,
                uint64_t count, uint64_t size, bool last) {
  o.push_back('"');
  o.append(name);
  o.append("\":{\"cycles\":");
  core::AppendJsonInt(o, int64_t(cycles));
  o.append(",\"");
  o.append(counter);
  o.append("\":");
  core::AppendJsonInt(o, int64_t(count));
  o.append(",\"size\":");
  core::AppendJsonInt(o, int64_t(size));
  o.append(",\"wall_time_sec\":0}");
  if (!last) o.push_back(',');
}

// `,"key":value`, or `{"key":value` for the first field of an object.
void AppendField(std::string& o, std::string_view key, int64_t value, bool first = false) {
  o.push_back(first ? '{' : ',');
  core::AppendJsonString(o, key);
  o.push_back(':');
  core::AppendJsonInt(o, value);
}

void AppendShard(std::string& o, const ShardSummary& s) {
  AppendField(o, "id", s.id, /*first=*/true);
  AppendField(o, "connections", int64_t(s.connections));
  AppendField(o, "commands", int64_t(s.commands));
  uint64_t queued = 0;
  for (const QueueSummary& q : s.queues) queued += q.size;
  AppendField(o, "queued", int64_t(queued));
  o.append(",\"loop\":{\"longest_ms\":");
  core::AppendJsonDouble(o, double(s.loop_longest_ns) / 1e6);
  o.append(",\"busy_ms_buckets\":[");
  for (size_t i = 0; i < s.loop_busy.size(); ++i) {
    if (i) o.push_back(',');
    core::AppendJsonInt(o, int64_t(s.loop_busy[i]));
  }
  o.append("]}");
  if (s.has_wal) {
    o.append(",\"wal\":");
    AppendField(o, "appended_lsn", int64_t(s.appended_lsn), /*first=*/true);
    AppendField(o, "durable_lsn", int64_t(s.durable_lsn));
    AppendField(o, "syncs", int64_t(s.syncs));
    AppendField(o, "bytes_appended", int64_t(s.bytes_appended));
    AppendField(o, "segments", int64_t(s.segments));
    AppendField(o, "segments_recycled", int64_t(s.segments_recycled));
    o.append("}");
  }
  if (s.has_mailbox) {
    o.append(",\"mailbox\":");
    AppendField(o, "sent", int64_t(s.mailbox_sent), /*first=*/true);
    AppendField(o, "received", int64_t(s.mailbox_received));
    AppendField(o, "wakeups", int64_t(s.mailbox_wakeups));
    o.append("}");
  }
  if (s.has_replication) {
    const ReplicationSummary& r = s.replication;
    o.append(",\"replication\":{\"role\":\"");
    o.append(r.deposed ? "deposed" : r.standby ? "standby" : "primary");
    o.append(r.standby ? "\",\"primary\":" : "\",\"standby\":");
    core::AppendJsonString(o, r.peer);
    AppendField(o, "epoch", int64_t(r.epoch));
    o.append(",\"linked\":");
    o.append(r.linked ? "true" : "false");
    AppendField(o, "acked_lsn", int64_t(r.acked_lsn));
    AppendField(o, "lag", int64_t(r.lag));
    AppendField(o, "sessions", int64_t(r.sessions));
    if (!r.standby) {
      o.append(",\"policy\":");
      core::AppendJsonString(o, r.policy);
      o.append(",\"state\":");
      core::AppendJsonString(o, r.state);
      AppendField(o, "waiting_ms", r.waiting_ms);
    }
    if (r.deposed) {
      AppendField(o, "deposed_by", int64_t(r.deposed_by));
      o.append(",\"new_primary\":");
      core::AppendJsonString(o, r.new_primary);
    }
    o.append("}");
  }
  if (s.has_checkpoint) {
    o.append(",\"checkpoint\":");
    AppendField(o, "taken", int64_t(s.checkpoints_taken), /*first=*/true);
    AppendField(o, "failed", int64_t(s.checkpoints_failed));
    AppendField(o, "lsn", int64_t(s.checkpoint_lsn));
    AppendField(o, "bytes", int64_t(s.checkpoint_bytes));
    o.append(",\"pause_ms\":");
    core::AppendJsonDouble(o, double(s.checkpoint_pause_ns) / 1e6);
    o.append("}");
  }
  o.append("}");
}

}  // namespace

std::vector<QueueSummary> MergedQueues(const std::vector<ShardSummary>& shards) {
  std::map<std::string_view, QueueSummary> by_name;
  for (const ShardSummary& s : shards) {
    for (const QueueSummary& q : s.queues) {
      QueueSummary& m = by_name[q.name];
      m.size += q.size;
      if (q.oldest_enqueued_at != 0 &&
          (m.oldest_enqueued_at == 0 || q.oldest_enqueued_at < m.oldest_enqueued_at))
        m.oldest_enqueued_at = q.oldest_enqueued_at;
      m.paused = m.paused || q.paused;
    }
  }
  std::vector<QueueSummary> out;
  out.reserve(by_name.size());
  for (auto& [name, q] : by_name) {
    q.name = std::string(name);
    out.push_back(std::move(q));
  }
  return out;
}

std::string RenderInfo(const InfoContext& ctx, const std::vector<ShardSummary>& shards) {
  using core::AppendJsonInt;
  ShardSummary t;  // totals
  std::map<std::string_view, uint64_t> queues;
  for (const ShardSummary& s : shards) {
    for (const QueueSummary& q : s.queues) queues[q.name] += q.size;
    t.dead += s.dead;
    t.retries += s.retries;
    t.scheduled += s.scheduled;
    t.working += s.working;
    t.total_failures += s.total_failures;
    t.total_processed += s.total_processed;
    t.commands += s.commands;
    t.connections += s.connections;
    t.workers += s.workers;
    t.timer_cycles += s.timer_cycles;
    t.reservations_expired += s.reservations_expired;
    t.retries_enqueued += s.retries_enqueued;
    t.scheduled_enqueued += s.scheduled_enqueued;
    t.workers_reaped += s.workers_reaped;
    t.enterprise_fields.Add(s.enterprise_fields);
  }
  std::string o;
  o.reserve(1024 + 256 * shards.size());
  o.append("{\"now\":\"");
  core::AppendRfc3339Nano(o, ctx.now);
  o.append("\",\"server_utc_time\":");
  core::AppendJsonString(o, core::UtcTimeOfDay(ctx.now));
  o.append(",\"faktory\":{\"queues\":{");
  uint64_t total_enqueued = 0;
  bool first = true;
  for (const auto& [name, size] : queues) {
    if (!first) o.push_back(',');
    first = false;
    core::AppendJsonString(o, name);
    o.push_back(':');
    AppendJsonInt(o, int64_t(size));
    total_enqueued += size;
  }
  o.append("},\"sets\":{\"dead\":");
  AppendJsonInt(o, int64_t(t.dead));
  o.append(",\"retries\":");
  AppendJsonInt(o, int64_t(t.retries));
  o.append(",\"scheduled\":");
  AppendJsonInt(o, int64_t(t.scheduled));
  o.append(",\"working\":");
  AppendJsonInt(o, int64_t(t.working));
  o.append("},\"tasks\":{\"Busy\":{\"reaped\":");
  AppendJsonInt(o, int64_t(t.reservations_expired));
  o.append(",\"size\":");
  AppendJsonInt(o, int64_t(t.working));
  o.append("},");
  AppendTask(o, "Dead", t.timer_cycles, "enqueued", 0, t.dead, false);
  AppendTask(o, "Retries", t.timer_cycles, "enqueued", t.retries_enqueued, t.retries, false);
  AppendTask(o, "Scheduled", t.timer_cycles, "enqueued", t.scheduled_enqueued, t.scheduled,
             false);
  o.append("\"Workers\":{\"reaped\":");
  AppendJsonInt(o, int64_t(t.workers_reaped));
  o.append(",\"size\":");
  AppendJsonInt(o, int64_t(t.workers));
  o.append("}},\"total_failures\":");
  AppendJsonInt(o, t.total_failures);
  o.append(",\"total_processed\":");
  AppendJsonInt(o, t.total_processed);
  o.append(",\"total_enqueued\":");
  AppendJsonInt(o, int64_t(total_enqueued));
  o.append(",\"total_queues\":");
  AppendJsonInt(o, int64_t(queues.size()));
  o.append("},\"server\":{\"description\":\"werk\",\"faktory_version\":\"");
  o.append(kFaktoryProtocolVersion);
  o.append("\",\"werk_version\":\"");
  o.append(kWerkVersion);
  o.append("\",\"uptime\":");
  AppendJsonInt(o, (ctx.now - ctx.started_at) / core::kNanosPerSecond);
  o.append(",\"connections\":");
  AppendJsonInt(o, int64_t(t.connections));
  o.append(",\"command_count\":");
  AppendJsonInt(o, int64_t(t.commands));
  o.append(",\"used_memory_mb\":");
  AppendJsonInt(o, int64_t(ResidentMegabytes()));
  o.append("},\"werk\":{\"shards\":[");
  for (size_t i = 0; i < shards.size(); ++i) {
    if (i) o.push_back(',');
    AppendShard(o, shards[i]);
  }
  // Pushed jobs (counted once decoded) that carried a Faktory Enterprise
  // field werk does not act on; every field is named, 0 when unused.
  o.append("],\"role\":\"");
  const ReplicationSummary* shard0 =
      !shards.empty() && shards[0].has_replication ? &shards[0].replication : nullptr;
  o.append(shard0 && shard0->deposed   ? "deposed"
           : shard0 && shard0->standby ? "standby"
                                       : "primary");
  o.append("\"");
  if (shard0 && shard0->deposed) {
    // Deposition is server-wide: every shard's is the same (shard 0 says it).
    AppendField(o, "deposed_by", int64_t(shard0->deposed_by));
    o.append(",\"new_primary\":");
    core::AppendJsonString(o, shard0->new_primary);
  }
  // The primary's standby state, the worst of its shards': one shard alone
  // is a failover that would lose writes.
  std::string_view standby_state;
  for (const ShardSummary& sh : shards) {
    if (!sh.has_replication || sh.replication.standby) continue;
    const std::string& st = sh.replication.state;
    if (st == "alone" || (st == "refusing" && standby_state != "alone") || standby_state.empty())
      standby_state = st;
  }
  if (!standby_state.empty()) {
    o.append(",\"standby_state\":");
    core::AppendJsonString(o, standby_state);
  }
  o.append(",\"unimplemented_job_fields\":");
  for (size_t i = 0; i < kEnterpriseFieldCount; ++i)
    AppendField(o, kEnterpriseFieldNames[i], int64_t(t.enterprise_fields.jobs[i]), i == 0);
  o.append("}}");
  if (ctx.cron) {
    o.append(",\"cron\":");
    AppendCronInfo(o, *ctx.cron);
  }
  o.append("}");
  return o;
}

}  // namespace werk::net
