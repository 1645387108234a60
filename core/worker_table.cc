#include "core/worker_table.h"

#include "core/check.h"

namespace werk::core {

WorkerProcess* WorkerTable::Find(std::string_view wid) const {
  auto it = by_wid_.find(wid);
  return it == by_wid_.end() ? nullptr : it->second.get();
}

WorkerProcess& WorkerTable::GetOrCreate(std::string_view wid) {
  auto it = by_wid_.find(wid);
  if (it != by_wid_.end()) return *it->second;
  auto p = std::make_unique<WorkerProcess>();
  p->wid = std::string(wid);
  WorkerProcess& raw = *p;
  by_wid_.emplace(raw.wid, std::move(p));
  ++version_;
  return raw;
}

void WorkerTable::ArmDeadline(WorkerProcess& p, int64_t mono_ms) {
  deadlines_.Cancel(&p);
  deadlines_.Arm(&p, mono_ms + timeout_ms_);
}

WorkerProcess& WorkerTable::Attach(const WorkerHello& hello, uint32_t from, UnixNanos now,
                                   int64_t mono_ms) {
  WERK_CHECK(from < kShardsMax);
  WorkerProcess& p = GetOrCreate(hello.wid);
  if (p.total_connections() == 0) {
    p.hostname = hello.hostname;
    p.pid = hello.pid;
    p.labels = hello.labels;
    p.version = hello.version;
    p.started_at = now;
    p.last_beat_mono_ms = mono_ms;
    ArmDeadline(p, mono_ms);
  }
  ++p.connections[from];
  return p;
}

WorkerProcess* WorkerTable::Detach(std::string_view wid, uint32_t from) {
  WorkerProcess* p = Find(wid);
  // Unknown, or reaped meanwhile: a detach the owner cannot match.
  if (!p || from >= kShardsMax || p->connections[from] == 0) return nullptr;
  --p->connections[from];
  return p->total_connections() == 0 ? p : nullptr;
}

WorkerProcess* WorkerTable::Beat(const WorkerBeat& beat, int64_t mono_ms) {
  WorkerProcess* p = Find(beat.wid);
  if (!p) return nullptr;
  p->last_beat_mono_ms = mono_ms;
  p->rss_kb = beat.rss_kb;
  ArmDeadline(*p, mono_ms);
  return p;
}

void WorkerTable::Adopt(std::string_view wid, UnixNanos now, int64_t mono_ms) {
  WorkerProcess& p = GetOrCreate(wid);
  p.started_at = now;
  p.last_beat_mono_ms = mono_ms;
  ArmDeadline(p, mono_ms);
}

void WorkerTable::Erase(WorkerProcess* p) {
  deadlines_.Cancel(p);
  const std::string wid = p->wid;
  by_wid_.erase(wid);  // frees *p
  ++version_;
}

}  // namespace werk::core
