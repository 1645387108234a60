// WERK: werk's own commands for the operator's tools (docs/compatibility.md
// "The WERK extension"; werkctl uses them). Each is a core::JobService
// operation (the Web UI calls the same ones) rendered as a bulk JSON reply:
//
//   WERK JOBS {"target":"retries"|"scheduled"|"dead"|"queue","queue":"q",
//              "limit":25,"cursor":"…","filter":{"jids":[…],"regexp":"*x*","jobtype":"T"}}
//   WERK JOB <jid>
//   WERK WORKERS
//   WERK WORKER {"wid":"…"|"all","state":"quiet"|"terminate"}
//
// Actions on jobs by jid (retry now, delete, kill) are Faktory's MUTATE
// with a jids filter: no WERK command duplicates them.

#include <memory>
#include <string>
#include <vector>

#include <absl/strings/ascii.h>

#include "core/job_json.h"
#include "core/json_writer.h"
#include "core/limits.h"
#include "core/time_format.h"
#include "net/command_decoders.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

namespace {

void AppendTime(std::string& out, std::string_view key, core::UnixNanos t) {
  out.push_back(',');
  core::AppendJsonKey(out, key);
  if (t == 0) {
    out.append("null");
    return;
  }
  out.push_back('"');
  core::AppendRfc3339Nano(out, t);
  out.push_back('"');
}

std::string RenderPage(const WerkJobsArgs& args, const core::JobPage& page) {
  std::string o = "{";
  core::AppendJsonKey(o, "target");
  core::AppendJsonString(o, args.target);
  if (args.target == "queue") {
    o.push_back(',');
    core::AppendJsonKey(o, "queue");
    core::AppendJsonString(o, args.queue);
  }
  o.append(",\"size\":");
  core::AppendJsonInt(o, int64_t(page.total));
  o.append(",\"cursor\":");
  if (page.next) {
    core::AppendJsonString(o, core::FormatCursor(*page.next));
  } else {
    o.append("null");
  }
  o.append(",\"jobs\":[");
  for (size_t i = 0; i < page.rows.size(); ++i) {
    if (i) o.push_back(',');
    // sort_at: the row's time in the listing's order (run at, retry at,
    // dead: purged at; queue: enqueued at).
    o.append("{\"sort_at\":\"");
    core::AppendRfc3339Nano(o, page.rows[i].key.time);
    o.append("\",\"job\":");
    o.append(page.rows[i].json);
    o.push_back('}');
  }
  o.append("]}");
  return o;
}

std::string RenderFound(const std::string& jid, const core::FoundJob& f) {
  std::string o = "{";
  core::AppendJsonKey(o, "jid");
  core::AppendJsonString(o, jid);
  o.push_back(',');
  core::AppendJsonKey(o, "where");
  core::AppendJsonString(o, f.where);
  o.push_back(',');
  core::AppendJsonKey(o, "queue");
  core::AppendJsonString(o, f.queue);
  if (f.set_time) AppendTime(o, f.where == "dead" ? "purge_at" : "run_at", f.set_time);
  if (f.where == "working") {
    o.push_back(',');
    core::AppendJsonKey(o, "wid");
    core::AppendJsonString(o, f.wid);
    AppendTime(o, "reserved_at", f.reserved_at);
    AppendTime(o, "expires_at", f.expires_at);
  }
  if (f.failure) {
    o.append(",\"failure\":");
    core::AppendFailureJson(o, *f.failure);
  }
  o.append(",\"job\":");
  o.append(f.json);
  o.push_back('}');
  return o;
}

std::string RenderWorkers(const std::vector<core::WorkerInfo>& workers, core::UnixNanos now) {
  std::string o = "{\"workers\":[";
  for (size_t i = 0; i < workers.size(); ++i) {
    const core::WorkerInfo& w = workers[i];
    if (i) o.push_back(',');
    o.push_back('{');
    core::AppendJsonKey(o, "wid");
    core::AppendJsonString(o, w.wid);
    o.push_back(',');
    core::AppendJsonKey(o, "hostname");
    core::AppendJsonString(o, w.hostname);
    o.append(",\"pid\":");
    core::AppendJsonInt(o, w.pid);
    o.append(",\"labels\":[");
    for (size_t l = 0; l < w.labels.size(); ++l) {
      if (l) o.push_back(',');
      core::AppendJsonString(o, w.labels[l]);
    }
    o.push_back(']');
    AppendTime(o, "started_at", w.started_at);
    AppendTime(o, "last_beat_at", now - w.beat_age_ms * 1'000'000);
    o.append(",\"state\":\"");
    o.append(core::WorkerStateName(w.state));
    o.append("\",\"connections\":");
    core::AppendJsonInt(o, int64_t(w.connections));
    o.append(",\"rss_kb\":");
    core::AppendJsonInt(o, w.rss_kb);
    o.append(",\"reserved_count\":");
    core::AppendJsonInt(o, int64_t(w.reserved_count));
    o.append(",\"reserved\":[");
    for (size_t r = 0; r < w.reserved.size(); ++r) {
      const core::ReservedJob& j = w.reserved[r];
      if (r) o.push_back(',');
      o.push_back('{');
      core::AppendJsonKey(o, "jid");
      core::AppendJsonString(o, j.jid);
      o.push_back(',');
      core::AppendJsonKey(o, "queue");
      core::AppendJsonString(o, j.queue);
      o.push_back(',');
      core::AppendJsonKey(o, "jobtype");
      core::AppendJsonString(o, j.jobtype);
      AppendTime(o, "reserved_at", j.reserved_at);
      AppendTime(o, "expires_at", j.expires_at);
      o.push_back('}');
    }
    o.append("]}");
  }
  o.append("]}");
  return o;
}

}  // namespace

void Shard::CmdWerk(Connection* c, std::string_view arg) {
  const size_t space = arg.find(' ');
  const std::string sub = absl::AsciiStrToUpper(std::string(arg.substr(0, space)));
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : arg.substr(space + 1);
  if (sub == "JOBS") return WerkJobs(c, rest);
  if (sub == "JOB") {
    if (rest.empty() || rest.find(' ') != std::string_view::npos)
      return ReplyError(c, "WERK JOB needs one jid");
    using Found = core::OpResult<core::FoundJob>;
    std::string jid(rest);
    return AnswerInOrder<Found>(c, service_.FindJob(jid), [this, c, jid](Found f) {
      if (!f.ok()) return ReplyStatus(c, f.status());
      ReplyBulk(c, RenderFound(jid, *f));
    });
  }
  if (sub == "WORKERS") {
    if (!rest.empty()) return ReplyError(c, "WERK WORKERS takes no argument");
    using Workers = core::OpResult<std::vector<core::WorkerInfo>>;
    return AnswerInOrder<Workers>(c, service_.ListWorkers(), [this, c](Workers w) {
      if (!w.ok()) return ReplyStatus(c, w.status());
      ReplyBulk(c, RenderWorkers(*w, now()));
    });
  }
  if (sub == "WORKER") {
    WerkWorkerArgs args;
    if (rest.empty()) return ReplyError(c, "WERK WORKER needs {\"wid\":…,\"state\":…}");
    if (core::OpStatus s = DecodeWerkWorker(decoder_, rest, &args); !s.ok())
      return ReplyStatus(c, s);
    core::WorkerState state;
    if (args.state == "quiet") state = core::WorkerState::kQuiet;
    else if (args.state == "terminate") state = core::WorkerState::kTerminate;
    else return ReplyError(c, "state must be quiet or terminate");
    if (args.wid.empty()) return ReplyError(c, "WERK WORKER needs a wid, or \"all\"");
    using Moved = core::OpResult<size_t>;
    return AnswerInOrder<Moved>(c, service_.SetWorkerState(args.wid, state), [this, c](Moved m) {
      if (!m.ok()) return ReplyStatus(c, m.status());
      ReplyBulk(c, "{\"moved\":" + std::to_string(*m) + "}");
    });
  }
  if (sub.empty()) return ReplyError(c, "WERK needs a subcommand: JOBS, JOB, WORKERS or WORKER");
  std::string shown = sub.substr(0, 64);
  for (char& ch : shown)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  ReplyError(c, "no such WERK subcommand: " + shown + " (JOBS, JOB, WORKERS or WORKER)");
}

void Shard::WerkJobs(Connection* c, std::string_view json) {
  auto args = std::make_shared<WerkJobsArgs>();
  if (json.empty()) return ReplyError(c, "WERK JOBS needs {\"target\":…}");
  if (core::OpStatus s = DecodeWerkJobs(decoder_, json, args.get()); !s.ok())
    return ReplyStatus(c, s);
  core::ListRequest req;
  if (args->target == "retries") req.target = core::ListTarget::kRetries;
  else if (args->target == "scheduled") req.target = core::ListTarget::kScheduled;
  else if (args->target == "dead") req.target = core::ListTarget::kDead;
  else if (args->target == "queue") req.target = core::ListTarget::kQueue;
  else return ReplyError(c, "target must be retries, scheduled, dead or queue");
  req.queue = args->queue;
  if (args->limit < 0 || args->limit > int64_t(core::kListLimitMax))
    return ReplyError(c, "limit must be between 1 and " + std::to_string(core::kListLimitMax));
  if (args->limit > 0) req.limit = size_t(args->limit);
  if (!args->cursor.empty()) {
    core::OpResult<core::ListKey> after = core::ParseCursor(args->cursor);
    if (!after.ok()) return ReplyStatus(c, after.status());
    req.after = *after;
  }
  req.filter = args->filter;
  if (req.filter && req.filter->regexp.size() > core::kMutateGlobBytesMax) {
    return ReplyError(c, "regexp is longer than " + std::to_string(core::kMutateGlobBytesMax) +
                             " bytes");
  }
  using Page = core::OpResult<core::JobPage>;
  AnswerInOrder<Page>(c, service_.ListJobs(std::move(req)), [this, c, args](Page p) {
    if (!p.ok()) return ReplyStatus(c, p.status());
    ReplyBulk(c, RenderPage(*args, *p));
  });
}

}  // namespace werk::net
