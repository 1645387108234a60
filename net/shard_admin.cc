// INFO, FLUSH, MUTATE and QUEUE: the commands that act on every shard.

#include <algorithm>
#include <memory>

#include <absl/container/flat_hash_set.h>
#include <absl/strings/ascii.h>
#include <spdlog/spdlog.h>

#include "core/json_writer.h"
#include "core/limits.h"
#include "net/command_decoders.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

namespace {

std::vector<std::string> SplitSpaces(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t sp = s.find(' ', pos);
    out.emplace_back(s.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  return out;
}

}  // namespace

// --- INFO ------------------------------------------------------------------------------------

void Shard::CmdInfo(Connection* c, std::string_view) {
  // Every shard's published snapshot (net/stats_publisher.h): no round trip.
  std::string out;
  AppendBulk(out, RenderInfo(InfoContext{now(), started_at_}, ReadSummaries()));
  Reply(c, out);
}

std::vector<ShardSummary> Shard::ReadSummaries() const {
  std::vector<ShardSummary> all;
  const std::vector<const Shard*> shards =
      peers_.empty() ? std::vector<const Shard*>{this}
                     : std::vector<const Shard*>(peers_.begin(), peers_.end());
  for (const Shard* s : shards) {
    // (A shard that has not published yet — it is still starting — shows
    // as empty.)
    if (std::optional<ShardSummary> summary = s->stats_publisher_.Read())
      all.push_back(std::move(*summary));
  }
  return all;
}

void Shard::Summarize(ShardSummary* out) {
  // Fills in every field: `out` may hold an earlier snapshot.
  ShardSummary& s = *out;
  s.id = id_;
  const core::StateMachine& sm = partition_.state();
  if (sorted_queues_version_ != sm.queue_set_version()) {
    sorted_queues_ = sm.SortedQueues();
    sorted_queues_version_ = sm.queue_set_version();
  }
  s.queues.clear();
  s.queues.reserve(sorted_queues_.size());
  for (const core::Queue* q : sorted_queues_) s.queues.emplace_back(q->name(), q->size());
  s.dead = partition_.state().dead_size();
  s.retries = partition_.state().retries_size();
  s.scheduled = partition_.state().scheduled_size();
  s.working = partition_.state().reserved_size();
  s.total_failures = partition_.state().total_failures();
  s.total_processed = partition_.state().total_processed();
  s.commands = stats_.commands;
  s.connections = ready_connections_;
  // A process counts once, on the shard that owns its wid.
  if (owned_workers_version_ != workers_.version()) {
    owned_workers_ = 0;
    workers_.ForEach([&](const WorkerProcess& w) {
      if (OwnerOf(w.wid) == id_) ++owned_workers_;
    });
    owned_workers_version_ = workers_.version();
  }
  s.workers = owned_workers_;
  const core::TimerStats& timers = partition_.timer_stats();
  s.timer_cycles = timers.cycles;
  s.reservations_expired = timers.reservations_expired;
  s.retries_enqueued = timers.retries_enqueued;
  s.scheduled_enqueued = timers.scheduled_enqueued;
  s.workers_reaped = stats_.workers_reaped;
  const core::LoopStats& loop = runtime_.loop_stats();
  s.loop_longest_ns = loop.longest_ns;
  s.loop_busy.assign(loop.busy.begin(), loop.busy.end());
  if (wal_) {
    s.has_wal = true;
    s.appended_lsn = wal_->appended_lsn().value();
    s.durable_lsn = wal_->durable_lsn().value();
    s.syncs = wal_->syncs();
    s.bytes_appended = wal_->bytes_appended();
    s.segments = wal_->segment_count();
    s.segments_recycled = wal_->segments_recycled();
  }
  if (const core::ShardMailbox* box = runtime_.mailbox()) {
    s.has_mailbox = true;
    s.mailbox_sent = box->sent();
    s.mailbox_received = box->received();
    s.mailbox_wakeups = box->wakeups();
  }
  if (checkpointer_) {
    const auto& cs = checkpointer_->stats();
    s.has_checkpoint = true;
    s.checkpoints_taken = cs.taken;
    s.checkpoints_failed = cs.failed;
    s.checkpoint_lsn = cs.last_lsn;
    s.checkpoint_bytes = cs.last_bytes;
    s.checkpoint_pause_ns = cs.last_pause_ns;
  }
}

// --- FLUSH -----------------------------------------------------------------------------------

void Shard::CmdFlush(Connection* c, std::string_view) {
  if (RefuseIfReadOnly(c)) return;
  spdlog::warn("FLUSH: deleting every job, queue and counter");
  // Each shard flushes its partition atomically; across shards the flush is
  // not one instant (a concurrent PUSH may land on either side of it).
  RunGlobal(c, [this, c] { CommitEverywhere(c, {core::Mutation::Flush(now())}); });
}

// --- MUTATE ----------------------------------------------------------------------------------

void Shard::CmdMutate(Connection* c, std::string_view arg) {
  // Faktory requires the JSON to hold no space at all (it splits the line on
  // spaces); werk takes the rest of the line, so formatted JSON works too.
  if (arg.empty()) return ReplyError(c, "invalid format");
  MutateArgs args;
  std::string error;
  if (!DecodeMutate(decoder_, arg, &args, &error)) return ReplyError(c, error);
  core::MutateSetRecord rec;
  if (args.cmd == "clear") rec.cmd = core::MutateCmd::kClear;
  else if (args.cmd == "kill") rec.cmd = core::MutateCmd::kKill;
  else if (args.cmd == "discard") rec.cmd = core::MutateCmd::kDiscard;
  else if (args.cmd == "requeue") rec.cmd = core::MutateCmd::kRequeue;
  else return ReplyError(c, "unknown mutate operation");
  if (args.target == "retries") rec.target = core::SetTarget::kRetries;
  else if (args.target == "scheduled") rec.target = core::SetTarget::kScheduled;
  else if (args.target == "dead") rec.target = core::SetTarget::kDead;
  else return ReplyError(c, "invalid target for mutation command");
  rec.filter = std::move(args.filter);
  if (rec.filter && rec.filter->regexp.size() > core::kMutateGlobBytesMax) {
    return ReplyError(c, "regexp is longer than " + std::to_string(core::kMutateGlobBytesMax) +
                             " bytes");
  }
  if (RefuseIfReadOnly(c)) return;
  // Each shard applies the mutation to the jobs it owns, a slice at a time
  // (net/shard_slices.cc). Like Faktory's, it is not one instant: a job that
  // enters the set while it runs may or may not be acted on.
  RunMutate(c, std::move(rec));
}

// --- QUEUE -----------------------------------------------------------------------------------

void Shard::CmdQueue(Connection* c, std::string_view rest) {
  // `rest` is " SUB name...". Faktory 1.10 panics ("internal error") without
  // a sub-command or names; werk says what is missing.
  std::vector<std::string> parts = SplitSpaces(rest.empty() ? rest : rest.substr(1));
  if (rest.empty() || parts.empty() || parts[0].empty()) {
    return ReplyError(c, "QUEUE needs a subcommand: PAUSE, RESUME, REMOVE or LATENCY");
  }
  const std::string sub = absl::AsciiStrToUpper(parts[0]);
  std::vector<std::string> names(parts.begin() + 1, parts.end());
  if (sub == "LATENCY") {
    if (names.size() == 1 && names[0] == "*")
      return ReplyError(c, "QUEUE LATENCY does not support wildcards");
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return QueueLatency(c, std::move(names));
  }
  core::MutationType type;
  if (sub == "PAUSE") type = core::MutationType::kQueuePause;
  else if (sub == "RESUME") type = core::MutationType::kQueueResume;
  else if (sub == "REMOVE") type = core::MutationType::kQueueRemove;
  else return ReplyError(c, "no such QUEUE subcommand: " + sub);
  if (names.empty())
    return ReplyError(c, "QUEUE " + sub + " needs at least one queue name, or *");
  if (RefuseIfReadOnly(c)) return;
  // Normalised before the record is built: a name given twice is one queue
  // (removing it twice once crashed the server, and the record with it every
  // restart after).
  core::QueueRecord rec;
  if (names[0] == "*") {
    rec.all = true;
  } else {
    absl::flat_hash_set<std::string_view> seen;
    for (const auto& name : names)
      if (seen.insert(name).second) rec.names.push_back(name);  // (views into `names`)
  }
  if (type != core::MutationType::kQueuePause || peers_.size() <= 1) {
    // RESUME and REMOVE act on every partition that exists; one that does not
    // exist has nothing to resume or remove.
    return RunGlobal(c, [this, c, type, rec = std::move(rec)] {
      CommitEverywhere(c, {core::Mutation::Queue(now(), type, rec)});
    });
  }
  // PAUSE with several shards: a queue exists if any shard knows it, and its
  // pause must hold on every shard, including one where the next job pushed
  // to it will create its partition. So: learn which queues exist anywhere,
  // then declare them everywhere and pause them.
  RunGlobal(c, [this, c, rec = std::move(rec)] {
    using Names = std::vector<std::string>;
    RunOnAll<Names>(
        c, [rec](Shard& s) { return s.partition_.KnownQueues(rec.names, rec.all); },
        [this, c](std::vector<Names>& known) -> std::optional<std::string> {
          Names names;
          for (auto& v : known) names.insert(names.end(), v.begin(), v.end());
          std::sort(names.begin(), names.end());
          names.erase(std::unique(names.begin(), names.end()), names.end());
          if (names.empty()) {
            FinishGlobal();
            return std::string(kOkReply);
          }
          core::QueueRecord named{std::move(names), false};
          CommitEverywhere(c, {core::Mutation::Queue(now(), core::MutationType::kQueueDeclare, named),
                               core::Mutation::Queue(now(), core::MutationType::kQueuePause, named)});
          return std::nullopt;
        });
  });
}

void Shard::QueueLatency(Connection* c, std::vector<std::string> names) {
  // Each shard reports when the oldest job of each queue was enqueued there;
  // the oldest over all shards gives the latency.
  auto shared_names = std::make_shared<const std::vector<std::string>>(std::move(names));
  using Oldest = std::vector<core::UnixNanos>;  // per name; 0: none queued
  RunOnAll<Oldest>(
      c,
      [shared_names](Shard& s) { return s.partition_.OldestEnqueued(*shared_names); },
      [this, shared_names](std::vector<Oldest>& oldest) -> std::optional<std::string> {
        std::string o = "{";
        for (size_t i = 0; i < shared_names->size(); ++i) {
          core::UnixNanos first = 0;
          for (const auto& mine : oldest)
            if (i < mine.size() && mine[i] != 0 && (first == 0 || mine[i] < first)) first = mine[i];
          const double latency =
              first == 0 ? 0.0 : double(now() - first) / double(core::kNanosPerSecond);
          if (o.size() > 1) o.push_back(',');
          core::AppendJsonString(o, (*shared_names)[i]);
          o.push_back(':');
          core::AppendJsonDouble(o, latency);
        }
        o.push_back('}');
        std::string out;
        AppendBulk(out, o);
        return out;
      });
}

}  // namespace werk::net
