#pragma once
// INFO: what each shard reports about itself, and the merged reply.
//
// With several shards every shard summarizes its own partition; the shard
// that took the command merges the summaries (queue sizes summed by name,
// counters summed) into Faktory's INFO document, plus a `werk` section with
// each shard's log and checkpoint figures.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/histogram.h"
#include "core/types.h"
#include "cron/view.h"
#include "net/command_kind.h"
#include "net/enterprise_fields.h"

namespace werk::net {

// A shard's replication, as INFO shows it (docs/replication.md "INFO").
struct ReplicationSummary {
  bool standby = false;   // the role: a standby, or the primary
  uint64_t epoch = 0;
  std::string peer;       // the primary (standby) or the standby (primary), host:port
  bool linked = false;    // a session is up
  uint64_t acked_lsn = 0;  // what the standby synced (as the primary heard / its own)
  uint64_t lag = 0;        // records not acknowledged (primary) or not received (standby)
  uint64_t sessions = 0;
  // The primary's standby policy (docs/replication.md): "required" or
  // "degrade"; its state: "sync" (writes wait for the standby), "refusing"
  // (required, timed out) or "alone" (degrade, timed out); how long the
  // oldest write has waited for the standby.
  std::string policy;
  std::string state;
  int64_t waiting_ms = 0;
  // A deposed primary (docs/replication.md "Fencing"): the epoch that
  // deposed it and the new primary's replication address.
  bool deposed = false;
  uint64_t deposed_by = 0;
  std::string new_primary;
};

struct QueueSummary {
  std::string name;
  uint64_t size = 0;
  core::UnixNanos oldest_enqueued_at = 0;  // of the job FETCH would take first; 0: empty
  bool paused = false;
};

// A shard's histograms since start, for /metrics (docs/running.md
// "Histograms"). Merge the shards' with core::Histogram::Add; bucket i's
// upper bound is core::Histogram::Bound(i).
struct ShardHistograms {
  // µs from the loop iteration that dispatched the command to its reply
  // being ready to send (durable, and answered by other shards where it ran
  // there); FETCH includes its blocking wait. Index by net::CommandKind,
  // label with CommandKindName.
  std::array<core::LatencyHistogram, kCommandKinds> command_latency_us{};
  // µs per durable write of the log (one group commit's write + sync);
  // empty without a log.
  core::LatencyHistogram wal_sync_us;
  // Records per durable write of the log.
  core::CountHistogram wal_batch_records;
};

// ShardHistograms on the heap (~3.7 KB): the stats publisher moves and swaps
// snapshots every loop turn (net/stats_publisher.h), and a box moves as a
// pointer; a copy (a reader's) copies the histograms. Never null to read: a
// moved-from box reads as empty.
class HistogramBox {
 public:
  HistogramBox() = default;
  HistogramBox(const HistogramBox& other) { *this = other; }
  HistogramBox& operator=(const HistogramBox& other) {
    if (this != &other) Mutable() = *other;
    return *this;
  }
  HistogramBox(HistogramBox&& other) noexcept : p_(std::move(other.p_)) {}
  HistogramBox& operator=(HistogramBox&& other) noexcept {
    std::swap(p_, other.p_);  // keeps both allocations alive for reuse
    return *this;
  }
  const ShardHistograms& operator*() const { return p_ ? *p_ : Empty(); }
  const ShardHistograms* operator->() const { return &**this; }
  ShardHistograms& Mutable() {
    if (!p_) p_ = std::make_unique<ShardHistograms>();
    return *p_;
  }

 private:
  static const ShardHistograms& Empty() {
    static const ShardHistograms empty;
    return empty;
  }
  std::unique_ptr<ShardHistograms> p_;
};

struct ShardSummary {
  uint32_t id = 0;
  std::vector<QueueSummary> queues;  // sorted by name
  uint64_t dead = 0, retries = 0, scheduled = 0, working = 0;
  int64_t total_failures = 0, total_processed = 0;
  uint64_t jobs_pushed = 0;  // since start (core::PartitionStats)
  uint64_t commands = 0, connections = 0, workers = 0;
  uint64_t timer_cycles = 0, reservations_expired = 0, retries_enqueued = 0;
  uint64_t scheduled_enqueued = 0, workers_reaped = 0;
  bool has_wal = false;
  uint64_t appended_lsn = 0, durable_lsn = 0, syncs = 0, bytes_appended = 0, segments = 0;
  uint64_t segments_recycled = 0;  // reused instead of created, since start
  bool has_mailbox = false;  // more than one shard
  uint64_t mailbox_sent = 0, mailbox_received = 0, mailbox_wakeups = 0;
  bool has_checkpoint = false;
  uint64_t checkpoints_taken = 0, checkpoints_failed = 0, checkpoint_lsn = 0;
  uint64_t checkpoint_bytes = 0;
  int64_t checkpoint_pause_ns = 0;
  int64_t loop_longest_ns = 0;
  std::vector<uint64_t> loop_busy;  // ShardStats::loop_busy
  HistogramBox histograms;  // histograms->command_latency_us[…], …
  EnterpriseFieldUses enterprise_fields;  // the jobs decoded on this shard
  bool has_replication = false;
  ReplicationSummary replication;
};

struct InfoContext {
  core::UnixNanos now = 0;
  core::UnixNanos started_at = 0;
  const cron::View* cron = nullptr;  // the cron block, if the server has a driver
};

// Every shard's queues merged by name (sizes summed, the oldest job's
// enqueue time, paused if paused on any shard), sorted by name.
std::vector<QueueSummary> MergedQueues(const std::vector<ShardSummary>& shards);

// INFO's "cron" object (docs/cron.md "Watching it").
void AppendCronInfo(std::string& out, const cron::View& view);

// The INFO JSON document for the whole server.
std::string RenderInfo(const InfoContext& ctx, const std::vector<ShardSummary>& shards);

}  // namespace werk::net
