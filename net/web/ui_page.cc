#include "net/web/ui_page.h"

#include <httplib.h>

#include "net/version.h"
#include "net/web/csrf.h"
#include "net/web/html.h"

namespace werk::net::web {
namespace {

struct Tab {
  const char* id;
  const char* label;
  const char* path;
};
constexpr Tab kTabs[] = {
    {"dashboard", "Dashboard", "/"},   {"busy", "Busy", "/busy"},
    {"queues", "Queues", "/queues"},   {"retries", "Retries", "/retries"},
    {"scheduled", "Scheduled", "/scheduled"}, {"dead", "Dead", "/morgue"},
    {"cron", "Cron", "/cron"},         {"cluster", "Cluster", "/cluster"},
    {"storage", "Storage", "/storage"},
};

// A prefix a proxy sends: a path of safe characters only, no trailing '/'.
std::string ScriptName(const httplib::Request& req) {
  std::string p = req.get_header_value("X-Script-Name");
  if (p.empty() || p[0] != '/' || p.size() > 200) return {};
  for (const char c : p)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '/' || c == '-' || c == '_' || c == '.'))
      return {};
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

void SummaryItem(std::string& o, const char* label, uint64_t value, const char* id) {
  o.append("<li><span class=\"figure\" id=\"sum-").append(id).append("\">");
  o.append(Count(value)).append("</span><span class=\"label\">").append(label);
  o.append("</span></li>");
}

}  // namespace

Totals SumShards(const std::vector<ShardSummary>& shards) {
  Totals t;
  for (const ShardSummary& s : shards) {
    t.processed += uint64_t(s.total_processed);
    t.failed += uint64_t(s.total_failures);
    t.busy += s.working;
    for (const QueueSummary& q : s.queues) t.enqueued += q.size;
    t.retries += s.retries;
    t.scheduled += s.scheduled;
    t.dead += s.dead;
    t.connections += s.connections;
    t.commands += s.commands;
    t.workers += s.workers;
    t.pushed += s.jobs_pushed;
  }
  return t;
}

PageContext BeginPage(const httplib::Request& req, httplib::Response& res, WebBackend& backend) {
  PageContext ctx;
  ctx.prefix = ScriptName(req);
  ctx.csrf = CsrfToken(req, res);
  ctx.shards = backend.Summaries();
  ctx.totals = SumShards(ctx.shards);
  ctx.now = backend.Now();
  return ctx;
}

std::string CsrfInput(const PageContext& ctx) {
  return "<input type=\"hidden\" name=\"" + std::string(kCsrfField) + "\" value=\"" +
         Escaped(ctx.csrf) + "\">";
}

std::string Href(const PageContext& ctx, std::string_view path) {
  return Escaped(ctx.prefix + std::string(path));
}

void SendPage(httplib::Response& res, const PageContext& ctx, std::string_view title,
              std::string_view tab, const std::string& body) {
  const Totals& t = ctx.totals;
  std::string o;
  o.reserve(body.size() + 4096);
  o.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
  o.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
  o.append("<title>werk \xC2\xB7 ");
  AppendEscaped(o, title);
  o.append("</title><link rel=\"icon\" href=\"").append(Href(ctx, "/static/werk.svg"));
  o.append("\"><link rel=\"stylesheet\" href=\"").append(Href(ctx, "/static/werk.css"));
  o.append("\"><script src=\"").append(Href(ctx, "/static/werk.js")).append("\" defer></script>");
  o.append("</head><body data-prefix=\"").append(Escaped(ctx.prefix)).append("\">");
  o.append("<header><a class=\"brand\" href=\"").append(Href(ctx, "/")).append("\">werk</a><nav>");
  for (const Tab& tb : kTabs) {
    o.append("<a href=\"").append(Href(ctx, tb.path)).append("\"");
    if (tab == tb.id) o.append(" class=\"active\" aria-current=\"page\"");
    o.append(">").append(tb.label).append("</a>");
  }
  o.append("</nav><span class=\"status ").append(t.busy > 0 ? "active" : "idle");
  o.append("\" title=\"").append(t.busy > 0 ? "active: jobs are being worked" : "idle");
  o.append("\">").append(t.busy > 0 ? "active" : "idle").append("</span></header>");
  o.append("<ul class=\"summary\">");
  SummaryItem(o, "Processed", t.processed, "processed");
  SummaryItem(o, "Failed", t.failed, "failed");
  SummaryItem(o, "Busy", t.busy, "busy");
  SummaryItem(o, "Enqueued", t.enqueued, "enqueued");
  SummaryItem(o, "Retries", t.retries, "retries");
  SummaryItem(o, "Scheduled", t.scheduled, "scheduled");
  SummaryItem(o, "Dead", t.dead, "dead");
  o.append("</ul><main>");
  o.append(body);
  o.append("</main><footer>werk ").append(kWerkVersion);
  o.append(" \xC2\xB7 Faktory protocol ").append(kFaktoryProtocolVersion);
  o.append(" \xC2\xB7 ").append(UtcTime(ctx.now)).append("</footer></body></html>\n");
  res.set_content(std::move(o), "text/html; charset=utf-8");
}

void RedirectAfterAction(httplib::Response& res, const httplib::Request& req,
                         std::string_view path) {
  const std::string prefix = ScriptName(req);
  res.status = 303;
  res.set_header("Location", prefix + std::string(path));
}

void SendActionError(httplib::Response& res, const PageContext& ctx, int status,
                     std::string_view what) {
  std::string body = "<h1>Not done</h1><p class=\"error\">";
  AppendEscaped(body, what);
  body.append("</p>");
  SendPage(res, ctx, "Not done", "", body);
  res.status = status;
}

}  // namespace werk::net::web
