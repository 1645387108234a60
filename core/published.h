#pragma once
// A value one thread publishes and any thread reads (a shard's stats
// snapshot: read by INFO on other shards, and by /metrics and the Web UI
// from their own threads). A reader gets a copy of one whole published
// value, never a mix of two. The publisher builds the next value on its own,
// without the lock, and only swaps it in under it; a reader holds the lock
// for the copy. So the shard never waits for a reader's build, and at most
// for one reader's copy of a snapshot (a few microseconds).
//
// (libstdc++ 12's std::atomic<std::shared_ptr> would avoid the lock, but
// guards its pointer with a bit ThreadSanitizer cannot follow: with it, the
// race detector that checks the rest of werk could not check this.)

#include <mutex>
#include <optional>
#include <utility>

namespace werk::core {

template <class T>
class Published {
 public:
  // The publisher's thread: swaps `value` in, and hands back the value it
  // replaces in `value` (to build the next one into, keeping its memory).
  void Publish(T& value) {
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(value_, value);
    has_value_ = true;
  }
  // Any thread: a copy of the latest value (none before the first Publish).
  std::optional<T> Read() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (!has_value_) return std::nullopt;
    return value_;
  }

 private:
  mutable std::mutex mu_;
  T value_{};
  bool has_value_ = false;
};

}  // namespace werk::core
