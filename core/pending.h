#pragma once
// The result of an operation that runs on the shard owning its job
// (core/job_service.h): ready at once when that is the calling shard, or
// delivered later, on the calling shard's thread, when it ran on another.
//
//   Pending<OpStatus> r = service.Ack(jid);
//   if (r.ready()) Show(r.value());          // ran here
//   else r.Then([](OpStatus s) { Show(s); });  // runs when it comes back
//
// A ready result depends on what this shard just logged: whoever shows it
// to a client waits until this shard's log is durable through its appended
// LSN as of now. A result that comes back later is durable on its owner.
//
// The continuation must be attached before the calling thread returns to its
// loop (results from other shards arrive through the loop, so none can come
// sooner). Only a result that is not ready allocates (its shared state).
// Thread affinity: the calling shard's thread.

#include <memory>
#include <optional>
#include <utility>

#include <absl/functional/any_invocable.h>

#include "core/check.h"

namespace werk::core {

template <class T>
class Promise;

template <class T>
class Pending {
 public:
  // Ready.
  Pending(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like a return value

  bool ready() const { return value_.has_value(); }
  T& value() {
    WERK_DCHECK(ready());
    return *value_;
  }
  // Not ready: `fn` gets the result once it comes back.
  void Then(absl::AnyInvocable<void(T)> fn) {
    WERK_CHECK(!ready() && state_ && !state_->then);
    state_->then = std::move(fn);
  }

 private:
  friend class Promise<T>;
  struct State {
    absl::AnyInvocable<void(T)> then;
  };
  explicit Pending(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::optional<T> value_;
  std::shared_ptr<State> state_;
};

// The producing side of a Pending that is not ready.
template <class T>
class Promise {
 public:
  Promise() : state_(std::make_shared<typename Pending<T>::State>()) {}
  Pending<T> pending() const { return Pending<T>(state_); }
  // Delivers the result to the continuation (there must be one by now).
  void Set(T value) {
    WERK_CHECK(state_->then);
    auto then = std::move(state_->then);
    then(std::move(value));
  }

 private:
  std::shared_ptr<typename Pending<T>::State> state_;
};

// Pending<U> from a Pending<T> and `f(T) -> U`: at once if `p` is ready.
template <class U, class T, class F>
Pending<U> Map(Pending<T> p, F f) {
  if (p.ready()) return Pending<U>(f(std::move(p.value())));
  Promise<U> next;
  Pending<U> out = next.pending();
  p.Then([next, f = std::move(f)](T value) mutable { next.Set(f(std::move(value))); });
  return out;
}

// Pending<U> from a Pending<T> and `f(T) -> Pending<U>` (a second operation
// started with the first one's result).
template <class U, class T, class F>
Pending<U> Chain(Pending<T> p, F f) {
  if (p.ready()) return f(std::move(p.value()));
  Promise<U> next;
  Pending<U> out = next.pending();
  p.Then([next, f = std::move(f)](T value) mutable {
    Pending<U> inner = f(std::move(value));
    if (inner.ready()) return next.Set(std::move(inner.value()));
    inner.Then([next](U u) mutable { next.Set(std::move(u)); });
  });
  return out;
}

}  // namespace werk::core
