// Command dispatch and the job commands: PUSH, PUSHB, FETCH, ACK, FAIL.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/job_json.h"
#include "core/json_writer.h"
#include "core/limits.h"
#include "net/command_decoders.h"
#include "net/resp.h"
#include "net/shard.h"

namespace werk::net {

namespace {

// The verb as it may be echoed in an error: bounded and printable.
std::string PrintableVerb(std::string_view verb) {
  constexpr size_t kMax = 64;
  std::string out;
  for (size_t i = 0; i < verb.size() && i < kMax; ++i) {
    const auto ch = static_cast<unsigned char>(verb[i]);
    out.push_back(ch >= 0x20 && ch < 0x7f ? char(ch) : '?');
  }
  if (verb.size() > kMax) out += "...";
  return out;
}

// Faktory cuts `len(VERB)+1` bytes off the line; a bare verb leaves nothing.
std::string_view ArgumentOf(std::string_view line, std::string_view verb) {
  return line.size() > verb.size() ? line.substr(verb.size() + 1) : std::string_view();
}

}  // namespace

void Shard::Dispatch(Connection* c, std::string_view line) {
  const size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  if (shutting_down_) {
    ReplyError(c, "shutdown in progress");
    CloseAfterFlush(c);
    return;
  }
  const std::string_view arg = ArgumentOf(line, verb);
  bool known = true;
  if (verb == "PUSH") CmdPush(c, arg);
  else if (verb == "FETCH") CmdFetch(c, line.substr(verb.size()));
  else if (verb == "ACK") CmdAck(c, arg);
  else if (verb == "FAIL") CmdFail(c, arg);
  else if (verb == "BEAT") CmdBeat(c, arg);
  else if (verb == "PUSHB") CmdPushBulk(c, arg);
  else if (verb == "INFO") CmdInfo(c);
  else if (verb == "END") CloseAfterFlush(c);
  else if (verb == "FLUSH") CmdFlush(c);
  else if (verb == "MUTATE") CmdMutate(c, arg);
  else if (verb == "QUEUE") CmdQueue(c, line.substr(verb.size()));
  else if (verb == "BATCH" || verb == "TRACK")
    ReplyError(c, std::string(verb) +
                      " is not supported yet by werk (a Faktory Enterprise feature)");
  else known = false;
  if (known) {
    ++stats_.commands;
  } else {
    ReplyError(c, "unknown command " + PrintableVerb(verb));
  }
}

// --- PUSH / PUSHB ----------------------------------------------------------------------

void Shard::CmdPush(Connection* c, std::string_view arg) {
  core::JobSpec job;
  std::string error;
  if (!decoder_.DecodeOne(arg, &job, &error)) return ReplyError(c, error);
  if (auto why = ValidateJob(job, now_, job_limits_)) return ReplyError(c, *why);
  if (RefuseIfReadOnly(c)) return;
  if (sm_.FindJob(job.jid)) {
    return ReplyError(c, "jid " + job.jid + " is already in use by a live job");
  }
  Commit(core::Mutation::Push(now_, std::move(job)));
  ReplyOk(c);
}

void Shard::CmdPushBulk(Connection* c, std::string_view arg) {
  std::vector<core::JobSpec> jobs;
  std::string error;
  if (!decoder_.DecodeMany(arg, &jobs, &error)) return ReplyError(c, error);
  if (RefuseIfReadOnly(c)) return;
  // jid -> error, sorted by jid as Go's encoding/json sorts map keys.
  std::vector<std::pair<std::string, std::string>> failures;
  const core::UnixNanos created = now_;
  for (auto& job : jobs) {
    if (auto why = ValidateJob(job, created, job_limits_)) {
      failures.emplace_back(job.jid, std::move(*why));
      continue;
    }
    if (sm_.FindJob(job.jid)) {
      failures.emplace_back(job.jid, "jid " + job.jid + " is already in use by a live job");
      continue;
    }
    std::string jid = job.jid;
    Commit(core::Mutation::Push(now_, std::move(job)));
  }
  if (failures.empty()) return ReplyBulk(c, "{}");
  std::stable_sort(failures.begin(), failures.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (size_t i = 0; i < failures.size(); ++i) {
    if (i + 1 < failures.size() && failures[i + 1].first == failures[i].first) continue;
    if (out.size() > 1) out.push_back(',');
    core::AppendJsonString(out, failures[i].first);
    out.push_back(':');
    core::AppendJsonString(out, failures[i].second);
  }
  out.push_back('}');
  ReplyBulk(c, out);
}

// --- FETCH -------------------------------------------------------------------------------

bool Shard::FetcherIsQuiet(const Connection* c) const {
  return c->worker_ && sm_.worker_state(c->wid_) != core::WorkerState::kRunning;
}

void Shard::CmdFetch(Connection* c, std::string_view rest) {
  // `rest` is everything after the verb: " q1 q2". Faktory splits on single
  // spaces, so doubled spaces make empty (never matching) queue names.
  if (FetcherIsQuiet(c)) {
    // A quiet or terminating worker gets nothing, after the usual wait.
    Park(c, {});
    return;
  }
  std::vector<std::string> queues;
  if (!rest.empty()) {
    size_t pos = 1;  // skip the separator after FETCH
    while (true) {
      const size_t sp = rest.find(' ', pos);
      queues.emplace_back(rest.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
      if (sp == std::string_view::npos) break;
      pos = sp + 1;
    }
  }
  if (queues.empty()) return ReplyError(c, "must call fetch with at least one queue");
  if (queues.size() > core::kFetchQueuesMax)
    return ReplyError(c, "FETCH takes at most " + std::to_string(core::kFetchQueuesMax) +
                             " queues");
  // Paused queues are dropped from this request (reference §2.3).
  std::vector<std::string> active;
  for (auto& q : queues) {
    const core::Queue* queue = sm_.FindQueue(q);
    if (queue && queue->paused()) continue;
    if (std::find(active.begin(), active.end(), q) == active.end()) active.push_back(std::move(q));
  }
  c->fetch_queues_ = std::move(active);
  if (TryFetch(c)) return;
  Park(c, c->fetch_queues_);
}

bool Shard::TryFetch(Connection* c) {
  if (journal_->failed()) return false;
  for (const std::string& name : c->fetch_queues_) {
    const core::Queue* q = sm_.FindQueue(name);
    if (!q || q->paused() || q->empty()) continue;
    const core::Job* job = q->Front();
    const int64_t reserve_s = core::EffectiveReserveSeconds(job->reserve_for());
    const std::string jid(job->jid());
    Commit(core::Mutation::Reserve(now_, jid, c->wid_, now_ + core::SecondsToNanos(reserve_s)));
    const core::Job* reserved = sm_.FindJob(jid);
    ReplyBulk(c, core::JobJson(*reserved));
    return true;
  }
  return false;
}

void Shard::Park(Connection* c, const std::vector<std::string>& queues) {
  c->parked_ = true;
  for (const std::string& q : queues) {
    auto node = std::make_unique<WaitNode>();
    node->conn = c;
    node->queue = q;
    waiters_[q].PushBack(node.get());
    c->wait_nodes_.push_back(std::move(node));
  }
  c->deadline_.kind = ConnTimer::Kind::kFetch;
  conn_timers_.Cancel(&c->deadline_);
  conn_timers_.Arm(&c->deadline_, mono_ms_ + core::kFetchBlockMillis);
}

void Shard::Unpark(Connection* c) {
  for (auto& node : c->wait_nodes_) {
    auto it = waiters_.find(node->queue);
    it->second.Remove(node.get());
    if (it->second.empty()) waiters_.erase(it);
  }
  c->wait_nodes_.clear();
  c->parked_ = false;
  conn_timers_.Cancel(&c->deadline_);
}

void Shard::ServeReadyQueues() {
  while (true) {
    ready_scratch_.clear();
    sm_.TakeReadyQueues(ready_scratch_);
    if (ready_scratch_.empty()) return;
    for (const std::string& name : ready_scratch_) {
      while (true) {
        auto it = waiters_.find(name);
        if (it == waiters_.end()) break;
        const core::Queue* q = sm_.FindQueue(name);
        if (!q || q->empty() || q->paused()) break;
        Connection* c = it->second.Front()->conn;
        Unpark(c);
        if (!TryFetch(c)) {
          Park(c, c->fetch_queues_);  // cannot happen while the queue has a job
          break;
        }
        ProcessInput(c);  // pipelined commands behind the FETCH
      }
    }
  }
}

// --- ACK / FAIL ----------------------------------------------------------------------------

void Shard::CmdAck(Connection* c, std::string_view arg) {
  std::string jid;
  if (!DecodeAck(decoder_, arg, &jid)) {
    return ReplyError(c, "invalid ACK " + std::string(arg.substr(0, 1024)));
  }
  const core::Job* job = sm_.FindJob(jid);
  if (!job || job->state != core::JobState::kReserved) {
    // Faktory answers OK for a job it does not hold (reference §2.4).
    spdlog::debug("ACK of a job that is not reserved: {}", jid);
    return ReplyOk(c);
  }
  if (RefuseIfReadOnly(c)) return;
  Commit(core::Mutation::Ack(now_, std::move(jid)));
  ReplyOk(c);
}

void Shard::CmdFail(Connection* c, std::string_view arg) {
  FailArgs fail;
  if (!DecodeFail(decoder_, arg, &fail)) {
    return ReplyError(c, "invalid FAIL " + std::string(arg.substr(0, 1024)));
  }
  if (fail.jid.empty()) return ReplyError(c, "missing JID");
  CleanseFailure(&fail);
  const core::Job* job = sm_.FindJob(fail.jid);
  if (!job || job->state != core::JobState::kReserved) {
    return ReplyError(c, "Job not found " + fail.jid);
  }
  if (RefuseIfReadOnly(c)) return;
  std::uniform_int_distribution<int> jitter(0, 29);
  Commit(core::Mutation::Fail(
      now_, core::DecideFailure(*job, now_, core::FailCause::kFail, std::move(fail.errtype),
                                std::move(fail.message), std::move(fail.backtrace),
                                jitter(rng_))));
  ReplyOk(c);
}

}  // namespace werk::net
