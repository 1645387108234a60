#pragma once
// How a command whose result comes later (core::Pending: it ran on other
// shards, or in slices) answers its connection: AnswerInOrder, declared in
// net/shard.h. Results arrive typed (core/op_status.h); this layer renders.

#include <optional>
#include <utility>
#include <vector>

#include "core/check.h"
#include "net/shard.h"

namespace werk::net {

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
