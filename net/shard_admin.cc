// BEAT, INFO, FLUSH, MUTATE and QUEUE.

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <absl/strings/ascii.h>
#include <spdlog/spdlog.h>

#include "core/json_writer.h"
#include "core/limits.h"
#include "core/time_format.h"
#include "net/command_decoders.h"
#include "net/resp.h"
#include "net/shard.h"
#include "net/version.h"

namespace werk::net {

namespace {

std::string_view StateName(core::WorkerState s) {
  switch (s) {
    case core::WorkerState::kQuiet: return "quiet";
    case core::WorkerState::kTerminate: return "terminate";
    case core::WorkerState::kRunning: break;
  }
  return "";
}

uint64_t ResidentMegabytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE)) / (1024 * 1024);
}

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

// --- BEAT ----------------------------------------------------------------------------------

void Shard::CmdBeat(Connection* c, std::string_view arg) {
  BeatArgs beat;
  if (!DecodeBeat(decoder_, arg, &beat)) {
    return ReplyError(c, "invalid BEAT " + std::string(arg.substr(0, 1024)));
  }
  WorkerProcess* w = workers_.Find(beat.wid);
  if (!w) return ReplyError(c, "unknown worker " + beat.wid);
  w->last_beat_mono_ms = mono_ms_;
  w->rss_kb = beat.rss_kb;
  conn_timers_.Cancel(&w->heartbeat);
  conn_timers_.Arm(&w->heartbeat, mono_ms_ + core::kHeartbeatTimeoutSeconds * 1000);
  core::WorkerState state = sm_.worker_state(w->wid);
  // The state only moves forward: running -> quiet -> terminate.
  core::WorkerState wanted = state;
  if (beat.current_state == "quiet") wanted = core::WorkerState::kQuiet;
  if (beat.current_state == "terminate") wanted = core::WorkerState::kTerminate;
  if (wanted > state) {
    if (RefuseIfReadOnly(c)) return;
    Commit(core::Mutation::SetWorkerState(now_, w->wid, wanted));
    state = wanted;
  }
  if (state == core::WorkerState::kRunning) return ReplyOk(c);
  std::string body = "{\"state\":\"";
  body.append(StateName(state));
  body.append("\"}");
  ReplyBulk(c, body);
}

// --- INFO ------------------------------------------------------------------------------------

void Shard::CmdInfo(Connection* c) { ReplyBulk(c, RenderInfo()); }

std::string Shard::RenderInfo() {
  using core::AppendJsonInt;
  using core::AppendJsonKey;
  std::string o;
  o.reserve(1024);
  o.append("{\"now\":\"");
  core::AppendRfc3339Nano(o, now_);
  o.append("\",\"server_utc_time\":");
  core::AppendJsonString(o, core::UtcTimeOfDay(now_));
  o.append(",\"faktory\":{\"queues\":{");
  size_t total_enqueued = 0;
  const auto queues = sm_.SortedQueues();
  for (size_t i = 0; i < queues.size(); ++i) {
    if (i) o.push_back(',');
    core::AppendJsonString(o, queues[i]->name());
    o.push_back(':');
    AppendJsonInt(o, int64_t(queues[i]->size()));
    total_enqueued += queues[i]->size();
  }
  o.append("},\"sets\":{\"dead\":");
  AppendJsonInt(o, int64_t(sm_.dead_size()));
  o.append(",\"retries\":");
  AppendJsonInt(o, int64_t(sm_.retries_size()));
  o.append(",\"scheduled\":");
  AppendJsonInt(o, int64_t(sm_.scheduled_size()));
  o.append(",\"working\":");
  AppendJsonInt(o, int64_t(sm_.reserved_size()));
  o.append("},\"tasks\":{\"Busy\":{\"reaped\":");
  AppendJsonInt(o, int64_t(stats_.reservations_expired));
  o.append(",\"size\":");
  AppendJsonInt(o, int64_t(sm_.reserved_size()));
  o.append("},\"Dead\":{\"cycles\":");
  AppendJsonInt(o, int64_t(stats_.timer_cycles));
  o.append(",\"enqueued\":0,\"size\":");
  AppendJsonInt(o, int64_t(sm_.dead_size()));
  o.append(",\"wall_time_sec\":0},\"Retries\":{\"cycles\":");
  AppendJsonInt(o, int64_t(stats_.timer_cycles));
  o.append(",\"enqueued\":");
  AppendJsonInt(o, int64_t(stats_.retries_enqueued));
  o.append(",\"size\":");
  AppendJsonInt(o, int64_t(sm_.retries_size()));
  o.append(",\"wall_time_sec\":0},\"Scheduled\":{\"cycles\":");
  AppendJsonInt(o, int64_t(stats_.timer_cycles));
  o.append(",\"enqueued\":");
  AppendJsonInt(o, int64_t(stats_.scheduled_enqueued));
  o.append(",\"size\":");
  AppendJsonInt(o, int64_t(sm_.scheduled_size()));
  o.append(",\"wall_time_sec\":0},\"Workers\":{\"reaped\":");
  AppendJsonInt(o, int64_t(stats_.workers_reaped));
  o.append(",\"size\":");
  AppendJsonInt(o, int64_t(workers_.size()));
  o.append("}},\"total_failures\":");
  AppendJsonInt(o, sm_.total_failures());
  o.append(",\"total_processed\":");
  AppendJsonInt(o, sm_.total_processed());
  o.append(",\"total_enqueued\":");
  AppendJsonInt(o, int64_t(total_enqueued));
  o.append(",\"total_queues\":");
  AppendJsonInt(o, int64_t(queues.size()));
  o.append("},\"server\":{\"description\":\"werk\",\"faktory_version\":\"");
  o.append(kFaktoryProtocolVersion);
  o.append("\",\"werk_version\":\"");
  o.append(kWerkVersion);
  o.append("\",\"uptime\":");
  AppendJsonInt(o, (now_ - started_at_) / core::kNanosPerSecond);
  o.append(",\"connections\":");
  AppendJsonInt(o, int64_t(ready_connections_));
  o.append(",\"command_count\":");
  AppendJsonInt(o, int64_t(stats_.commands));
  o.append(",\"used_memory_mb\":");
  AppendJsonInt(o, int64_t(ResidentMegabytes()));
  o.append("}");
  // werk's own state: the write-ahead log and checkpoints.
  if (wal_) {
    o.append(",\"werk\":{\"wal\":{\"appended_lsn\":");
    AppendJsonInt(o, int64_t(wal_->appended_lsn().value()));
    o.append(",\"durable_lsn\":");
    AppendJsonInt(o, int64_t(wal_->durable_lsn().value()));
    o.append(",\"syncs\":");
    AppendJsonInt(o, int64_t(wal_->syncs()));
    o.append(",\"bytes_appended\":");
    AppendJsonInt(o, int64_t(wal_->bytes_appended()));
    o.append(",\"segments\":");
    AppendJsonInt(o, int64_t(wal_->segment_count()));
    o.append("}");
    if (checkpointer_) {
      const auto& cs = checkpointer_->stats();
      o.append(",\"checkpoint\":{\"taken\":");
      AppendJsonInt(o, int64_t(cs.taken));
      o.append(",\"failed\":");
      AppendJsonInt(o, int64_t(cs.failed));
      o.append(",\"lsn\":");
      AppendJsonInt(o, int64_t(cs.last_lsn));
      o.append(",\"bytes\":");
      AppendJsonInt(o, int64_t(cs.last_bytes));
      o.append(",\"pause_ms\":");
      core::AppendJsonDouble(o, double(cs.last_pause_ns) / 1e6);
      o.append("}");
    }
    o.append("}");
  }
  o.append("}");
  return o;
}

// --- FLUSH -----------------------------------------------------------------------------------

void Shard::CmdFlush(Connection* c) {
  if (RefuseIfReadOnly(c)) return;
  spdlog::warn("FLUSH: deleting every job, queue and counter");
  Commit(core::Mutation::Flush(now_));
  ReplyOk(c);
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
  if (RefuseIfReadOnly(c)) return;
  Commit(core::Mutation::MutateSet(now_, std::move(rec)));
  ReplyOk(c);
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
    std::string o = "{";
    for (const auto& name : names) {
      double latency = 0;
      if (const core::Queue* q = sm_.FindQueue(name); q && !q->empty()) {
        const core::Job* oldest = q->Front();
        if (oldest->enqueued_at != 0)
          latency = double(now_ - oldest->enqueued_at) / double(core::kNanosPerSecond);
      }
      if (o.size() > 1) o.push_back(',');
      core::AppendJsonString(o, name);
      o.push_back(':');
      core::AppendJsonDouble(o, latency);
    }
    o.push_back('}');
    return ReplyBulk(c, o);
  }
  core::MutationType type;
  if (sub == "PAUSE") type = core::MutationType::kQueuePause;
  else if (sub == "RESUME") type = core::MutationType::kQueueResume;
  else if (sub == "REMOVE") type = core::MutationType::kQueueRemove;
  else return ReplyError(c, "no such QUEUE subcommand: " + sub);
  if (names.empty())
    return ReplyError(c, "QUEUE " + sub + " needs at least one queue name, or *");
  if (RefuseIfReadOnly(c)) return;
  core::QueueRecord rec;
  if (names.size() >= 1 && names[0] == "*") {
    rec.all = true;
  } else {
    rec.names = std::move(names);
  }
  Commit(core::Mutation::Queue(now_, type, std::move(rec)));
  ReplyOk(c);
}

}  // namespace werk::net
