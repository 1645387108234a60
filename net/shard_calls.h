#pragma once
// The shard's typed cross-shard calls (declared in net/shard.h):
// StartFanOut and RunOnAll. Values cross shards as core/op_status.h types
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
void Shard::RunOnAll(Connection* c, PartFn<T> fn, Combine<T> combine) {
  if (peers_.size() <= 1) {
    std::vector<T> values;
    values.push_back(fn(*this));
    if (std::optional<std::string> reply = combine(values)) Reply(c, *reply);
    return;
  }
  std::vector<std::pair<uint32_t, PartFn<T>>> calls;
  for (uint32_t i = 0; i < peers_.size(); ++i) calls.emplace_back(i, fn);
  StartFanOut<T>(c, std::move(calls), std::move(combine));
}

}  // namespace werk::net
