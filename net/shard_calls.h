#pragma once
// The shard's typed cross-shard calls (declared in net/shard.h):
// StartFanOut (worker processes) and AnswerInOrder. Values cross shards as core/op_status.h types
// inside core/shard_call.h tasks; this layer renders them as replies.

#include <optional>
#include <utility>
#include <vector>

#include "core/check.h"
#include "net/shard.h"

namespace werk::net {

template <class T>
struct Shard::FanOut {
  Connection* conn;
  size_t pending;
  std::vector<T> values;
  Combine<T> combine;
  bool abandoned = false;  // a part's log failed: the reply is that error
};

template <class T>
void Shard::StartFanOut(Connection* c, std::vector<std::pair<uint32_t, PartFn<T>>> calls,
                        Combine<T> combine, HoldFn<T> hold) {
  auto* f = new FanOut<T>{c, calls.size(), std::vector<T>(calls.size()), std::move(combine)};
  c->awaiting_remote_ = true;
  ++c->inflight_;  // the connection outlives the fan-out
  // Remote parts first, so they run while the local part does.
  for (size_t i = 0; i < calls.size(); ++i) {
    const uint32_t target = calls[i].first;
    if (target == id_) continue;
    Shard* peer = peers_[target];
    runtime_.Call(
        target, [peer, fn = std::move(calls[i].second)] { return fn(*peer); },
        [this, f, i](T value, bool abandoned) { OnFanOutPart(f, i, std::move(value), abandoned); },
        [hold](const T& value) { return !hold || hold(value); });
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].first != id_) continue;
    OnFanOutPart(f, i, calls[i].second(*this), /*abandoned=*/false);
  }
}

template <class T>
void Shard::OnFanOutPart(FanOut<T>* f, size_t index, T value, bool abandoned) {
  f->values[index] = abandoned ? core::AbandonedResult<T>() : std::move(value);
  f->abandoned |= abandoned;
  if (--f->pending > 0) return;
  Connection* c = f->conn;
  // The combine may start a further fan-out on the same connection; this one
  // lets go of the connection only after that. It runs even when a part was
  // abandoned, so what it tracks (e.g. the global operation in flight) ends.
  std::optional<std::string> reply = f->combine(f->values);
  const bool failed = f->abandoned;
  delete f;
  EndFanOut(c, std::move(reply), failed);
}

template <class T>
void Shard::AnswerInOrder(Connection* c, core::Pending<T> result, std::function<void(T)> render) {
  if (result.ready()) return render(std::move(result.value()));
  c->awaiting_remote_ = true;
  ++c->inflight_;  // the connection outlives the operation
  result.Then([this, c, render = std::move(render)](T value) {
    --c->inflight_;
    c->awaiting_remote_ = false;
    if (c->closing()) return MaybeFinishClose(c);  // its client is gone
    render(std::move(value));
    ProcessInput(c);
  });
}

}  // namespace werk::net
