// The dashboard: the server's boxes, the live chart of processed and failed
// (drawn by werk.js from /stats), and the history by day.

#include <httplib.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/pending.h"
#include "net/version.h"
#include "net/web/html.h"
#include "net/web/shard_call.h"
#include "net/web/ui.h"
#include "net/web/ui_page.h"

namespace werk::net::web {
namespace {

using History = std::vector<std::pair<int64_t, core::DayCounts>>;  // UTC day -> counts

// Every shard's daily counts, summed by day.
absl::Status ReadHistory(WebBackend& backend, std::map<int64_t, core::DayCounts>* out) {
  for (uint32_t s = 0; s < backend.shard_count(); ++s) {
    History h;
    absl::Status st = CallShard<History>(
        backend, s,
        [](core::JobService& service) {
          const auto& days = service.partition().state().history();
          return core::Pending<History>(History(days.begin(), days.end()));
        },
        &h);
    if (!st.ok()) return st;
    for (const auto& [day, c] : h) {
      (*out)[day].processed += c.processed;
      (*out)[day].failures += c.failures;
    }
  }
  return absl::OkStatus();
}

void Box(std::string& o, const std::string& figure, const char* label) {
  o.append("<div class=\"box\"><div class=\"figure\">");
  AppendEscaped(o, figure);
  o.append("</div><div class=\"label\">").append(label).append("</div></div>");
}

int64_t ResidentMegabytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return int64_t(resident) * 4096 / (1024 * 1024);
}

}  // namespace

void RouteDashboard(httplib::Server& http, WebBackend* backend) {
  http.Get("/", [backend](const httplib::Request& req, httplib::Response& res) {
    PageContext ctx = BeginPage(req, res, *backend);
    int days = 30;
    const std::string asked = req.get_param_value("days");
    for (const int d : {7, 30, 90, 180})
      if (asked == std::to_string(d)) days = d;
    std::string o = "<h1>Dashboard</h1><div class=\"boxes\">";
    Box(o, kWerkVersion, "werk version");
    Box(o, Duration((ctx.now - backend->StartedAt()) / core::kNanosPerSecond), "uptime");
    Box(o, Count(ctx.totals.connections), "connections");
    Box(o, Count(ctx.totals.workers), "worker processes");
    Box(o, Count(ctx.totals.commands), "commands served");
    Box(o, std::to_string(ResidentMegabytes()) + " MB", "memory (resident)");
    Box(o, std::to_string(ctx.shards.size()), "shards");
    o.append("</div>");

    o.append("<h2>Live</h2><div class=\"toolbar\"><label for=\"poll-interval\">poll every</label>");
    o.append("<input type=\"range\" id=\"poll-interval\" min=\"2\" max=\"20\" value=\"5\">");
    o.append("<span id=\"poll-label\">5 s</span><span class=\"muted\">jobs per interval: ");
    o.append("<span class=\"badge processed\">processed</span> ");
    o.append("<span class=\"badge bad\">failed</span> \xC2\xB7 <span id=\"live-ticks\">0</span>");
    o.append(" intervals</span></div><canvas id=\"live-chart\"></canvas>");

    o.append("<h2>History</h2><div class=\"toolbar\">");
    for (const int d : {7, 30, 90, 180}) {
      o.append("<a class=\"button\" href=\"").append(Href(ctx, "/?days=" + std::to_string(d)));
      o.append("\"").append(d == days ? " aria-current=\"true\"" : "").append(">");
      o.append(std::to_string(d)).append(" days</a>");
    }
    o.append("</div>");
    std::map<int64_t, core::DayCounts> history;
    if (absl::Status st = ReadHistory(*backend, &history); !st.ok()) {
      o.append("<p class=\"error\">history unavailable: ");
      AppendEscaped(o, std::string(st.message()));
      o.append("</p>");
    } else {
      const int64_t today = ctx.now / core::kNanosPerSecond / 86400;
      int64_t peak = 1;
      for (int64_t d = today - days + 1; d <= today; ++d) {
        auto it = history.find(d);
        if (it != history.end()) peak = std::max(peak, it->second.processed);
      }
      // Bars in SVG (attributes, not inline styles: the page's CSP allows none).
      o.append("<svg class=\"bars\" id=\"history\" viewBox=\"0 0 ");
      o.append(std::to_string(days * 10)).append(" 124\" preserveAspectRatio=\"none\" role=\"img\">");
      std::string rows;
      for (int64_t d = today - days + 1; d <= today; ++d) {
        const auto it = history.find(d);
        const core::DayCounts c = it == history.end() ? core::DayCounts{} : it->second;
        const std::string date = UtcTime(d * 86400 * core::kNanosPerSecond).substr(0, 10);
        const int64_t x = (d - (today - days + 1)) * 10;
        const int64_t hp = 120 * c.processed / peak, hf = 120 * c.failures / peak;
        o.append("<g><title>").append(date).append(": ").append(Count(uint64_t(c.processed)));
        o.append(" processed, ").append(Count(uint64_t(c.failures))).append(" failed</title>");
        o.append("<rect class=\"p\" x=\"").append(std::to_string(x + 1)).append("\" y=\"");
        o.append(std::to_string(122 - hp)).append("\" width=\"8\" height=\"");
        o.append(std::to_string(hp)).append("\"/><rect class=\"f\" x=\"");
        o.append(std::to_string(x + 1)).append("\" y=\"").append(std::to_string(122 - hf));
        o.append("\" width=\"8\" height=\"").append(std::to_string(hf)).append("\"/></g>");
        if (c.processed > 0 || c.failures > 0) {
          rows.insert(0, "<tr><td>" + date + "</td><td class=\"num\">" +
                             Count(uint64_t(c.processed)) + "</td><td class=\"num\">" +
                             Count(uint64_t(c.failures)) + "</td></tr>");
        }
      }
      o.append("</svg><table class=\"history\"><thead><tr><th>day (UTC)</th>");
      o.append("<th class=\"num\">processed</th><th class=\"num\">failed</th></tr></thead><tbody>");
      o.append(rows.empty() ? "<tr><td colspan=\"3\" class=\"muted\">nothing processed in these days</td></tr>"
                            : rows);
      o.append("</tbody></table>");
    }
    SendPage(res, ctx, "Dashboard", "dashboard", o);
  });
}

}  // namespace werk::net::web
