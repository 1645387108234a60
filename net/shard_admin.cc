// INFO, FLUSH, MUTATE, QUEUE and PROMOTE: the commands that act on every shard.

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
  // The snapshots show durable state only, so the answer waits for nothing
  // this shard appended since — a primary whose writes wait for a standby
  // still answers INFO at once.
  std::optional<cron::View> cron;
  if (const cron::Driver* d = group_->cron.load()) cron = d->Read();
  std::string out;
  AppendBulk(out, RenderInfo(InfoContext{now(), started_at_, cron ? &*cron : nullptr},
                             ReadSummaries()));
  ReplyIndependent(c, out);
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
  for (const core::Queue* q : sorted_queues_) {
    s.queues.push_back(QueueSummary{q->name(), q->size(),
                                    q->empty() ? 0 : q->Front()->enqueued_at, q->paused()});
  }
  s.dead = partition_.state().dead_size();
  s.retries = partition_.state().retries_size();
  s.scheduled = partition_.state().scheduled_size();
  s.working = partition_.state().reserved_size();
  s.total_failures = partition_.state().total_failures();
  s.total_processed = partition_.state().total_processed();
  s.jobs_pushed = partition_.stats().pushed;
  s.commands = stats_.commands;
  s.enterprise_fields = field_uses_;
  s.connections = ready_connections_;
  // A process counts once, on the shard that owns its wid.
  s.workers = service_.workers().size();
  const core::TimerStats& timers = partition_.timer_stats();
  s.timer_cycles = timers.cycles;
  s.reservations_expired = timers.reservations_expired;
  s.retries_enqueued = timers.retries_enqueued;
  s.scheduled_enqueued = timers.scheduled_enqueued;
  s.workers_reaped = service_.worker_stats().reaped;
  const core::LoopStats& loop = runtime_.loop_stats();
  s.loop_longest_ns = loop.longest_ns;
  s.loop_busy.assign(loop.busy.begin(), loop.busy.end());
  // One copy of the histograms per snapshot, into the slot's own box.
  ShardHistograms& h = s.histograms.Mutable();
  h.command_latency_us = command_latency_us_;
  if (wal_) {
    s.has_wal = true;
    s.appended_lsn = wal_->appended_lsn().value();
    s.durable_lsn = wal_->durable_lsn().value();
    s.syncs = wal_->syncs();
    s.bytes_appended = wal_->bytes_appended();
    s.segments = wal_->segment_count();
    s.segments_recycled = wal_->segments_recycled();
    h.wal_sync_us = wal_->sync_us();
    h.wal_batch_records = wal_->batch_records();
  }
  if (const core::ShardMailbox* box = runtime_.mailbox()) {
    s.has_mailbox = true;
    s.mailbox_sent = box->sent();
    s.mailbox_received = box->received();
    s.mailbox_wakeups = box->wakeups();
  }
  if (replication_reporter_) {
    s.has_replication = true;
    replication_reporter_(&s.replication);
  }
  if (partition_.role() == core::Role::kDeposed) {
    s.has_replication = true;
    s.replication.deposed = true;
    s.replication.deposed_by = partition_.deposed_by().value();
    s.replication.new_primary = partition_.primary();
  }
  if (checkpointer_) {
    const auto& cs = checkpointer_->stats();
    s.has_checkpoint = true;
    s.checkpoints_taken = cs.taken;
    s.checkpoints_failed = cs.failed;
    s.checkpoint_lsn = cs.last_lsn.value();
    s.checkpoint_bytes = cs.last_bytes;
    s.checkpoint_pause_ns = cs.last_pause_ns;
  }
}

// --- FLUSH -----------------------------------------------------------------------------------

void Shard::CmdFlush(Connection* c, std::string_view) {
  AnswerInOrder<core::OpStatus>(c, service_.Flush(),
                                [this, c](core::OpStatus s) { ReplyStatus(c, s); });
}

// --- MUTATE ----------------------------------------------------------------------------------

void Shard::CmdMutate(Connection* c, std::string_view arg) {
  // Faktory requires the JSON to hold no space at all (it splits the line on
  // spaces); werk takes the rest of the line, so formatted JSON works too.
  if (arg.empty()) return ReplyError(c, "invalid format");
  MutateArgs args;
  if (core::OpStatus s = DecodeMutate(decoder_, arg, &args); !s.ok()) return ReplyStatus(c, s);
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
  AnswerInOrder<core::OpStatus>(c, service_.Mutate(std::move(rec)),
                                [this, c](core::OpStatus s) { ReplyStatus(c, s); });
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
    auto shown = std::make_shared<const std::vector<std::string>>(names);
    using Oldest = core::OpResult<std::vector<core::UnixNanos>>;
    return AnswerInOrder<Oldest>(c, service_.OldestEnqueued(std::move(names)),
                                 [this, c, shown](Oldest oldest) {
                                   if (!oldest.ok()) return ReplyStatus(c, oldest.status());
                                   ReplyLatency(c, *shown, *oldest);
                                 });
  }
  core::MutationType type;
  if (sub == "PAUSE") type = core::MutationType::kQueuePause;
  else if (sub == "RESUME") type = core::MutationType::kQueueResume;
  else if (sub == "REMOVE") type = core::MutationType::kQueueRemove;
  else return ReplyError(c, "no such QUEUE subcommand: " + sub);
  if (names.empty())
    return ReplyError(c, "QUEUE " + sub + " needs at least one queue name, or *");
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
  AnswerInOrder<core::OpStatus>(c, service_.QueueOp(type, std::move(rec)),
                                [this, c](core::OpStatus s) { ReplyStatus(c, s); });
}

// --- PROMOTE ---------------------------------------------------------------------------------

void Shard::CmdPromote(Connection* c, std::string_view arg) {
  if (!arg.empty())
    return ReplyIndependent(c, StatusReply(core::InvalidRequest("PROMOTE takes no argument")));
  if (!promote_) {
    return ReplyIndependent(
        c, StatusReply(absl::FailedPreconditionError("PROMOTE is not available on this server")));
  }
  // The server runs the promotion on every shard (this one included) and
  // answers here once every shard's epoch record is durable; the
  // connection reads nothing further meanwhile.
  core::Promise<core::OpStatus> promise;
  core::Pending<core::OpStatus> result = promise.pending();
  std::optional<core::OpStatus> refused =
      promote_([promise](core::OpStatus s) mutable { promise.Set(std::move(s)); });
  // A refusal depends on no record: it does not wait for the standby (a
  // primary in required mode with none attached would hold it forever).
  if (refused) return ReplyIndependent(c, StatusReply(*refused));
  AnswerInOrder<core::OpStatus>(c, std::move(result),
                                [this, c](core::OpStatus s) { ReplyStatus(c, s); });
}

void Shard::ReplyLatency(Connection* c, const std::vector<std::string>& names,
                         const std::vector<core::UnixNanos>& oldest) {
  std::string o = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    const core::UnixNanos first = i < oldest.size() ? oldest[i] : 0;
    const double latency = first == 0 ? 0.0 : double(now() - first) / double(core::kNanosPerSecond);
    if (o.size() > 1) o.push_back(',');
    core::AppendJsonString(o, names[i]);
    o.push_back(':');
    core::AppendJsonDouble(o, latency);
  }
  o.push_back('}');
  ReplyBulk(c, o);
}

}  // namespace werk::net
