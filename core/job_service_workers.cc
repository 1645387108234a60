// Worker processes across shards (core/job_service.h, core/worker_table.h):
// the owner of a wid keeps the process; other shards hold connections.

#include <spdlog/spdlog.h>

#include "core/job_service.h"

namespace werk::core {

void JobService::TellShard(uint32_t s, std::function<void(WorkerListener&)> fn) {
  if (s == id()) {
    if (listener_) fn(*listener_);
    return;
  }
  JobService* peer = peers_[s];
  runtime_->Post(s, [peer, fn = std::move(fn)] {
    if (peer->listener_) fn(*peer->listener_);
  });
}

// --- HELLO -----------------------------------------------------------------------------------

Pending<WorkerState> JobService::AttachWorker(WorkerHello hello) {
  const uint32_t owner = OwnerOf(hello.wid);
  const uint32_t from = id();
  if (owner == from) return OwnerAttach(hello, from);
  // (When the owner's log failed first the state is kRunning; whatever the
  // caller answers waits for a log that is failing here too, or is refused.)
  return OnShard<WorkerState>(owner, [hello = std::move(hello), from](JobService& s) {
    return s.OwnerAttach(hello, from);
  });
}

WorkerState JobService::OwnerAttach(const WorkerHello& hello, uint32_t from) {
  workers_.Attach(hello, from, runtime_->now(), runtime_->mono_ms());
  return partition_->state().worker_state(hello.wid);
}

// --- Connections closing ---------------------------------------------------------------------

void JobService::DetachWorker(std::string wid) {
  const uint32_t owner = OwnerOf(wid);
  const uint32_t from = id();
  if (owner == from) return OwnerDetach(wid, from);
  // At shutdown every shard stops; the owner needs no news.
  if (stopping_) return;
  JobService* peer = peers_[owner];
  runtime_->Post(owner, [peer, wid = std::move(wid), from] { peer->OwnerDetach(wid, from); });
}

void JobService::OwnerDetach(const std::string& wid, uint32_t from) {
  if (WorkerProcess* p = workers_.Detach(wid, from)) ForgetIfUnused(p);
}

void JobService::ForgetIfUnused(WorkerProcess* p) {
  if (p->total_connections() > 0) return;
  // A clean shutdown keeps quiet/terminate states for the restart.
  if (!stopping_ && partition_->state().worker_state(p->wid) != WorkerState::kRunning &&
      partition_->writable())
    partition_->Commit(Mutation::ForgetWorker(runtime_->now(), p->wid));
  workers_.Erase(p);
}

// --- BEAT ------------------------------------------------------------------------------------

Pending<OpResult<WorkerState>> JobService::Beat(WorkerBeat beat) {
  using State = OpResult<WorkerState>;
  const uint32_t owner = OwnerOf(beat.wid);
  if (owner == id()) return OwnerBeat(beat);
  const std::string wid = beat.wid;
  Pending<State> state =
      OnShard<State>(owner, [beat = std::move(beat)](JobService& s) { return s.OwnerBeat(beat); });
  // This shard holds connections of the process: it learns the state too.
  return Map<State>(std::move(state), [this, wid](State s) {
    if (s.ok() && listener_) listener_->OnWorkerState(wid, *s);
    return s;
  });
}

OpResult<WorkerState> JobService::OwnerBeat(const WorkerBeat& beat) {
  WorkerProcess* p = workers_.Beat(beat, runtime_->mono_ms());
  if (!p) return UnknownWorker(beat.wid);
  WorkerState wanted = WorkerState::kRunning;
  if (beat.current_state == "quiet") wanted = WorkerState::kQuiet;
  if (beat.current_state == "terminate") wanted = WorkerState::kTerminate;
  return MoveWorkerState(p, wanted);
}

OpResult<WorkerState> JobService::MoveWorkerState(WorkerProcess* p, WorkerState wanted) {
  WorkerState state = partition_->state().worker_state(p->wid);
  // The state only moves forward: running -> quiet -> terminate.
  if (wanted <= state) return state;
  if (OpStatus s = partition_->CheckWritable(); !s.ok()) return s;
  partition_->Commit(Mutation::SetWorkerState(runtime_->now(), p->wid, wanted));
  state = wanted;
  // (This shard's connections read the state machine: net/shard_workers.cc.)
  for (uint32_t s = 0; s < peers_.size(); ++s) {
    if (s == id() || p->connections[s] == 0) continue;
    TellShard(s, [wid = p->wid, state](WorkerListener& l) { l.OnWorkerState(wid, state); });
  }
  return state;
}

// --- Heartbeat expiry ------------------------------------------------------------------------

void JobService::FireHeartbeats() {
  WorkerProcess* expired[64];
  while (true) {
    const size_t n = workers_.Expired(runtime_->mono_ms(), expired, 64);
    for (size_t i = 0; i < n; ++i) {
      WorkerProcess* p = expired[i];
      ++worker_stats_.reaped;
      if (p->total_connections() > 0) {
        spdlog::warn("worker {} sent no BEAT in time: closing its {} connection(s)", p->wid,
                     p->total_connections());
      }
      // Every shard closes the connections it holds; their detaches find the
      // process gone.
      for (uint32_t s = 0; s < peers_.size(); ++s) {
        if (p->connections[s] == 0) continue;
        p->connections[s] = 0;
        TellShard(s, [wid = p->wid](WorkerListener& l) { l.OnWorkerExpired(wid); });
      }
      ForgetIfUnused(p);
    }
    if (n < 64) break;
  }
}

void JobService::AdoptRecoveredWorkers() {
  for (const auto& [wid, state] : partition_->state().worker_states())
    workers_.Adopt(wid, runtime_->now(), runtime_->mono_ms());
}

}  // namespace werk::core
