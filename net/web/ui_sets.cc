// Retries, Scheduled and Dead: a page of the set at a time (by cursor,
// core/job_listing.h), filtered by a glob over the job or by jobtype; Retry
// now, Delete, Kill of the jobs selected, and Retry All / Delete All. And a
// queue's jobs, a page at a time.

#include <httplib.h>

#include <string_view>

#include "core/job_listing.h"
#include "core/mutation.h"
#include "net/web/csrf.h"
#include "net/web/html.h"
#include "net/web/job_view.h"
#include "net/web/shard_call.h"
#include "net/web/ui.h"
#include "net/web/ui_jobs.h"
#include "net/web/ui_page.h"

namespace werk::net::web {
namespace {

struct SetPage {
  const char* tab;
  const char* path;
  const char* title;
  core::ListTarget target;
  core::SetTarget set;
  const char* time_label;
  bool can_kill;
};

constexpr SetPage kSetPages[] = {
    {"retries", "/retries", "Retries", core::ListTarget::kRetries, core::SetTarget::kRetries,
     "next retry", true},
    {"scheduled", "/scheduled", "Scheduled", core::ListTarget::kScheduled,
     core::SetTarget::kScheduled, "runs at", true},
    {"dead", "/morgue", "Dead", core::ListTarget::kDead, core::SetTarget::kDead, "died", false},
};

void Button(std::string& o, const char* action, const char* label, const char* confirm = nullptr,
            bool danger = false) {
  o.append("<button type=\"submit\" name=\"action\" value=\"").append(action).append("\"");
  if (danger) o.append(" class=\"danger\"");
  if (confirm) o.append(" data-confirm=\"").append(confirm).append("\"");
  o.append(">").append(label).append("</button> ");
}

void RenderSet(const SetPage& sp, WebBackend& backend, const httplib::Request& req,
               httplib::Response& res) {
  PageContext ctx = BeginPage(req, res, backend);
  ListQuery q = ReadListQuery(req);
  std::string o = "<h1>";
  o.append(sp.title).append("</h1>");
  AppendFilterForm(o, ctx, sp.path, q);
  core::ListRequest lr = q.request;
  lr.target = sp.target;
  core::OpResult<core::JobPage> page = absl::UnavailableError("");
  const absl::Status st = q.error.ok()
      ? CallShard<core::OpResult<core::JobPage>>(
            backend, 0, [lr](core::JobService& s) { return s.ListJobs(lr); }, &page)
      : q.error;
  if (st.ok() && !page.ok()) {
    o.append("<p class=\"error\">");
    AppendEscaped(o, std::string(page.status().message()));
    o.append("</p>");
    return SendPage(res, ctx, sp.title, sp.tab, o);
  }
  if (!st.ok()) {
    o.append("<p class=\"error\">");
    AppendEscaped(o, std::string(st.message()));
    o.append("</p>");
    return SendPage(res, ctx, sp.title, sp.tab, o);
  }
  o.append("<form method=\"post\" action=\"").append(Href(ctx, sp.path)).append("\">");
  o.append(CsrfInput(ctx)).append("<div class=\"toolbar\"><span class=\"muted\">");
  o.append(Count(page->total)).append(" in all</span>");
  Button(o, "retry", "Retry now");
  Button(o, "delete", "Delete", "Delete the selected jobs?", true);
  if (sp.can_kill) Button(o, "kill", "Kill", "Move the selected jobs to Dead?", true);
  Button(o, "retry_all", "Retry All", "Enqueue every job of this set now?");
  Button(o, "delete_all", "Delete All", "Delete every job of this set? This cannot be undone.",
         true);
  o.append("</div><table class=\"jobs\" id=\"").append(sp.tab).append("\"><thead><tr>");
  o.append("<th><input type=\"checkbox\" data-select-all aria-label=\"select all\"></th><th>");
  o.append(sp.time_label).append("</th><th>queue</th><th>job</th><th>args</th>");
  if (sp.set != core::SetTarget::kScheduled) o.append("<th>error</th><th class=\"num\">retries</th>");
  o.append("</tr></thead><tbody>");
  if (page->rows.empty())
    o.append("<tr><td colspan=\"7\" class=\"muted\">no jobs on this page</td></tr>");
  for (const core::ListedJob& row : page->rows) {
    const JobView j = ReadJobView(row.json);
    o.append("<tr data-jid=\"");
    AppendEscaped(o, j.jid);
    o.append("\"><td><input type=\"checkbox\" name=\"key\" value=\"");
    AppendEscaped(o, j.jid);
    o.append("\" aria-label=\"select\"></td><td>").append(UtcTime(row.key.time));
    o.append("</td><td class=\"mono\">");
    AppendEscaped(o, j.queue);
    o.append("</td><td><a href=\"").append(Href(ctx, "/jobs/" + UrlEncoded(j.jid))).append("\">");
    AppendEscaped(o, j.jobtype);
    o.append("</a></td><td class=\"args mono\">");
    AppendArgs(o, j);
    o.append("</td>");
    if (sp.set != core::SetTarget::kScheduled) {
      o.append("<td>");
      AppendEscaped(o, ShortArg(j.errtype.empty() ? j.message : j.errtype + ": " + j.message));
      o.append("</td><td class=\"num\">").append(std::to_string(j.retry_count)).append("</td>");
    }
    o.append("</tr>");
  }
  o.append("</tbody></table></form>");
  AppendPager(o, ctx, sp.path, q, page->next);
  SendPage(res, ctx, sp.title, sp.tab, o);
}

void ActOnSet(const SetPage& sp, WebBackend& backend, const httplib::Request& req,
              httplib::Response& res) {
  std::string why;
  if (!CsrfAccepts(req, &why)) return SendActionError(res, BeginPage(req, res, backend), 403, why);
  const std::string action = req.get_param_value("action");
  core::MutateSetRecord rec;
  rec.target = sp.set;
  bool all = false;
  if (action == "retry" || action == "retry_all") rec.cmd = core::MutateCmd::kRequeue;
  else if (action == "delete" || action == "delete_all") rec.cmd = core::MutateCmd::kDiscard;
  else if (action == "kill" && sp.can_kill) rec.cmd = core::MutateCmd::kKill;
  else return SendActionError(res, BeginPage(req, res, backend), 400, "unknown action '" + action + "'");
  all = action.size() > 4 && action.substr(action.size() - 4) == "_all";
  if (!all) {
    core::MutateFilter filter;
    const size_t n = req.get_param_value_count("key");
    for (size_t i = 0; i < n && i < core::kListLimitMax; ++i)
      filter.jids.push_back(req.get_param_value("key", i));
    // An empty jid list would be no filter at all: the whole set.
    if (filter.jids.empty())
      return SendActionError(res, BeginPage(req, res, backend), 400, "no job selected");
    rec.filter = std::move(filter);
  }
  core::OpStatus done;
  absl::Status st = CallShard<core::OpStatus>(
      backend, 0, [rec](core::JobService& s) { return s.Mutate(rec); }, &done);
  if (st.ok()) st = done;
  if (!st.ok())
    return SendActionError(res, BeginPage(req, res, backend), 503,
                           action + ": " + std::string(st.message()));
  RedirectAfterAction(res, req, sp.path);
}

}  // namespace

void RouteSets(httplib::Server& http, WebBackend* backend) {
  for (const SetPage& sp : kSetPages) {
    http.Get(sp.path, [backend, &sp](const httplib::Request& req, httplib::Response& res) {
      RenderSet(sp, *backend, req, res);
    });
    http.Post(sp.path, [backend, &sp](const httplib::Request& req, httplib::Response& res) {
      ActOnSet(sp, *backend, req, res);
    });
  }
}

}  // namespace werk::net::web
