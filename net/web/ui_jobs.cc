// The pages listing jobs share their query and pager (ui_jobs.h); a queue's
// jobs (/queues/NAME) and one job in full (/jobs/JID).

#include "net/web/ui_jobs.h"

#include <httplib.h>

#include <charconv>

#include "core/job_admin.h"
#include "net/web/csrf.h"
#include "net/web/html.h"
#include "net/web/shard_call.h"
#include "net/web/ui.h"

namespace werk::net::web {

ListQuery ReadListQuery(const httplib::Request& req) {
  ListQuery q;
  q.cursor = req.get_param_value("cursor");
  q.pattern = req.get_param_value("filter");
  q.jobtype = req.get_param_value("jobtype");
  if (!q.cursor.empty()) {
    core::OpResult<core::ListKey> after = core::ParseCursor(q.cursor);
    if (!after.ok()) q.error = absl::InvalidArgumentError("bad cursor: " + std::string(after.status().message()));
    else q.request.after = *after;
  }
  const std::string limit = req.get_param_value("limit");
  if (!limit.empty()) {
    size_t n = 0;
    const auto r = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (r.ec != std::errc() || r.ptr != limit.data() + limit.size() || n == 0 ||
        n > core::kListLimitMax)
      q.error = absl::InvalidArgumentError("limit must be 1 to " + std::to_string(core::kListLimitMax));
    else q.request.limit = n;
  }
  if (!q.pattern.empty() || !q.jobtype.empty()) {
    core::MutateFilter f;
    f.regexp = q.pattern;
    f.jobtype = q.jobtype;
    q.request.filter = std::move(f);
  }
  return q;
}

namespace {

std::string QueryString(const ListQuery& q, const std::string& cursor) {
  std::string s;
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    s.append(s.empty() ? "?" : "&").append(k).append("=").append(UrlEncoded(v));
  };
  add("filter", q.pattern);
  add("jobtype", q.jobtype);
  if (q.request.limit != core::kListLimitDefault) add("limit", std::to_string(q.request.limit));
  add("cursor", cursor);
  return s;
}

}  // namespace

void AppendFilterForm(std::string& o, const PageContext& ctx, const char* path,
                      const ListQuery& q) {
  o.append("<form class=\"toolbar\" method=\"get\" action=\"").append(Href(ctx, path));
  o.append("\"><input type=\"search\" name=\"filter\" placeholder=\"pattern, e.g. *mail*\" value=\"");
  AppendEscaped(o, q.pattern);
  o.append("\"><input type=\"text\" name=\"jobtype\" placeholder=\"jobtype\" value=\"");
  AppendEscaped(o, q.jobtype);
  o.append("\"><button type=\"submit\">Filter</button>");
  if (!q.pattern.empty() || !q.jobtype.empty())
    o.append("<a class=\"button\" href=\"").append(Href(ctx, path)).append("\">Clear filter</a>");
  o.append("</form>");
}

void AppendPager(std::string& o, const PageContext& ctx, const std::string& path,
                 const ListQuery& q, const std::optional<core::ListKey>& next) {
  o.append("<div class=\"pager\">");
  if (!q.cursor.empty())
    o.append("<a class=\"button\" href=\"").append(Href(ctx, path + QueryString(q, ""))).append("\">First page</a>");
  if (next)
    o.append("<a class=\"button\" id=\"next-page\" href=\"")
        .append(Href(ctx, path + QueryString(q, core::FormatCursor(*next))))
        .append("\">Next page</a>");
  o.append("</div>");
}

void AppendArgs(std::string& o, const JobView& j) {
  for (size_t i = 0; i < j.args.size(); ++i) {
    if (i > 0) o.append(", ");
    AppendEscaped(o, ShortArg(j.args[i]));
  }
}

namespace {

void Row(std::string& o, const char* label, const std::string& value, bool mono = false) {
  o.append("<tr><th>").append(label).append(mono ? "</th><td class=\"mono\">" : "</th><td>");
  AppendEscaped(o, value);
  o.append("</td></tr>");
}

void RenderJob(WebBackend& backend, const httplib::Request& req, httplib::Response& res) {
  PageContext ctx = BeginPage(req, res, backend);
  const std::string jid = req.matches[1];
  core::OpResult<core::FoundJob> found = absl::UnavailableError("");
  absl::Status st = CallShard<core::OpResult<core::FoundJob>>(
      backend, 0, [jid](core::JobService& s) { return s.FindJob(jid); }, &found);
  if (st.ok() && !found.ok()) st = found.status();
  std::string o = "<h1>Job <span class=\"mono\">";
  AppendEscaped(o, jid);
  o.append("</span></h1>");
  if (!st.ok()) {
    res.status = absl::IsNotFound(st) ? 404 : 503;
    o.append("<p class=\"error\">");
    AppendEscaped(o, std::string(st.message()));
    o.append("</p>");
    SendPage(res, ctx, "Job", "", o);
    return;
  }
  const JobView j = ReadJobView(found->json);
  o.append("<table class=\"detail\" id=\"job\"><tbody>");
  Row(o, "where", found->where);
  Row(o, "queue", j.queue, true);
  Row(o, "jobtype", j.jobtype, true);
  Row(o, "args", j.args_json, true);
  Row(o, "created at", j.created_at);
  if (!j.enqueued_at.empty()) Row(o, "enqueued at", j.enqueued_at);
  if (found->set_time != 0)
    Row(o, found->where == "dead" ? "purged at" : "runs at", UtcTime(found->set_time));
  if (found->where == "working") {
    Row(o, "worker", found->wid, true);
    Row(o, "reserved at", UtcTime(found->reserved_at));
    Row(o, "reservation expires", UtcTime(found->expires_at));
  }
  if (j.has_retry) Row(o, "retry", std::to_string(j.retry));
  if (!j.custom_json.empty()) Row(o, "custom", j.custom_json, true);
  o.append("</tbody></table>");
  if (j.failed) {
    o.append("<h2>Failure</h2><table class=\"detail\" id=\"failure\"><tbody>");
    Row(o, "error", j.errtype);
    Row(o, "message", j.message);
    Row(o, "retry count", std::to_string(j.retry_count));
    Row(o, "failed at", j.failed_at);
    if (!j.next_at.empty()) Row(o, "next retry", j.next_at);
    o.append("</tbody></table><h2>Backtrace</h2><pre id=\"backtrace\">");
    for (const std::string& line : j.backtrace) {
      AppendEscaped(o, line);
      o.push_back('\n');
    }
    o.append("</pre>");
  }
  const char* set_path = found->where == "retries"     ? "/retries"
                         : found->where == "scheduled" ? "/scheduled"
                         : found->where == "dead"      ? "/morgue"
                                                       : nullptr;
  if (set_path) {
    o.append("<form class=\"toolbar\" method=\"post\" action=\"").append(Href(ctx, set_path));
    o.append("\">").append(CsrfInput(ctx)).append("<input type=\"hidden\" name=\"key\" value=\"");
    AppendEscaped(o, jid);
    o.append("\"><button type=\"submit\" name=\"action\" value=\"retry\">Retry now</button>");
    o.append("<button type=\"submit\" name=\"action\" value=\"delete\" class=\"danger\" "
             "data-confirm=\"Delete this job?\">Delete</button>");
    if (found->where != "dead")
      o.append("<button type=\"submit\" name=\"action\" value=\"kill\" class=\"danger\" "
               "data-confirm=\"Move this job to Dead?\">Kill</button>");
    o.append("</form>");
  }
  SendPage(res, ctx, "Job " + jid, "", o);
}

void RenderQueueJobs(WebBackend& backend, const httplib::Request& req, httplib::Response& res) {
  PageContext ctx = BeginPage(req, res, backend);
  const std::string queue = req.matches[1];
  const std::string path = "/queues/" + UrlEncoded(queue);
  ListQuery q = ReadListQuery(req);
  q.request.target = core::ListTarget::kQueue;
  q.request.queue = queue;
  std::string o = "<h1>Queue <span class=\"mono\">";
  AppendEscaped(o, queue);
  o.append("</span></h1>");
  AppendFilterForm(o, ctx, path.c_str(), q);
  core::OpResult<core::JobPage> page = absl::UnavailableError("");
  const core::ListRequest lr = q.request;
  absl::Status st = q.error.ok()
      ? CallShard<core::OpResult<core::JobPage>>(
            backend, 0, [lr](core::JobService& s) { return s.ListJobs(lr); }, &page)
      : q.error;
  if (st.ok() && !page.ok()) st = page.status();
  if (!st.ok()) {
    o.append("<p class=\"error\">");
    AppendEscaped(o, std::string(st.message()));
    o.append("</p>");
    return SendPage(res, ctx, "Queue", "queues", o);
  }
  o.append("<p class=\"muted\">").append(Count(page->total)).append(" jobs, in the order FETCH "
                                                                    "takes them</p>");
  o.append("<table class=\"jobs\" id=\"queue-jobs\"><thead><tr><th>enqueued</th><th>jid</th>");
  o.append("<th>job</th><th>args</th></tr></thead><tbody>");
  if (page->rows.empty()) o.append("<tr><td colspan=\"4\" class=\"muted\">no jobs on this page</td></tr>");
  for (const core::ListedJob& row : page->rows) {
    const JobView j = ReadJobView(row.json);
    o.append("<tr><td>").append(UtcTime(row.key.time)).append("</td><td class=\"mono\"><a href=\"");
    o.append(Href(ctx, "/jobs/" + UrlEncoded(j.jid))).append("\">");
    AppendEscaped(o, j.jid);
    o.append("</a></td><td>");
    AppendEscaped(o, j.jobtype);
    o.append("</td><td class=\"args mono\">");
    AppendArgs(o, j);
    o.append("</td></tr>");
  }
  o.append("</tbody></table>");
  AppendPager(o, ctx, path, q, page->next);
  SendPage(res, ctx, "Queue", "queues", o);
}

}  // namespace

void RouteJobs(httplib::Server& http, WebBackend* backend) {
  http.Get(R"(/jobs/(.+))", [backend](const httplib::Request& req, httplib::Response& res) {
    RenderJob(*backend, req, res);
  });
  http.Get(R"(/queues/(.+))", [backend](const httplib::Request& req, httplib::Response& res) {
    RenderQueueJobs(*backend, req, res);
  });
}

}  // namespace werk::net::web
