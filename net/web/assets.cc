#include "net/web/assets.h"

namespace werk::net::web {

std::string_view StylesheetText() {
  return R"css(
:root { --fg:#1d2330; --muted:#6b7385; --line:#dde1e8; --bg:#f6f7f9; --card:#fff;
  --accent:#2f6fdb; --ok:#1f8a4c; --bad:#c8372d; --warn:#b7791f; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:18px; padding:10px 20px; background:#1d2330; }
header a { color:#cfd6e4; text-decoration:none; }
header .brand { font-weight:700; font-size:18px; color:#fff; letter-spacing:.5px; }
header nav { display:flex; flex-wrap:wrap; gap:4px; flex:1; }
header nav a { padding:4px 10px; border-radius:4px; }
header nav a.active, header nav a:hover { background:#34405a; color:#fff; }
.status { font-size:12px; padding:2px 8px; border-radius:10px; color:#fff; }
.status.active { background:var(--ok); } .status.idle { background:#59627a; }
ul.summary { list-style:none; display:flex; flex-wrap:wrap; margin:0; padding:10px 20px; gap:8px;
  background:var(--card); border-bottom:1px solid var(--line); }
ul.summary li { flex:1; min-width:110px; text-align:center; }
ul.summary .figure { display:block; font-size:20px; font-weight:600; }
ul.summary .label { color:var(--muted); font-size:12px; text-transform:uppercase; }
main { padding:16px 20px; max-width:1400px; }
h1 { font-size:20px; margin:4px 0 12px; } h2 { font-size:16px; margin:18px 0 8px; }
table { border-collapse:collapse; width:100%; background:var(--card); border:1px solid var(--line); }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef0f4; font-weight:600; font-size:12px; text-transform:uppercase; color:var(--muted); }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; }
pre { white-space:pre-wrap; word-break:break-all; background:#f0f2f5; padding:8px; margin:0; }
.args { max-width:520px; overflow-wrap:anywhere; }
.boxes { display:flex; flex-wrap:wrap; gap:12px; margin-bottom:14px; }
.box { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:10px 14px; min-width:150px; }
.box .figure { font-size:18px; font-weight:600; } .box .label { color:var(--muted); font-size:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:12px; margin-bottom:14px; }
button, .button { font:inherit; padding:3px 10px; border:1px solid #b9c0cc; border-radius:4px;
  background:#fff; cursor:pointer; color:var(--fg); text-decoration:none; }
button:hover { background:#eef2fb; } button.danger { color:var(--bad); border-color:#e3aaa5; }
form.inline { display:inline; }
.badge { display:inline-block; font-size:11px; padding:1px 7px; border-radius:9px; background:#e6e9ef; }
.badge.paused, .badge.quiet { background:#fbe7c6; color:#7a4b00; }
.badge.terminate, .badge.bad { background:#f8d4d1; color:#8a1f17; }
.badge.ok { background:#d3f0de; color:#14633a; }
.error { color:var(--bad); } .muted { color:var(--muted); }
.pager { margin:10px 0; display:flex; gap:8px; align-items:center; }
.toolbar { display:flex; flex-wrap:wrap; gap:8px; align-items:center; margin:8px 0; }
input[type=text], input[type=search], select { font:inherit; padding:3px 6px; border:1px solid #b9c0cc; border-radius:4px; }
canvas { width:100%; height:220px; background:var(--card); border:1px solid var(--line); }
svg.bars { display:block; width:100%; height:140px; background:var(--card); border:1px solid var(--line); margin-bottom:10px; }
svg.bars .p { fill:var(--accent); } svg.bars .f { fill:var(--bad); }
.badge.processed { background:var(--accent); color:#fff; }
footer { padding:16px 20px; color:var(--muted); font-size:12px; }
)css";
}

std::string_view ScriptText() {
  return R"js(
"use strict";
// werk's Web UI: the live chart of the dashboard, the summary bar kept
// current, confirmations before destructive actions, and "select all".
(function () {
  const prefix = document.body.dataset.prefix || "";

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (e) => {
      if (!window.confirm(button.dataset.confirm)) e.preventDefault();
    });
  });
  document.querySelectorAll("input[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      const form = box.closest("form");
      form.querySelectorAll("input[name=key]").forEach((k) => { k.checked = box.checked; });
    });
  });

  const canvas = document.getElementById("live-chart");
  const slider = document.getElementById("poll-interval");
  const label = document.getElementById("poll-label");
  const points = [];  // {processed, failed} per interval
  let last = null;
  let timer = null;

  function setText(id, n) {
    const el = document.getElementById(id);
    if (el) el.textContent = Number(n).toLocaleString("en-US");
  }

  function draw() {
    if (!canvas) return;
    const w = canvas.width = canvas.clientWidth * (window.devicePixelRatio || 1);
    const h = canvas.height = canvas.clientHeight * (window.devicePixelRatio || 1);
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    const max = Math.max(1, ...points.map((p) => Math.max(p.processed, p.failed)));
    ctx.fillStyle = "#6b7385";
    ctx.font = (11 * (window.devicePixelRatio || 1)) + "px sans-serif";
    ctx.fillText(String(max), 4, 12 * (window.devicePixelRatio || 1));
    const line = (key, color) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      ctx.beginPath();
      points.forEach((p, i) => {
        const x = points.length < 2 ? 0 : (i / (points.length - 1)) * (w - 8) + 4;
        const y = h - 4 - (p[key] / max) * (h - 24);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
    };
    line("processed", "#2f6fdb");
    line("failed", "#c8372d");
  }

  async function poll() {
    try {
      const res = await fetch(prefix + "/stats", { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) return;
      const s = await res.json();
      const f = s.faktory;
      setText("sum-processed", f.total_processed);
      setText("sum-failed", f.total_failures);
      setText("sum-busy", f.sets.working);
      setText("sum-enqueued", f.total_enqueued);
      setText("sum-retries", f.sets.retries);
      setText("sum-scheduled", f.sets.scheduled);
      setText("sum-dead", f.sets.dead);
      if (last) {
        points.push({ processed: Math.max(0, f.total_processed - last.processed),
                      failed: Math.max(0, f.total_failures - last.failed) });
        while (points.length > 60) points.shift();
        draw();
      }
      last = { processed: f.total_processed, failed: f.total_failures };
      const ticks = document.getElementById("live-ticks");
      if (ticks) ticks.textContent = String(points.length);
    } catch (e) {
      // The server restarting: the next poll tries again.
    }
  }

  function schedule() {
    if (timer) clearInterval(timer);
    const seconds = slider ? Number(slider.value) : 5;
    if (label) label.textContent = seconds + " s";
    timer = setInterval(poll, seconds * 1000);
  }

  if (canvas) {
    if (slider) slider.addEventListener("input", schedule);
    window.addEventListener("resize", draw);
    poll();
    schedule();
  }
})();
)js";
}

std::string_view IconText() {
  return R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d2330"/><path d="M6 9l4 14 6-10 6 10 4-14" fill="none" stroke="#7fb0ff" stroke-width="3" stroke-linejoin="round" stroke-linecap="round"/></svg>)svg";
}

}  // namespace werk::net::web
