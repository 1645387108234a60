// Worker processes at the protocol edge: HELLO with a wid, BEAT, and what
// the owner of a process decides for its connections here (quiet or
// terminate, no BEAT in time). The processes themselves are
// core::JobService's (core/worker_table.h).

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
  if (service_.OwnsWorker(c->wid_)) return partition_.state().worker_state(c->wid_);
  return c->worker_ ? c->worker_->state : core::WorkerState::kRunning;
}

void Shard::AttachWorker(Connection* c, HelloArgs hello) {
  LocalWorker* w = workers_.GetOrCreate(hello.wid);
  w->connections.push_back(c);
  c->worker_ = w;
  c->wid_ = hello.wid;
  core::WorkerHello process{std::move(hello.wid), std::move(hello.hostname), hello.pid,
                            std::move(hello.labels), hello.v};
  // The HELLO is answered once the owner counted the connection and told
  // its state, so a FETCH right after it already sees quiet/terminate.
  AnswerInOrder<core::WorkerState>(c, service_.AttachWorker(std::move(process)),
                                   [this, c](core::WorkerState state) {
                                     OnWorkerState(c->wid_, state);
                                     ReplyOk(c);
                                   });
}

void Shard::DetachWorker(Connection* c) {
  LocalWorker* w = c->worker_;
  if (!w) return;
  c->worker_ = nullptr;
  auto& v = w->connections;
  v.erase(std::remove(v.begin(), v.end(), c), v.end());
  std::string wid = w->wid;
  if (v.empty()) workers_.Erase(w);
  service_.DetachWorker(std::move(wid));
}

void Shard::CmdBeat(Connection* c, std::string_view arg) {
  BeatArgs beat;
  if (core::OpStatus s = DecodeBeat(decoder_, arg, &beat); !s.ok()) return ReplyStatus(c, s);
  using State = core::OpResult<core::WorkerState>;
  AnswerInOrder<State>(c, service_.Beat(std::move(beat)), [this, c](State state) {
    Reply(c, state.ok() ? BeatReply(*state) : StatusReply(state.status()));
  });
}

void Shard::OnWorkerState(const std::string& wid, core::WorkerState state) {
  LocalWorker* w = workers_.Find(wid);
  if (w && state > w->state) w->state = state;
}

void Shard::OnWorkerExpired(const std::string& wid) {
  LocalWorker* w = workers_.Find(wid);
  if (!w) return;
  const std::vector<Connection*> conns = w->connections;
  for (Connection* c : conns) CloseConnection(c);
}

void Shard::AdoptRecoveredWorkers() { service_.AdoptRecoveredWorkers(); }

}  // namespace werk::net
