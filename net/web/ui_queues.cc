// Queues: every queue with its size, latency and paused state; Pause,
// Resume and Clear (Faktory's: the queue and its jobs removed).

#include <httplib.h>

#include <string_view>

#include "core/mutation.h"
#include "net/web/csrf.h"
#include "net/web/html.h"
#include "net/web/shard_call.h"
#include "net/web/ui.h"
#include "net/web/ui_page.h"

namespace werk::net::web {
namespace {

void ActionButton(std::string& o, const PageContext& ctx, const std::string& queue,
                  const char* action, const char* label, const char* confirm) {
  o.append("<form class=\"inline\" method=\"post\" action=\"").append(Href(ctx, "/queues"));
  o.append("\"");
  if (confirm) o.append(" data-confirm=\"").append(confirm).append("\"");
  o.append(">").append(CsrfInput(ctx));
  o.append("<input type=\"hidden\" name=\"queue\" value=\"");
  AppendEscaped(o, queue);
  o.append("\"><input type=\"hidden\" name=\"action\" value=\"").append(action).append("\">");
  o.append("<button type=\"submit\"").append(confirm ? " class=\"danger\"" : "").append(">");
  o.append(label).append("</button></form> ");
}

}  // namespace

void RouteQueues(httplib::Server& http, WebBackend* backend) {
  http.Get("/queues", [backend](const httplib::Request& req, httplib::Response& res) {
    PageContext ctx = BeginPage(req, res, *backend);
    const std::vector<QueueSummary> rows = MergedQueues(ctx.shards);
    std::string o = "<h1>Queues</h1><table id=\"queues\"><thead><tr><th>queue</th>";
    o.append("<th class=\"num\">size</th><th class=\"num\">latency</th><th>state</th>");
    o.append("<th>actions</th></tr></thead><tbody>");
    if (rows.empty()) o.append("<tr><td colspan=\"5\" class=\"muted\">no queues</td></tr>");
    for (const QueueSummary& r : rows) {
      const std::string& name = r.name;
      o.append("<tr data-queue=\"");
      AppendEscaped(o, name);
      o.append("\"><td class=\"mono\"><a href=\"").append(Href(ctx, "/queues/" + UrlEncoded(name)));
      o.append("\">");
      AppendEscaped(o, name);
      o.append("</a></td><td class=\"num\">").append(Count(r.size)).append("</td><td class=\"num\">");
      o.append(r.oldest_enqueued_at == 0 || ctx.now < r.oldest_enqueued_at
                   ? "0s"
                   : Duration((ctx.now - r.oldest_enqueued_at) / core::kNanosPerSecond));
      o.append("</td><td>").append(r.paused ? "<span class=\"badge paused\">paused</span>"
                                            : "<span class=\"badge ok\">active</span>");
      o.append("</td><td>");
      if (r.paused)
        ActionButton(o, ctx, name, "resume", "Resume", nullptr);
      else
        ActionButton(o, ctx, name, "pause", "Pause", nullptr);
      ActionButton(o, ctx, name, "clear", "Clear",
                   "Delete this queue and every job in it? This cannot be undone.");
      o.append("</td></tr>");
    }
    o.append("</tbody></table>");
    SendPage(res, ctx, "Queues", "queues", o);
  });

  http.Post("/queues", [backend](const httplib::Request& req, httplib::Response& res) {
    std::string why;
    if (!CsrfAccepts(req, &why)) {
      PageContext ctx = BeginPage(req, res, *backend);
      return SendActionError(res, ctx, 403, why);
    }
    const std::string queue = req.get_param_value("queue");
    const std::string action = req.get_param_value("action");
    core::MutationType type;
    if (action == "pause") type = core::MutationType::kQueuePause;
    else if (action == "resume") type = core::MutationType::kQueueResume;
    else if (action == "clear") type = core::MutationType::kQueueRemove;
    else {
      PageContext ctx = BeginPage(req, res, *backend);
      return SendActionError(res, ctx, 400, "unknown action '" + action + "'");
    }
    if (queue.empty()) {
      PageContext ctx = BeginPage(req, res, *backend);
      return SendActionError(res, ctx, 400, "no queue named");
    }
    core::OpStatus done;
    absl::Status st = CallShard<core::OpStatus>(
        *backend, 0,
        [type, queue](core::JobService& service) {
          return service.QueueOp(type, core::QueueRecord{{queue}, false});
        },
        &done);
    if (st.ok()) st = done;
    if (!st.ok()) {
      PageContext ctx = BeginPage(req, res, *backend);
      return SendActionError(res, ctx, 503, action + " " + queue + ": " + std::string(st.message()));
    }
    RedirectAfterAction(res, req, "/queues");
  });
}

}  // namespace werk::net::web
