// Worker processes across shards: HELLO with a wid, BEAT, heartbeat expiry
// and quiet/terminate (worker_registry.h says who keeps what).
//
// Messages, all through the mailbox:
//   attach  shard -> owner   a connection of the process opened here (HELLO
//                            waits for the owner's answer: the current state);
//   detach  shard -> owner   one closed here (one-way);
//   beat    shard -> owner   BEAT, answered by the owner;
//   state   owner -> shards  the state moved to quiet or terminate (one-way);
//   close   owner -> shards  no BEAT for 60 s: close the process's connections.
// Messages between two shards arrive in the order sent, so a shard's detach
// never overtakes its attach; a detach the owner cannot match (the entry was
// reaped meanwhile) is ignored.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

namespace {

std::string_view StateName(core::WorkerState s) {
  switch (s) {
    case core::WorkerState::kQuiet: return "quiet";
    case core::WorkerState::kTerminate: return "terminate";
    case core::WorkerState::kRunning: break;
  }
  return "";
}

// The BEAT reply for a state.
std::string BeatReply(core::WorkerState state) {
  if (state == core::WorkerState::kRunning) return std::string(kOkReply);
  std::string body = "{\"state\":\"";
  body.append(StateName(state));
  body.append("\"}");
  std::string out;
  AppendBulk(out, body);
  return out;
}

}  // namespace

core::WorkerState Shard::WorkerStateOf(const Connection* c) const {
  if (OwnerOf(c->wid_) == id_) return partition_.state().worker_state(c->wid_);
  return c->worker_ ? c->worker_->state : core::WorkerState::kRunning;
}

// --- HELLO -----------------------------------------------------------------------------------

void Shard::AttachWorker(Connection* c, HelloArgs hello) {
  const uint32_t owner = OwnerOf(hello.wid);
  if (owner == id_) {
    OwnerAttach(hello, id_);
  } else {
    bool created = false;
    workers_.GetOrCreate(hello.wid, &created);
  }
  WorkerProcess* w = workers_.Find(hello.wid);
  w->connections.push_back(c);
  c->worker_ = w;
  c->wid_ = hello.wid;
  if (owner == id_) return ReplyOk(c);
  // The HELLO is answered once the owner counted the connection and told
  // its state, so a FETCH right after it already sees quiet/terminate.
  const uint32_t from = id_;
  std::vector<std::pair<uint32_t, PartFn<core::WorkerState>>> calls;
  calls.emplace_back(owner, [hello = std::move(hello), from](Shard& s) {
    return s.OwnerAttach(hello, from);
  });
  // (When the owner's log failed the state is kRunning and the reply is that error.)
  StartFanOut<core::WorkerState>(
      c, std::move(calls),
      [this, wid = c->wid_](std::vector<core::WorkerState>& r) -> std::optional<std::string> {
        LearnWorkerState(wid, r[0]);
        return std::string(kOkReply);
      });
}

core::WorkerState Shard::OwnerAttach(const HelloArgs& hello, uint32_t from) {
  bool created = false;
  WorkerProcess* w = workers_.GetOrCreate(hello.wid, &created);
  if (w->total_connections() == 0) {
    // A new process (or one known only from the log, coming back).
    w->hostname = hello.hostname;
    w->pid = hello.pid;
    w->labels = hello.labels;
    w->version = hello.v;
    w->started_at = now();
    w->last_beat_mono_ms = mono_ms();
    conn_timers_.Cancel(&w->heartbeat);
    conn_timers_.Arm(&w->heartbeat, mono_ms() + options_.heartbeat_timeout_s * 1000);
  }
  if (from != id_) ++w->remote_connections[from];
  return partition_.state().worker_state(hello.wid);
}

// --- Connections closing ---------------------------------------------------------------------

void Shard::DetachWorker(Connection* c) {
  WorkerProcess* w = c->worker_;
  if (!w) return;
  c->worker_ = nullptr;
  auto& v = w->connections;
  v.erase(std::remove(v.begin(), v.end(), c), v.end());
  const uint32_t owner = OwnerOf(w->wid);
  if (owner == id_) return ForgetIfUnused(w);
  const std::string wid = w->wid;
  if (v.empty()) workers_.Erase(w);
  // At shutdown every shard stops; the owner needs no news.
  if (shutting_down_) return;
  const uint32_t from = id_;
  Notify(owner, [wid, from](Shard& s) { s.OwnerDetach(wid, from); });
}

void Shard::OwnerDetach(const std::string& wid, uint32_t from) {
  WorkerProcess* w = workers_.Find(wid);
  if (!w || w->remote_connections[from] == 0) return;
  --w->remote_connections[from];
  ForgetIfUnused(w);
}

void Shard::ForgetIfUnused(WorkerProcess* w) {
  if (w->total_connections() > 0) return;
  conn_timers_.Cancel(&w->heartbeat);
  // A clean shutdown keeps quiet/terminate states for the restart.
  if (!shutting_down_ && partition_.state().worker_state(w->wid) != core::WorkerState::kRunning &&
      partition_.writable())
    partition_.Commit(core::Mutation::ForgetWorker(now(), w->wid));
  workers_.Erase(w);
}

// --- BEAT ------------------------------------------------------------------------------------

void Shard::CmdBeat(Connection* c, std::string_view arg) {
  BeatArgs beat;
  if (!DecodeBeat(decoder_, arg, &beat).ok()) {
    return ReplyError(c, "invalid BEAT " + std::string(arg.substr(0, 1024)));
  }
  const uint32_t owner = OwnerOf(beat.wid);
  if (owner == id_) {
    const core::OpResult<core::WorkerState> state = OwnerBeat(beat);
    return Reply(c, state.ok() ? BeatReply(*state) : StatusReply(state.status()));
  }
  using State = core::OpResult<core::WorkerState>;
  std::vector<std::pair<uint32_t, PartFn<State>>> calls;
  calls.emplace_back(owner, [beat = std::move(beat)](Shard& s) { return s.OwnerBeat(beat); });
  StartFanOut<State>(
      c, std::move(calls), [this, wid = beat.wid](std::vector<State>& r) -> std::optional<std::string> {
        if (!r[0].ok()) return StatusReply(r[0].status());
        // A shard with connections of the process learns the state here too.
        LearnWorkerState(wid, *r[0]);
        return BeatReply(*r[0]);
      });
}

core::OpResult<core::WorkerState> Shard::OwnerBeat(const BeatArgs& beat) {
  WorkerProcess* w = workers_.Find(beat.wid);
  if (!w) return core::UnknownWorker(beat.wid);
  w->last_beat_mono_ms = mono_ms();
  w->rss_kb = beat.rss_kb;
  conn_timers_.Cancel(&w->heartbeat);
  conn_timers_.Arm(&w->heartbeat, mono_ms() + options_.heartbeat_timeout_s * 1000);
  core::WorkerState state = partition_.state().worker_state(w->wid);
  // The state only moves forward: running -> quiet -> terminate.
  core::WorkerState wanted = state;
  if (beat.current_state == "quiet") wanted = core::WorkerState::kQuiet;
  if (beat.current_state == "terminate") wanted = core::WorkerState::kTerminate;
  if (wanted > state) {
    if (core::OpStatus s = partition_.CheckWritable(); !s.ok()) return s;
    partition_.Commit(core::Mutation::SetWorkerState(now(), w->wid, wanted));
    state = wanted;
    for (uint32_t s = 0; s < shard_count(); ++s) {
      if (s == id_ || w->remote_connections[s] == 0) continue;
      Notify(s, [wid = w->wid, state](Shard& peer) { peer.LearnWorkerState(wid, state); });
    }
  }
  return state;
}

void Shard::LearnWorkerState(const std::string& wid, core::WorkerState state) {
  WorkerProcess* w = workers_.Find(wid);
  if (w && state > w->state) w->state = state;
}

// --- Heartbeat expiry ------------------------------------------------------------------------

void Shard::OnHeartbeatExpired(WorkerProcess* w) {
  ++stats_.workers_reaped;
  if (w->total_connections() > 0) {
    spdlog::warn("worker {} sent no BEAT for {} s: closing its {} connection(s)", w->wid,
                 options_.heartbeat_timeout_s, w->total_connections());
  }
  for (uint32_t s = 0; s < shard_count(); ++s) {
    if (w->remote_connections[s] == 0) continue;
    w->remote_connections[s] = 0;
    Notify(s, [wid = w->wid](Shard& peer) { peer.CloseWorkerConnections(wid); });
  }
  const std::vector<Connection*> conns = w->connections;
  if (conns.empty()) return ForgetIfUnused(w);  // e.g. known only from the log
  for (Connection* c : conns) CloseConnection(c);  // the last one forgets the worker
}

void Shard::CloseWorkerConnections(const std::string& wid) {
  WorkerProcess* w = workers_.Find(wid);
  if (!w) return;
  const std::vector<Connection*> conns = w->connections;
  for (Connection* c : conns) CloseConnection(c);
}

void Shard::AdoptRecoveredWorkers() {
  for (const auto& [wid, state] : partition_.state().worker_states()) {
    bool created = false;
    WorkerProcess* w = workers_.GetOrCreate(wid, &created);
    w->started_at = now();
    w->last_beat_mono_ms = mono_ms();
    conn_timers_.Cancel(&w->heartbeat);
    conn_timers_.Arm(&w->heartbeat, mono_ms() + options_.heartbeat_timeout_s * 1000);
  }
}

}  // namespace werk::net
