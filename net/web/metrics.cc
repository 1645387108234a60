#include "net/web/metrics.h"

#include <array>
#include <initializer_list>
#include <map>
#include <string_view>

#include "net/version.h"
#include "net/web/prometheus_text.h"

namespace werk::net::web {
namespace {

constexpr double kNanosToSeconds = 1e-9;

void Server(PrometheusText& p, const MetricsInput& in) {
  p.Family("werk_build_info", "gauge", "werk's version and the Faktory protocol it speaks.");
  p.Sample("werk_build_info", {{"version", kWerkVersion}, {"faktory_version", kFaktoryProtocolVersion}},
           uint64_t{1});
  p.Family("werk_start_time_seconds", "gauge", "When this process started (unix seconds).");
  p.Sample("werk_start_time_seconds", {}, double(in.started_at) * kNanosToSeconds);
  p.Family("werk_ready", "gauge",
           "1 when this server takes writes (recovered, the primary, not refusing), else 0; "
           "as /ready.");
  p.Sample("werk_ready", {}, uint64_t{in.readiness.ready ? 1u : 0u});
  p.Family("werk_role", "gauge",
           "1 for this server's role: primary, standby, deposed, starting or stopping.");
  for (const char* role : {"primary", "standby", "deposed", "starting", "stopping"})
    p.Sample("werk_role", {{"role", role}}, uint64_t{in.readiness.role == role ? 1u : 0u});
  p.Family("werk_epoch", "gauge", "The replication epoch (0 without replication).");
  p.Sample("werk_epoch", {}, in.readiness.epoch);
}

void Jobs(PrometheusText& p, const MetricsInput& in) {
  const std::vector<ShardSummary>& shards = *in.shards;
  const std::vector<QueueSummary> queues = MergedQueues(shards);
  uint64_t pushed = 0, dead = 0, retries = 0, scheduled = 0, working = 0;
  int64_t processed = 0, failed = 0;
  for (const ShardSummary& s : shards) {
    pushed += s.jobs_pushed;
    processed += s.total_processed;
    failed += s.total_failures;
    dead += s.dead;
    retries += s.retries;
    scheduled += s.scheduled;
    working += s.working;
  }
  p.Family("werk_queue_jobs", "gauge", "Jobs waiting in a queue.");
  for (const QueueSummary& q : queues) p.Sample("werk_queue_jobs", {{"queue", q.name}}, q.size);
  p.Family("werk_queue_latency_seconds", "gauge",
           "How long the job FETCH would take next has waited in its queue (0 when empty).");
  for (const QueueSummary& q : queues) {
    const core::UnixNanos oldest = q.oldest_enqueued_at;
    const double latency =
        oldest == 0 || in.now < oldest ? 0.0 : double(in.now - oldest) * kNanosToSeconds;
    p.Sample("werk_queue_latency_seconds", {{"queue", q.name}}, latency);
  }
  p.Family("werk_queue_paused", "gauge", "1 when the queue is paused.");
  for (const QueueSummary& q : queues)
    p.Sample("werk_queue_paused", {{"queue", q.name}}, uint64_t{q.paused ? 1u : 0u});
  p.Family("werk_jobs_pushed_total", "counter",
           "Jobs stored by a push (PUSH, PUSHB, cron) since this process started.");
  p.Sample("werk_jobs_pushed_total", {}, pushed);
  p.Family("werk_jobs_processed_total", "counter",
           "Jobs acknowledged or failed, ever (Faktory's total_processed; kept across restarts, "
           "reset by FLUSH).");
  p.Sample("werk_jobs_processed_total", {}, processed);
  p.Family("werk_jobs_failed_total", "counter",
           "Jobs failed, ever (Faktory's total_failures; kept across restarts, reset by FLUSH).");
  p.Sample("werk_jobs_failed_total", {}, failed);
  p.Family("werk_set_jobs", "gauge", "Jobs in the retries, scheduled and dead sets.");
  p.Sample("werk_set_jobs", {{"set", "retries"}}, retries);
  p.Sample("werk_set_jobs", {{"set", "scheduled"}}, scheduled);
  p.Sample("werk_set_jobs", {{"set", "dead"}}, dead);
  p.Family("werk_working_jobs", "gauge", "Jobs reserved by a worker (fetched, not yet ACKed).");
  p.Sample("werk_working_jobs", {}, working);
}

void Connections(PrometheusText& p, const std::vector<ShardSummary>& shards) {
  uint64_t connections = 0, workers = 0, commands = 0;
  for (const ShardSummary& s : shards) {
    connections += s.connections;
    workers += s.workers;
    commands += s.commands;
  }
  p.Family("werk_connections", "gauge", "Client connections past the handshake.");
  p.Sample("werk_connections", {}, connections);
  p.Family("werk_worker_processes", "gauge", "Worker processes known (by wid).");
  p.Sample("werk_worker_processes", {}, workers);
  p.Family("werk_commands_total", "counter", "Commands served since this process started.");
  p.Sample("werk_commands_total", {}, commands);
}

// Per-shard figures of the log, checkpoints, the loop and the mailbox.
void Shards(PrometheusText& p, const std::vector<ShardSummary>& shards) {
  std::vector<std::string> ids;
  for (const ShardSummary& s : shards) ids.push_back(std::to_string(s.id));
  auto each = [&](std::string_view name, std::string_view type, std::string_view help,
                  auto value, auto has) {
    p.Family(name, type, help);
    for (size_t i = 0; i < shards.size(); ++i)
      if (has(shards[i])) p.Sample(name, {{"shard", ids[i]}}, value(shards[i]));
  };
  auto wal = [](const ShardSummary& s) { return s.has_wal; };
  auto ckpt = [](const ShardSummary& s) { return s.has_checkpoint; };
  auto box = [](const ShardSummary& s) { return s.has_mailbox; };
  auto any = [](const ShardSummary&) { return true; };
  each("werk_wal_appended_lsn", "gauge", "The last log record appended.",
       [](const ShardSummary& s) { return s.appended_lsn; }, wal);
  each("werk_wal_durable_lsn", "gauge", "The last log record on disk.",
       [](const ShardSummary& s) { return s.durable_lsn; }, wal);
  each("werk_wal_syncs_total", "counter", "Log writes made durable (group commits).",
       [](const ShardSummary& s) { return s.syncs; }, wal);
  each("werk_wal_appended_bytes_total", "counter", "Bytes appended to the log.",
       [](const ShardSummary& s) { return s.bytes_appended; }, wal);
  each("werk_wal_segments", "gauge", "Log segment files (live and spare).",
       [](const ShardSummary& s) { return s.segments; }, wal);
  each("werk_wal_segments_recycled_total", "counter", "Segments reused instead of created.",
       [](const ShardSummary& s) { return s.segments_recycled; }, wal);
  each("werk_checkpoints_total", "counter", "Checkpoints taken.",
       [](const ShardSummary& s) { return s.checkpoints_taken; }, ckpt);
  each("werk_checkpoint_failures_total", "counter", "Checkpoints that failed.",
       [](const ShardSummary& s) { return s.checkpoints_failed; }, ckpt);
  each("werk_checkpoint_lsn", "gauge", "The LSN the newest checkpoint covers.",
       [](const ShardSummary& s) { return s.checkpoint_lsn; }, ckpt);
  each("werk_checkpoint_bytes", "gauge", "The newest checkpoint's size.",
       [](const ShardSummary& s) { return s.checkpoint_bytes; }, ckpt);
  each("werk_checkpoint_pause_seconds", "gauge",
       "The longest time the newest checkpoint held the shard's loop.",
       [](const ShardSummary& s) { return double(s.checkpoint_pause_ns) * kNanosToSeconds; },
       ckpt);
  each("werk_loop_longest_turn_seconds", "gauge",
       "The longest turn of the shard's loop since start.",
       [](const ShardSummary& s) { return double(s.loop_longest_ns) * kNanosToSeconds; }, any);
  each("werk_mailbox_sent_total", "counter", "Messages sent to other shards.",
       [](const ShardSummary& s) { return s.mailbox_sent; }, box);
  each("werk_mailbox_received_total", "counter", "Messages received from other shards.",
       [](const ShardSummary& s) { return s.mailbox_received; }, box);
  each("werk_mailbox_wakeups_total", "counter", "Wake-ups of the shard by another.",
       [](const ShardSummary& s) { return s.mailbox_wakeups; }, box);
}

template <class H>
std::array<double, H::kBuckets - 1> BoundsOf() {
  std::array<double, H::kBuckets - 1> b{};
  for (size_t i = 0; i < b.size(); ++i) b[i] = double(H::Bound(i));
  return b;
}

template <class H>
void Export(PrometheusText& p, std::string_view name, std::initializer_list<Label> labels,
            const H& h, double scale) {
  static const auto bounds = BoundsOf<H>();
  p.Histogram(name, labels, bounds.data(), h.counts.data(), bounds.size(), double(h.sum), scale);
}

// The shards' histograms (net/info.h ShardHistograms), merged bucket by
// bucket: the server's, not a shard's.
void Histograms(PrometheusText& p, const std::vector<ShardSummary>& shards) {
  ShardHistograms all;
  bool wal = false;
  for (const ShardSummary& s : shards) {
    const ShardHistograms& h = *s.histograms;
    for (size_t k = 0; k < kCommandKinds; ++k) all.command_latency_us[k].Add(h.command_latency_us[k]);
    if (s.has_wal) {
      wal = true;
      all.wal_sync_us.Add(h.wal_sync_us);
      all.wal_batch_records.Add(h.wal_batch_records);
    }
  }
  constexpr double kMicros = 1e-6;
  p.Family("werk_command_duration_seconds", "histogram",
           "From the loop turn that dispatched a command to its reply being ready to send "
           "(durable; answered by another shard where it ran there). FETCH includes its wait "
           "for a job (up to 2 s).");
  for (size_t k = 0; k < kCommandKinds; ++k) {
    const std::string_view command = CommandKindName(CommandKind(k));
    Export(p, "werk_command_duration_seconds", {{"command", command}}, all.command_latency_us[k],
           kMicros);
  }
  if (!wal) return;
  p.Family("werk_wal_write_duration_seconds", "histogram",
           "One durable write of a shard's log: a group commit's write and sync.");
  Export(p, "werk_wal_write_duration_seconds", {}, all.wal_sync_us, kMicros);
  p.Family("werk_wal_batch_records", "histogram", "Records one durable write of the log carried.");
  Export(p, "werk_wal_batch_records", {}, all.wal_batch_records, 1.0);
}

void Replication(PrometheusText& p, const std::vector<ShardSummary>& shards) {
  bool any = false;
  for (const ShardSummary& s : shards) any = any || s.has_replication;
  if (!any) return;
  std::vector<std::string> ids;
  for (const ShardSummary& s : shards) ids.push_back(std::to_string(s.id));
  auto each = [&](std::string_view name, std::string_view help, auto value) {
    p.Family(name, "gauge", help);
    for (size_t i = 0; i < shards.size(); ++i)
      if (shards[i].has_replication) p.Sample(name, {{"shard", ids[i]}}, value(shards[i]));
  };
  each("werk_replication_linked", "1 while a replication session is up.",
       [](const ShardSummary& s) { return uint64_t{s.replication.linked ? 1u : 0u}; });
  each("werk_replication_lag_records",
       "Records the standby has not acknowledged (primary) or not received (standby).",
       [](const ShardSummary& s) { return s.replication.lag; });
  each("werk_replication_acked_lsn", "What the standby has synced.",
       [](const ShardSummary& s) { return s.replication.acked_lsn; });
  each("werk_replication_waiting_seconds",
       "How long the oldest write has waited for the standby (primary).",
       [](const ShardSummary& s) { return double(s.replication.waiting_ms) / 1000.0; });
  p.Family("werk_replication_sessions_total", "counter", "Replication sessions begun.");
  for (size_t i = 0; i < shards.size(); ++i)
    if (shards[i].has_replication)
      p.Sample("werk_replication_sessions_total", {{"shard", ids[i]}},
               shards[i].replication.sessions);
}

void Cron(PrometheusText& p, const cron::View& v) {
  p.Family("werk_cron_active", "gauge", "1 while this server fires cron ticks (the primary).");
  p.Sample("werk_cron_active", {}, uint64_t{v.active ? 1u : 0u});
  p.Family("werk_cron_entries", "gauge", "Entries in the cron table.");
  p.Sample("werk_cron_entries", {}, uint64_t(v.entries.size()));
  p.Family("werk_cron_ticks_fired_total", "counter", "Cron ticks pushed by this process.");
  p.Sample("werk_cron_ticks_fired_total", {}, v.fired_total);
  p.Family("werk_cron_ticks_missed_total", "counter",
           "Cron ticks not fired (later than their grace, catch_up = skip).");
  p.Sample("werk_cron_ticks_missed_total", {}, v.missed_total);
  p.Family("werk_cron_push_failures_total", "counter",
           "Cron pushes the log refused (each tried again).");
  p.Sample("werk_cron_push_failures_total", {}, v.failed_total);
}

}  // namespace

std::string RenderMetrics(const MetricsInput& in) {
  static const std::vector<ShardSummary> kNone;
  const std::vector<ShardSummary>& shards = in.shards ? *in.shards : kNone;
  MetricsInput with = in;
  with.shards = &shards;
  PrometheusText p;
  p.text().reserve(8192 + 256 * shards.size());
  Server(p, with);
  Jobs(p, with);
  Connections(p, shards);
  Shards(p, shards);
  Histograms(p, shards);
  Replication(p, shards);
  if (in.cron) Cron(p, *in.cron);
  return std::move(p.text());
}

}  // namespace werk::net::web
