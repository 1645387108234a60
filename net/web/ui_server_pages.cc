// werk's own pages: Cluster (role, epoch, the standby and its lag per
// shard), Storage (the log, group commit, checkpoints per shard) and Cron
// (the table, each entry's next and last tick). Read from the snapshots
// and the cron view only.

#include <httplib.h>

#include "net/web/assets.h"
#include "net/web/html.h"
#include "net/web/probes.h"
#include "net/web/ui.h"
#include "net/web/ui_page.h"

namespace werk::net::web {
namespace {

void Cell(std::string& o, const std::string& text, bool num = false) {
  o.append(num ? "<td class=\"num\">" : "<td>");
  AppendEscaped(o, text);
  o.append("</td>");
}

std::string Millis(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", double(ns) / 1e6);
  return buf;
}

std::string ClusterBody(const PageContext& ctx, const Readiness& r) {
  std::string o = "<h1>Cluster</h1><div class=\"boxes\">";
  auto box = [&](const std::string& figure, const char* label) {
    o.append("<div class=\"box\"><div class=\"figure\">");
    AppendEscaped(o, figure);
    o.append("</div><div class=\"label\">").append(label).append("</div></div>");
  };
  box(r.role, "role");
  box(r.epoch == 0 ? "\xE2\x80\x94" : std::to_string(r.epoch), "epoch");
  box(r.ready ? "ready" : "not ready", "takes writes");
  if (!r.primary.empty()) box(r.primary, "primary");
  o.append("</div>");
  if (!r.reason.empty()) {
    o.append("<p class=\"muted\">");
    AppendEscaped(o, r.reason);
    o.append("</p>");
  }
  bool any = false;
  for (const ShardSummary& s : ctx.shards) any = any || s.has_replication;
  if (!any) {
    o.append("<p class=\"muted\">No replication: this server runs without a standby "
             "(--replication-bind / --replica-of, docs/replication.md).</p>");
    return o;
  }
  o.append("<table id=\"replication\"><thead><tr><th>shard</th><th>role</th><th>peer</th>");
  o.append("<th>link</th><th class=\"num\">acknowledged LSN</th><th class=\"num\">lag (records)</th>");
  o.append("<th>policy</th><th>state</th><th class=\"num\">oldest write waiting</th>");
  o.append("<th class=\"num\">sessions</th></tr></thead><tbody>");
  for (const ShardSummary& s : ctx.shards) {
    if (!s.has_replication) continue;
    const ReplicationSummary& rep = s.replication;
    o.append("<tr>");
    Cell(o, std::to_string(s.id));
    Cell(o, rep.deposed ? "deposed" : rep.standby ? "standby" : "primary");
    Cell(o, rep.deposed ? rep.new_primary : rep.peer);
    o.append(rep.linked ? "<td><span class=\"badge ok\">linked</span></td>"
                        : "<td><span class=\"badge bad\">down</span></td>");
    Cell(o, Count(rep.acked_lsn), true);
    Cell(o, Count(rep.lag), true);
    Cell(o, rep.policy.empty() ? "\xE2\x80\x94" : rep.policy);
    Cell(o, rep.state.empty() ? "\xE2\x80\x94" : rep.state);
    Cell(o, std::to_string(rep.waiting_ms) + " ms", true);
    Cell(o, Count(rep.sessions), true);
    o.append("</tr>");
  }
  o.append("</tbody></table>");
  return o;
}

std::string StorageBody(const PageContext& ctx) {
  std::string o = "<h1>Storage</h1><p class=\"muted\">Each shard has its own write-ahead log "
                  "and checkpoints (docs/running.md \"Durability\").</p>";
  o.append("<table id=\"storage\"><thead><tr><th>shard</th><th class=\"num\">appended LSN</th>");
  o.append("<th class=\"num\">durable LSN</th><th class=\"num\">group commits</th>");
  o.append("<th class=\"num\">records per commit</th><th class=\"num\">bytes logged</th>");
  o.append("<th class=\"num\">segments</th><th class=\"num\">recycled</th>");
  o.append("<th class=\"num\">checkpoints</th><th class=\"num\">last checkpoint LSN</th>");
  o.append("<th class=\"num\">its size</th><th class=\"num\">its pause</th>");
  o.append("<th class=\"num\">longest loop turn</th></tr></thead><tbody>");
  for (const ShardSummary& s : ctx.shards) {
    o.append("<tr>");
    Cell(o, std::to_string(s.id));
    if (!s.has_wal) {
      o.append("<td colspan=\"12\" class=\"muted\">no log</td></tr>");
      continue;
    }
    Cell(o, Count(s.appended_lsn), true);
    Cell(o, Count(s.durable_lsn), true);
    Cell(o, Count(s.syncs), true);
    char per[32];
    std::snprintf(per, sizeof per, "%.1f", s.syncs == 0 ? 0.0 : double(s.durable_lsn) / double(s.syncs));
    Cell(o, per, true);
    Cell(o, Count(s.bytes_appended), true);
    Cell(o, Count(s.segments), true);
    Cell(o, Count(s.segments_recycled), true);
    Cell(o, s.has_checkpoint ? Count(s.checkpoints_taken) : "\xE2\x80\x94", true);
    Cell(o, s.has_checkpoint ? Count(s.checkpoint_lsn) : "\xE2\x80\x94", true);
    Cell(o, s.has_checkpoint ? Count(s.checkpoint_bytes) + " B" : "\xE2\x80\x94", true);
    Cell(o, s.has_checkpoint ? Millis(s.checkpoint_pause_ns) : "\xE2\x80\x94", true);
    Cell(o, Millis(s.loop_longest_ns), true);
    o.append("</tr>");
  }
  o.append("</tbody></table>");
  return o;
}

std::string CronBody(const std::optional<cron::View>& view) {
  std::string o = "<h1>Cron</h1>";
  if (!view) {
    o.append("<p class=\"muted\">No cron table: add [[cron]] entries to conf.d "
             "(docs/cron.md).</p>");
    return o;
  }
  o.append("<p>").append(view->active ? "<span class=\"badge ok\">firing</span>"
                                      : "<span class=\"badge paused\">not firing</span> "
                                        "(a standby, or a primary that cannot write)");
  o.append(" \xC2\xB7 fired ").append(Count(view->fired_total));
  o.append(" \xC2\xB7 missed ").append(Count(view->missed_total));
  o.append(" \xC2\xB7 push failures ").append(Count(view->failed_total)).append("</p>");
  o.append("<table id=\"cron\"><thead><tr><th>entry</th><th>schedule</th><th>zone</th>");
  o.append("<th>job</th><th>queue</th><th>next run (UTC)</th><th>last tick (UTC)</th>");
  o.append("<th>last jid</th><th class=\"num\">late</th><th class=\"num\">fired</th>");
  o.append("<th class=\"num\">missed</th><th>catch up</th></tr></thead><tbody>");
  if (view->entries.empty()) o.append("<tr><td colspan=\"12\" class=\"muted\">no entries</td></tr>");
  for (const cron::EntryView& e : view->entries) {
    o.append("<tr>");
    Cell(o, e.label);
    o.append("<td class=\"mono\">");
    AppendEscaped(o, e.schedule);
    o.append("</td>");
    Cell(o, e.timezone);
    Cell(o, e.jobtype);
    Cell(o, e.queue);
    Cell(o, e.next ? UtcTime(*e.next * core::kNanosPerSecond) : "\xE2\x80\x94");
    Cell(o, e.last ? UtcTime(*e.last * core::kNanosPerSecond) : "\xE2\x80\x94");
    o.append("<td class=\"mono\">");
    AppendEscaped(o, e.last_jid);
    o.append("</td>");
    Cell(o, std::to_string(e.last_late_ms) + " ms", true);
    Cell(o, Count(e.fired), true);
    Cell(o, Count(e.missed), true);
    Cell(o, e.catch_up + " (grace " + std::to_string(e.grace_s) + " s)");
    o.append("</tr>");
  }
  o.append("</tbody></table>");
  return o;
}

}  // namespace

void RouteServerPages(httplib::Server& http, WebBackend* backend) {
  http.Get("/cluster", [backend](const httplib::Request& req, httplib::Response& res) {
    PageContext ctx = BeginPage(req, res, *backend);
    const Readiness r = DecideReadiness(backend->Phase(), ctx.shards);
    SendPage(res, ctx, "Cluster", "cluster", ClusterBody(ctx, r));
  });
  http.Get("/storage", [backend](const httplib::Request& req, httplib::Response& res) {
    PageContext ctx = BeginPage(req, res, *backend);
    SendPage(res, ctx, "Storage", "storage", StorageBody(ctx));
  });
  http.Get("/cron", [backend](const httplib::Request& req, httplib::Response& res) {
    PageContext ctx = BeginPage(req, res, *backend);
    SendPage(res, ctx, "Cron", "cron", CronBody(backend->Cron()));
  });
}

void RouteAssets(httplib::Server& http) {
  // Built into the binary: the version is their ETag, and they may be cached.
  http.Get("/static/werk.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(std::string(StylesheetText()), "text/css; charset=utf-8");
  });
  http.Get("/static/werk.svg", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(std::string(IconText()), "image/svg+xml");
  });
  http.Get("/static/werk.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(std::string(ScriptText()), "text/javascript; charset=utf-8");
  });
}

}  // namespace werk::net::web
