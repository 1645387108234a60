// Busy: the worker processes (wid, host and pid, labels, state, when it
// started, its last BEAT, connections, memory, jobs in progress) with
// Quiet and Stop per process and for all; and the jobs they hold.

#include <httplib.h>

#include "core/job_admin.h"
#include "net/web/csrf.h"
#include "net/web/html.h"
#include "net/web/shard_call.h"
#include "net/web/ui.h"
#include "net/web/ui_page.h"

namespace werk::net::web {
namespace {

void StateButtons(std::string& o, const PageContext& ctx, const std::string& wid,
                  core::WorkerState state) {
  o.append("<form class=\"inline\" method=\"post\" action=\"").append(Href(ctx, "/busy"));
  o.append("\">").append(CsrfInput(ctx)).append("<input type=\"hidden\" name=\"wid\" value=\"");
  AppendEscaped(o, wid);
  o.append("\">");
  if (state == core::WorkerState::kRunning)
    o.append("<button type=\"submit\" name=\"action\" value=\"quiet\">Quiet</button> ");
  if (state != core::WorkerState::kTerminate)
    o.append("<button type=\"submit\" name=\"action\" value=\"stop\" class=\"danger\" "
             "data-confirm=\"Stop this process? Its jobs in progress are failed or finished, "
             "then it exits.\">Stop</button>");
  o.append("</form>");
}

void RenderBusy(WebBackend& backend, const httplib::Request& req, httplib::Response& res) {
  PageContext ctx = BeginPage(req, res, backend);
  core::OpResult<std::vector<core::WorkerInfo>> workers = absl::UnavailableError("");
  absl::Status st = CallShard<core::OpResult<std::vector<core::WorkerInfo>>>(
      backend, 0, [](core::JobService& s) { return s.ListWorkers(); }, &workers);
  if (st.ok() && !workers.ok()) st = workers.status();
  std::string o = "<h1>Busy</h1>";
  if (!st.ok()) {
    o.append("<p class=\"error\">");
    AppendEscaped(o, std::string(st.message()));
    o.append("</p>");
    return SendPage(res, ctx, "Busy", "busy", o);
  }
  o.append("<div class=\"toolbar\"><span class=\"muted\">").append(Count(workers->size()));
  o.append(" processes</span>");
  o.append("<form class=\"inline\" method=\"post\" action=\"").append(Href(ctx, "/busy"));
  o.append("\">").append(CsrfInput(ctx)).append("<input type=\"hidden\" name=\"wid\" value=\"all\">");
  o.append("<button type=\"submit\" name=\"action\" value=\"quiet\">Quiet All</button> ");
  o.append("<button type=\"submit\" name=\"action\" value=\"stop\" class=\"danger\" "
           "data-confirm=\"Stop every worker process?\">Stop All</button></form></div>");
  o.append("<table id=\"processes\"><thead><tr><th>process</th><th>host:pid</th><th>labels</th>");
  o.append("<th>state</th><th>started</th><th class=\"num\">last beat</th>");
  o.append("<th class=\"num\">connections</th><th class=\"num\">memory</th>");
  o.append("<th class=\"num\">busy</th><th>actions</th></tr></thead><tbody>");
  if (workers->empty()) o.append("<tr><td colspan=\"10\" class=\"muted\">no worker processes</td></tr>");
  for (const core::WorkerInfo& w : *workers) {
    o.append("<tr data-wid=\"");
    AppendEscaped(o, w.wid);
    o.append("\"><td class=\"mono\">");
    AppendEscaped(o, w.wid);
    o.append("</td><td>");
    AppendEscaped(o, w.hostname + ":" + std::to_string(w.pid));
    o.append("</td><td>");
    for (const std::string& label : w.labels) {
      o.append("<span class=\"badge\">");
      AppendEscaped(o, label);
      o.append("</span> ");
    }
    const char* state = core::WorkerStateName(w.state);
    o.append("</td><td><span class=\"badge ").append(state).append("\">").append(state);
    o.append("</span></td><td>").append(UtcTime(w.started_at)).append("</td><td class=\"num\">");
    o.append(Duration(w.beat_age_ms / 1000)).append(" ago</td><td class=\"num\">");
    o.append(Count(w.connections)).append("</td><td class=\"num\">");
    o.append(w.rss_kb > 0 ? Count(uint64_t(w.rss_kb) / 1024) + " MB" : "\xE2\x80\x94");
    o.append("</td><td class=\"num\">").append(Count(w.reserved_count)).append("</td><td>");
    StateButtons(o, ctx, w.wid, w.state);
    o.append("</td></tr>");
  }
  o.append("</tbody></table><h2>Jobs in progress</h2><table id=\"in-progress\"><thead><tr>");
  o.append("<th>process</th><th>jid</th><th>queue</th><th>job</th><th>reserved at</th>");
  o.append("<th>reservation expires</th></tr></thead><tbody>");
  size_t listed = 0;
  for (const core::WorkerInfo& w : *workers) {
    for (const core::ReservedJob& r : w.reserved) {
      ++listed;
      o.append("<tr><td class=\"mono\">");
      AppendEscaped(o, w.wid);
      o.append("</td><td class=\"mono\"><a href=\"").append(Href(ctx, "/jobs/" + UrlEncoded(r.jid)));
      o.append("\">");
      AppendEscaped(o, r.jid);
      o.append("</a></td><td class=\"mono\">");
      AppendEscaped(o, r.queue);
      o.append("</td><td>");
      AppendEscaped(o, r.jobtype);
      o.append("</td><td>").append(UtcTime(r.reserved_at)).append("</td><td>");
      o.append(UtcTime(r.expires_at)).append("</td></tr>");
    }
  }
  if (listed == 0) o.append("<tr><td colspan=\"6\" class=\"muted\">no job in progress</td></tr>");
  o.append("</tbody></table>");
  SendPage(res, ctx, "Busy", "busy", o);
}

void ActOnWorker(WebBackend& backend, const httplib::Request& req, httplib::Response& res) {
  std::string why;
  if (!CsrfAccepts(req, &why)) return SendActionError(res, BeginPage(req, res, backend), 403, why);
  const std::string wid = req.get_param_value("wid");
  const std::string action = req.get_param_value("action");
  core::WorkerState state;
  if (action == "quiet") state = core::WorkerState::kQuiet;
  else if (action == "stop") state = core::WorkerState::kTerminate;
  else return SendActionError(res, BeginPage(req, res, backend), 400, "unknown action '" + action + "'");
  if (wid.empty()) return SendActionError(res, BeginPage(req, res, backend), 400, "no process named");
  core::OpResult<size_t> moved = absl::UnavailableError("");
  absl::Status st = CallShard<core::OpResult<size_t>>(
      backend, 0, [wid, state](core::JobService& s) { return s.SetWorkerState(wid, state); },
      &moved);
  if (st.ok() && !moved.ok()) st = moved.status();
  if (!st.ok())
    return SendActionError(res, BeginPage(req, res, backend), 503,
                           action + " " + wid + ": " + std::string(st.message()));
  RedirectAfterAction(res, req, "/busy");
}

}  // namespace

void RouteBusy(httplib::Server& http, WebBackend* backend) {
  http.Get("/busy", [backend](const httplib::Request& req, httplib::Response& res) {
    RenderBusy(*backend, req, res);
  });
  http.Post("/busy", [backend](const httplib::Request& req, httplib::Response& res) {
    ActOnWorker(*backend, req, res);
  });
}

}  // namespace werk::net::web
